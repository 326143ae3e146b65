package plan

import (
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/mount"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// check is one invariant of DESIGN.md §3.4 over the final request. Each
// answers one question and returns one refusal per violation.
type check struct {
	name string
	fn   func(p *request.Plan, pol *policy.Policy, f Facts) []string
}

// checks run on every final request, whatever produced it. They repeat
// what the planning steps ensure on purpose: a planning bug, an admin's
// always/default flag or a flag nobody thought of cannot slip past them.
var checks = []check{
	{"privileged", checkPrivileged},
	{"user", checkUser},
	{"capabilities", checkCaps},
	{"security-opt", checkSecurityOpt},
	{"namespaces", checkNamespaces},
	{"devices", checkDevices},
	{"mounts", checkMounts},
	{"runtime", checkRuntime},
	{"cgroups", checkCgroups},
	{"gpus-env", checkGPUEnv},
	{"labels", checkLabels},
	{"name", checkName},
	{"resources", checkResources},
}

// Check returns every violation of userdocker's invariants in p.
func Check(p *request.Plan, pol *policy.Policy, f Facts) []error {
	var errs []error
	for _, c := range checks {
		for _, msg := range c.fn(p, pol, f) {
			errs = append(errs, &Refusal{Rule: c.name, Msg: msg})
		}
	}
	return errs
}

func checkPrivileged(p *request.Plan, _ *policy.Policy, _ Facts) []string {
	if p.Host.Privileged {
		return []string{"--privileged is not allowed on this system"}
	}
	return nil
}

func checkUser(p *request.Plan, pol *policy.Policy, f Facts) []string {
	if !pol.Run.EnforceUser {
		return nil
	}
	var out []string
	want := strconv.FormatUint(uint64(f.Caller.UID), 10) + ":" + strconv.FormatUint(uint64(f.Caller.GID), 10)
	if p.Config.User != want {
		out = append(out, "the container must run as "+want+", not "+strconv.Quote(p.Config.User))
	}
	for _, g := range p.Host.GroupAdd {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil || !slices.Contains(f.Caller.Groups, uint32(n)) {
			out = append(out, "group "+strconv.Quote(g)+" is not one of yours")
		}
	}
	return out
}

// normCap spells a capability as Docker's API does: upper case with CAP_.
func normCap(c string) string {
	c = strings.ToUpper(c)
	if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

func containsCap(list []string, c string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return normCap(x) == normCap(c) })
}

func checkCaps(p *request.Plan, pol *policy.Policy, _ Facts) []string {
	var out []string
	for _, c := range p.Host.CapAdd {
		if !containsCap(pol.Run.CapAdd, c) {
			out = append(out, "--cap-add "+c+" is not allowed on this system")
		}
	}
	for _, c := range pol.Run.CapDrop {
		if !containsCap(p.Host.CapDrop, c) {
			out = append(out, "capability "+c+" must be dropped on this system")
		}
	}
	return out
}

func checkSecurityOpt(p *request.Plan, pol *policy.Policy, _ Facts) []string {
	var out []string
	for _, o := range p.Host.SecurityOpt {
		if o != "no-new-privileges" && o != "no-new-privileges:true" && o != "no-new-privileges=true" {
			out = append(out, "--security-opt "+o+" is not allowed on this system")
		}
	}
	if pol.Run.NoNewPrivileges && len(p.Host.SecurityOpt) == 0 {
		out = append(out, "no-new-privileges must be set on this system")
	}
	return out
}

func checkNamespaces(p *request.Plan, _ *policy.Policy, _ Facts) []string {
	var out []string
	h := p.Host
	if h.PidMode != "" {
		out = append(out, "--pid="+string(h.PidMode)+" is not allowed on this system: containers get their own PID namespace")
	}
	if !allowedIPC[h.IpcMode] {
		out = append(out, "--ipc="+string(h.IpcMode)+" is not allowed on this system: containers get their own IPC namespace")
	}
	if h.NetworkMode.IsHost() || h.NetworkMode.IsContainer() {
		out = append(out, "--network="+string(h.NetworkMode)+" is not allowed on this system: containers get their own network namespace")
	}
	if h.UTSMode != "" {
		out = append(out, "--uts="+string(h.UTSMode)+" is not allowed on this system")
	}
	if h.UsernsMode != "" {
		out = append(out, "--userns="+string(h.UsernsMode)+" is not allowed on this system")
	}
	if h.CgroupnsMode != "" && h.CgroupnsMode != "private" {
		out = append(out, "--cgroupns="+string(h.CgroupnsMode)+" is not allowed on this system")
	}
	if len(h.VolumesFrom) > 0 {
		out = append(out, "--volumes-from is not allowed on this system")
	}
	if len(h.Links) > 0 {
		out = append(out, "--link is not allowed on this system: it reaches into other containers")
	}
	if h.Cgroup != "" {
		out = append(out, "sharing another container's cgroup is not allowed on this system")
	}
	return out
}

