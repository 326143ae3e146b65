package plan

import (
	"strings"

	"github.com/docker/go-units"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// What differs between container engines, for the plan: the edge tells
// which daemon docker_host is (Facts.Daemon, nil before it asked), and
// the final request is judged for it. The engine's own differences
// (waits, attach errors, stop signals) are internal/engine's.

// CDIKind is the CDI vendor and class of the devices userdocker asks for
// with gpu.delivery = "cdi": what NVIDIA's nvidia-ctk names GPUs and MIG
// devices alike ("nvidia.com/gpu=GPU-<uuid>", "nvidia.com/gpu=MIG-<uuid>").
const CDIKind = "nvidia.com/gpu"

// CDIName is the qualified CDI device name of a granted GPU or MIG
// device, by its UUID; ok is false for an ID that is not a UUID (an
// index, where the node has no NVML): CDI specs name indices by NVML's
// order, which need not be Slurm's, so an index is never delivered.
func CDIName(id string) (name string, ok bool) {
	if !strings.HasPrefix(id, "GPU-") && !strings.HasPrefix(id, "MIG-") {
		return "", false
	}
	return CDIKind + "=" + id, true
}

// cdiNames are the CDI names of gpus; the IDs that are no UUIDs are in
// bad.
func cdiNames(gpus []string) (names, bad []string) {
	for _, id := range gpus {
		if n, ok := CDIName(id); ok {
			names = append(names, n)
		} else {
			bad = append(bad, id)
		}
	}
	return names, bad
}

// planDaemon adapts the request to what the daemon does unasked. Podman
// takes a request without limits as a container with its
// containers.conf default_ulimits; but once a request sets any limit
// (the user's --ulimit, the site's), Podman raises nofile and nproc, if
// the request leaves them out, to 1048576 and more: past the caller's
// own, and failing where root lacks CAP_SYS_RESOURCE (measured on
// 4.3.1). Such a request then gives them too, at the caller's own hard
// limits.
func planDaemon(_ *request.Run, _ *policy.Policy, f Facts, p *request.Plan) []error {
	if f.Daemon == nil || !f.Daemon.RaisesRlimits() || len(p.Host.Ulimits) == 0 {
		return nil
	}
	for _, name := range []string{"nofile", "nproc"} {
		given := false
		for _, u := range p.Host.Ulimits {
			given = given || u != nil && u.Name == name
		}
		hard, known := f.HardLimits[name]
		if given || !known {
			continue
		}
		v := int64(-1)
		if hard != Unlimited {
			v = int64(hard)
		}
		p.Host.Ulimits = append(p.Host.Ulimits, &units.Ulimit{Name: name, Soft: v, Hard: v})
	}
	return nil
}

// checkDaemon refuses what the daemon would not do as asked: deliver
// the granted GPUs (Podman before 5.5 drops device requests without a
// word, and the container would run without its GPUs; only a CDI-capable
// daemon takes gpu.delivery = "cdi").
func checkDaemon(p *request.Plan, pol *policy.Policy, f Facts) []string {
	d := f.Daemon
	if d == nil {
		return nil
	}
	var out []string
	gpus := len(p.Host.DeviceRequests) > 0 || p.Host.Runtime == "nvidia"
	switch {
	case !gpus:
	case pol.GPU.Delivery == "cdi" && !d.CDI:
		out = append(out, "GPUs cannot be delivered here: gpu.delivery is \"cdi\", and "+d.Name()+" does not inject CDI devices ("+cdiNeeds(*d)+"); ask your administrator")
	case pol.GPU.Delivery != "cdi" && d.Podman():
		out = append(out, "GPUs cannot be delivered by "+d.Name()+" with gpu.delivery = \""+pol.GPU.Delivery+"\" (Podman ignores NVIDIA device requests and runtimes over the Docker API; it takes CDI requests from "+request.PodmanCDIVersion+" on): ask your administrator")
	}
	return out
}

// CheckDetachKeys refuses exec's --detach-keys on a daemon that does not
// act on them, and would hand them to the process. (run and attach detach
// on userdocker's side there; an exec's process is not known to outlive
// the connection that userdocker would close.)
func CheckDetachKeys(d request.Daemon, keys string) error {
	if keys == "" || d.DetachKeys() {
		return nil
	}
	return refusal.New("daemon", "exec --detach-keys is not supported with %s: it does not act on detach keys; use exec -d, or leave the process", d.Name())
}

// cdiNeeds says what a daemon without CDI would need.
func cdiNeeds(d request.Daemon) string {
	if d.Podman() {
		return "Podman takes CDI device requests from " + request.PodmanCDIVersion + " on"
	}
	return "Docker needs 25 or later with its cdi feature on, the default from 28.2"
}