func checkDevices(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	res := p.Host.Resources
	for _, d := range res.Devices {
		out = append(out, "--device "+d.PathOnHost+" is not allowed on this system")
	}
	for _, r := range res.DeviceCgroupRules {
		out = append(out, "--device-cgroup-rule "+strconv.Quote(r)+" is not allowed on this system")
	}
	for _, dr := range res.DeviceRequests {
		if dr.Driver != "nvidia" || dr.Count != 0 || len(f.GPUs) == 0 || !slices.Equal(dr.DeviceIDs, f.GPUs) {
			out = append(out, "device requests other than your granted GPUs are not allowed on this system")
		}
	}
	return out
}

func checkMounts(p *request.Plan, _ *policy.Policy, f Facts) []string {
	var out []string
	h := p.Host
	if len(h.Binds) > 0 {
		out = append(out, "bind mounts must come from the site's policy")
	}
	if h.VolumeDriver != "" {
		out = append(out, "--volume-driver is not allowed on this system")
	}
	for _, m := range h.Mounts {
		if m.Type != mount.TypeBind {
			out = append(out, "--mount type="+string(m.Type)+" is not allowed on this system")
			continue
		}
		if m.VolumeOptions != nil || m.TmpfsOptions != nil || (m.BindOptions != nil && m.BindOptions.Propagation != "") {
			out = append(out, "mount options for "+m.Target+" are not allowed on this system")
		}
		if !resolvedSource(m.Source, f) {
			out = append(out, "mount source "+m.Source+" is not a path the site's policy allows")
		}
	}
	if len(h.StorageOpt) > 0 {
		out = append(out, "--storage-opt is not allowed on this system")
	}
	return out
}

// resolvedSource reports whether src is the resolved form of a path the
// edge looked up: only such paths can reach a mount.
func resolvedSource(src string, f Facts) bool {
	for _, pf := range f.Paths {
		if pf.Err == nil && pf.Resolved == src && len(pf.Replaceable) == 0 {
			return true
		}
	}
	return false
}

func checkRuntime(p *request.Plan, pol *policy.Policy, f Facts) []string {
	rt := p.Host.Runtime
	if rt == "" || (rt == "nvidia" && pol.GPU.Delivery == "nvidia-runtime" && len(f.GPUs) > 0) {
		if p.Host.Isolation != "" && p.Host.Isolation != "default" {
			return []string{"--isolation is not allowed on this system"}
		}
		if len(p.Host.Annotations) > 0 {
			return []string{"--annotation is not allowed on this system: annotations reach the OCI runtime"}
		}
		return nil
	}
	return []string{"--runtime=" + rt + " is not allowed on this system"}
}

func checkCgroups(p *request.Plan, _ *policy.Policy, _ Facts) []string {
	var out []string
	if p.Host.CgroupParent != "" {
		out = append(out, "--cgroup-parent is not allowed on this system")
	}
	if len(p.Host.Sysctls) > 0 {
		out = append(out, "--sysctl is not allowed on this system")
	}
	return out
}

func checkGPUEnv(p *request.Plan, _ *policy.Policy, f Facts) []string {
	want := EnvVisibleDevices + "=" + visibleDevices(f.GPUs)
	var found []string
	for _, kv := range p.Config.Env {
		k, _, _ := strings.Cut(kv, "=")
		if reservedEnv[k] {
			found = append(found, kv)
		}
	}
	if len(found) != 1 || found[0] != want {
		return []string{"the container's GPU environment must be exactly " + want}
	}
	return nil
}

func checkLabels(p *request.Plan, _ *policy.Policy, f Facts) []string {
	if p.Config.Labels[LabelUID] != strconv.FormatUint(uint64(f.Caller.UID), 10) || p.Config.Labels[LabelUser] != f.Caller.Name {
		return []string{"the container's owner labels do not name you"}
	}
	if f.Job != nil && p.Config.Labels[LabelJob] != f.Job.ID {
		return []string{"the container's job label does not name your job"}
	}
	return nil
}

func checkName(p *request.Plan, _ *policy.Policy, f Facts) []string {
	if !strings.HasPrefix(p.Name, f.Caller.Name+"-") {
		return []string{"the container name must start with " + f.Caller.Name + "-"}
	}
	return nil
}

// checkResources refuses what lets a container hurt the node or outlive
// its job's limits: an OOM-proof container, real-time scheduling, and
// anything beyond the job's CPUs or memory.
func checkResources(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	res := p.Host.Resources
	if res.OomKillDisable != nil && *res.OomKillDisable {
		out = append(out, "--oom-kill-disable is not allowed on this system")
	}
	if p.Host.OomScoreAdj < 0 {
		out = append(out, "--oom-score-adj below 0 is not allowed on this system")
	}
	if res.CPURealtimePeriod != 0 || res.CPURealtimeRuntime != 0 {
		out = append(out, "real-time CPU scheduling is not allowed on this system")
	}
	if f.Job != nil {
		if pol.Slurm.ConfineCPUs && f.Job.CPUs != "" && !cpusetSubset(res.CpusetCpus, f.Job.CPUs) {
			out = append(out, "the container's CPUs "+strconv.Quote(res.CpusetCpus)+" are not within your job's "+f.Job.CPUs)
		}
		if pol.Slurm.ConfineMemory && f.Job.MemoryBytes > 0 && (res.Memory <= 0 || res.Memory > f.Job.MemoryBytes || res.MemorySwap != res.Memory) {
			out = append(out, "the container's memory limit must be within your job's")
		}
	}
	return out
}
