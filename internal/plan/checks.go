package plan

import (
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"

	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/rangelist"
	"github.com/userdocker/userdocker/internal/refusal"
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
// With f.Image they judge the request together with what Docker takes
// from the image (see merge.go). coverage_test.go lists, field by field of
// the Docker API request, which check covers it or why none does.
var checks = []check{
	{"privileged", checkPrivileged},
	{"user", checkUser},
	{"capabilities", checkCaps},
	{"security-opt", checkSecurityOpt},
	{"namespaces", checkNamespaces},
	{"network", checkNetwork},
	{"devices", checkDevices},
	{"mounts", checkMounts},
	{"tmpfs", checkTmpfs},
	{"volumes", checkVolumes},
	{"runtime", checkRuntime},
	{"cgroups", checkCgroups},
	{"gpus-env", checkGPUEnv},
	{"loader-env", checkLoaderEnv},
	{"image", checkImage},
	{"labels", checkLabels},
	{"name", checkName},
	{"publish", checkPublish},
	{"logging", checkLogging},
	{"restart", checkRestart},
	{"stop-timeout", checkStopTimeout},
	{"healthcheck", checkHealthcheck},
	{"ulimits", checkUlimits},
	{"resources", checkResources},
	{"sizes", checkSizes},
	{"cidfile", checkCIDFile},
	{"daemon", checkDaemon},
}

// Check returns every violation of userdocker's invariants in p.
func Check(p *request.Plan, pol *policy.Policy, f Facts) []error {
	var errs []error
	for _, c := range checks {
		for _, msg := range c.fn(p, pol, f) {
			errs = append(errs, &refusal.Refusal{Rule: c.name, Msg: msg})
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

// checkSecurityOpt allows no security options but no-new-privileges, and
// the daemon's own masked and read-only /proc and /sys paths only: an
// empty list in the request would unmask them (what
// --security-opt systempaths=unconfined asks for).
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
	if p.Host.MaskedPaths != nil || p.Host.ReadonlyPaths != nil {
		out = append(out, "the container's masked and read-only paths must be the daemon's defaults (--security-opt systempaths=unconfined is not allowed on this system)")
	}
	return out
}

// checkNamespaces: the container gets namespaces of its own, except the
// host's network and IPC namespaces where the policy offers them
// (run.host_namespaces) and the caller is in a job; never another
// container's.
func checkNamespaces(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	h := p.Host
	if h.PidMode != "" {
		out = append(out, "--pid="+string(h.PidMode)+" is not allowed on this system: containers get their own PID namespace")
	}
	for _, ns := range hostNamespaceFlags {
		if ns.asks(h) {
			if msg := hostNamespaceRefusal(pol, f, ns); msg != "" {
				out = append(out, msg)
			}
		}
	}
	if !allowedIPC[h.IpcMode] && !h.IpcMode.IsHost() {
		out = append(out, "--ipc="+string(h.IpcMode)+" is not allowed on this system: containers get their own IPC namespace")
	}
	if h.NetworkMode.IsContainer() {
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

// checkNetwork judges which network the container joins (the default
// bridge or none, others as the site allows --network) and refuses every
// address, MAC address or name the container would pick for itself on it:
// on a shared network they can be another user's container's, and take its
// traffic or its name.
func checkNetwork(p *request.Plan, pol *policy.Policy, _ Facts) []string {
	var out []string
	mode := p.Host.NetworkMode
	if !allowedNet[mode] && !mode.IsHost() && !mode.IsContainer() && !sitePermits(pol, "network", string(mode)) {
		out = append(out, "--network="+string(mode)+" is not allowed on this system")
	}
	const pick = " is not allowed on this system: the address could be another container's"
	// Config.MacAddress is deprecated in the API, and still honoured.
	if p.Config.MacAddress != "" {
		out = append(out, "--mac-address"+pick)
	}
	if p.Network == nil {
		return out
	}
	for _, name := range slices.Sorted(maps.Keys(p.Network.EndpointsConfig)) {
		ep := p.Network.EndpointsConfig[name]
		if ep == nil {
			continue
		}
		if ipam := ep.IPAMConfig; ipam != nil && (ipam.IPv4Address != "" || ipam.IPv6Address != "" || len(ipam.LinkLocalIPs) > 0) {
			out = append(out, "--ip, --ip6 and --link-local-ip are not allowed on this system: the address could be another container's")
		}
		if ep.MacAddress != "" {
			out = append(out, "--mac-address"+pick)
		}
		for _, a := range ep.Aliases {
			if !sitePermits(pol, "network-alias", a) {
				out = append(out, "--network-alias "+a+" is not allowed on this system: the name could be another container's")
			}
		}
		if len(ep.Links) > 0 {
			out = append(out, "--link is not allowed on this system: it reaches into other containers")
		}
		if len(ep.DriverOpts) > 0 {
			out = append(out, "network driver options are not allowed on this system")
		}
		if ep.NetworkID != "" || ep.EndpointID != "" || ep.Gateway != "" || ep.IPAddress != "" || ep.IPPrefixLen != 0 ||
			ep.IPv6Gateway != "" || ep.GlobalIPv6Address != "" || ep.GlobalIPv6PrefixLen != 0 || len(ep.DNSNames) > 0 {
			out = append(out, "the network endpoint's addresses and IDs are the daemon's to set")
		}
	}
	return out
}

// checkDevices: devices only as run.devices grants them (grantedDevice),
// no device cgroup rules, and device requests only for the granted GPUs.
func checkDevices(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	res := p.Host.Resources
	for _, d := range res.Devices {
		if !grantedDevice(d, pol, f) {
			out = append(out, "--device "+d.PathOnHost+" is not allowed on this system")
		}
	}
	for _, r := range res.DeviceCgroupRules {
		out = append(out, "--device-cgroup-rule "+strconv.Quote(r)+" is not allowed on this system")
	}
	want := containerDeviceRequest{Driver: "nvidia", DeviceIDs: f.GPUs}
	if pol.GPU.Delivery == "cdi" {
		names, _ := cdiNames(f.GPUs)
		want = containerDeviceRequest{Driver: "cdi", DeviceIDs: names}
	}
	for _, dr := range res.DeviceRequests {
		if dr.Driver != want.Driver || dr.Count != 0 || len(f.GPUs) == 0 || len(want.DeviceIDs) != len(f.GPUs) ||
			!slices.Equal(dr.DeviceIDs, want.DeviceIDs) || len(dr.Options) > 0 {
			out = append(out, "device requests other than your granted GPUs are not allowed on this system")
		}
	}
	return out
}

// checkMounts allows bind mounts of looked-up host paths only, with no
// options (a non-recursive or non-recursively read-only bind would show or
// open up what the site mounted below; CreateMountpoint would make the
// daemon create the source as root), and no mount, of any kind, where the
// NVIDIA hook reads device requests.
func checkMounts(p *request.Plan, pol *policy.Policy, f Facts) []string {
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
		if m.VolumeOptions != nil || m.TmpfsOptions != nil || m.ImageOptions != nil || m.ClusterOptions != nil ||
			(m.BindOptions != nil && *m.BindOptions != (mount.BindOptions{})) {
			out = append(out, "mount options for "+m.Target+" are not allowed on this system")
		}
		if !resolvedSource(m.Source, f) && !stagedSource(m.Source, p, pol, f) {
			out = append(out, "mount source "+m.Source+" is not a path the site's policy allows")
		}
	}
	for _, target := range mountTargets(p) {
		for _, root := range nvidiaDeviceLists {
			if strings.HasPrefix(target, root) {
				out = append(out, "mounting at "+target+" is not allowed on this system: the NVIDIA hook takes device requests from there")
			}
		}
	}
	if len(h.StorageOpt) > 0 {
		out = append(out, "--storage-opt is not allowed on this system")
	}
	return out
}

// mountTargets are the container paths of p's mounts and tmpfs mounts,
// cleaned and sorted.
func mountTargets(p *request.Plan) []string {
	var out []string
	for _, m := range p.Host.Mounts {
		out = append(out, path.Clean(m.Target))
	}
	for t := range p.Host.Tmpfs {
		out = append(out, path.Clean(t))
	}
	slices.Sort(out)
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

// tmpfsOptions are the tmpfs mount options a user may give. Not among
// them: suid and dev (set-user-ID programs and device files on it would
// work) and anything unknown.
var tmpfsOptions = map[string]bool{
	"size": true, "mode": true, "uid": true, "gid": true, "nr_inodes": true, "nr_blocks": true,
	"exec": true, "noexec": true, "nosuid": true, "nodev": true, "ro": true, "rw": true,
	"tmpcopyup": true, "notmpcopyup": true,
}

func checkTmpfs(p *request.Plan, _ *policy.Policy, _ Facts) []string {
	var out []string
	for _, target := range slices.Sorted(maps.Keys(p.Host.Tmpfs)) {
		for _, o := range strings.Split(p.Host.Tmpfs[target], ",") {
			key, _, _ := strings.Cut(o, "=")
			if o != "" && !tmpfsOptions[key] {
				out = append(out, "--tmpfs "+target+": option "+strconv.Quote(o)+" is not allowed on this system")
			}
		}
	}
	return out
}

// checkVolumes refuses anonymous volumes, those of the request and those
// of the image's VOLUME entries that no mount covers (Docker creates one
// for each): they are space on the daemon's disk outside every quota, and
// outlive a container run without --rm.
func checkVolumes(p *request.Plan, _ *policy.Policy, f Facts) []string {
	var out []string
	for _, v := range slices.Sorted(maps.Keys(p.Config.Volumes)) {
		out = append(out, "anonymous volume "+v+" is not allowed on this system; mount a path the site allows")
	}
	if f.Image == nil {
		return out
	}
	targets := mountTargets(p)
	for _, v := range f.Image.Volumes {
		if !slices.Contains(targets, path.Clean(v)) {
			out = append(out, "image "+p.Image+" declares VOLUME "+v+", and anonymous volumes are not allowed on this system: mount a path the site allows (or a tmpfs, where allowed) at "+v)
		}
	}
	return out
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

// checkCgroups: the container goes below its parent cgroup, exactly the
// one the edge made for it (which holds the job's limits, or the
// caller's), and sets no sysctls.
func checkCgroups(p *request.Plan, _ *policy.Policy, f Facts) []string {
	var out []string
	switch {
	case f.Cgroup == nil || f.Cgroup.Parent == "":
		out = append(out, "the cgroup that would hold your containers is not known, and none may run without one")
	case p.Host.CgroupParent != f.Cgroup.Parent:
		out = append(out, "the container's cgroup parent must be "+f.Cgroup.Parent+", not "+strconv.Quote(p.Host.CgroupParent))
	}
	if len(p.Host.Sysctls) > 0 {
		out = append(out, "--sysctl is not allowed on this system")
	}
	return out
}

// checkGPUEnv: every variable of hookEnv is in the request exactly once,
// with userdocker's value. The image's entries of the same names then
// cannot show through: Docker adds only those the request lacks.
func checkGPUEnv(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	for _, h := range hookEnv {
		want := h.name + "=" + hookValue(h.name, pol, f.GPUs)
		var got []string
		for _, kv := range p.Config.Env {
			if k, _, _ := strings.Cut(kv, "="); k == h.name {
				got = append(got, kv)
			}
		}
		if len(got) != 1 || got[0] != want {
			out = append(out, "the container's environment must set "+want+" exactly once: it decides "+h.grants)
		}
	}
	return out
}

// checkLoaderEnv refuses the loader variables (loaderEnv) in a container
// with GPUs, from the request or from the image, unless the site says its
// NVIDIA Container Toolkit is fixed (gpu.allow_loader_env).
func checkLoaderEnv(p *request.Plan, pol *policy.Policy, f Facts) []string {
	if len(f.GPUs) == 0 || pol.GPU.AllowLoaderEnv {
		return nil
	}
	const why = " is not allowed in a container with GPUs on this system: NVIDIA Container Toolkit before 1.17.8 runs a hook as root with it (CVE-2025-23266; see gpu.allow_loader_env)"
	var out []string
	own := envKeys(p.Config.Env)
	for _, k := range loaderEnv {
		if own[k] {
			out = append(out, k+why)
		}
	}
	for _, k := range loaderEnv {
		if !own[k] && f.Image != nil && envKeys(f.Image.Env)[k] {
			out = append(out, "image "+p.Image+" sets "+k+", which"+why)
		}
	}
	return out
}

// checkImage: the container is created from the checked image (its ID
// once inspected), and an image under local/ is the caller's own, where
// images of one's own are on, and is never pulled.
func checkImage(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	want := p.Image
	if f.Image != nil {
		want = f.Image.ID
	}
	if want == "" || p.Config.Image != want {
		out = append(out, "the container must be created from the checked image "+want+", not "+strconv.Quote(p.Config.Image))
	}
	if named, err := NormalizeImage(p.Image); err == nil {
		if _, local := localOwner(named); local {
			if why := localProblem(named, f.Caller.Name, pol.Run.OwnImages, "run"); why != "" {
				out = append(out, "image "+p.Image+" is not allowed: "+why)
			}
			if p.Pull != "never" {
				out = append(out, "image "+p.Image+" must not be pulled (pull "+strconv.Quote(p.Pull)+"): images under local/ are never pulled")
			}
		}
	}
	return out
}

// checkLabels: every label of label.Own has userdocker's value, and no
// other io.userdocker.* key comes from the request or from the image.
func checkLabels(p *request.Plan, _ *policy.Policy, f Facts) []string {
	var out []string
	want := ownLabels(p, f)
	for _, k := range label.Own {
		if v, ok := p.Config.Labels[k]; !ok || v != want[k] {
			out = append(out, "the container's label "+k+" must be "+strconv.Quote(want[k])+", not "+strconv.Quote(v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Config.Labels)) {
		if foreignLabel(k) {
			out = append(out, "label "+k+" is not allowed: io.userdocker.* labels are set by userdocker")
		}
	}
	if f.Image != nil {
		for _, k := range slices.Sorted(maps.Keys(f.Image.Labels)) {
			if foreignLabel(k) {
				out = append(out, "image "+p.Image+" carries the label "+k+": io.userdocker.* labels are userdocker's own, so this image cannot run here")
			}
		}
	}
	return out
}

// foreignLabel reports whether k is under io.userdocker. (in any case) but
// not one of the labels userdocker sets.
func foreignLabel(k string) bool {
	return strings.HasPrefix(strings.ToLower(k), label.Prefix) && !slices.Contains(label.Own, k)
}

func checkName(p *request.Plan, _ *policy.Policy, f Facts) []string {
	if !strings.HasPrefix(p.Name, f.Caller.Name+"-") {
		return []string{"the container name must start with " + f.Caller.Name + "-"}
	}
	return nil
}

// checkPublish judges every port published on the host against
// run.publish: the bindings, and with -P every exposed port, the image's
// included, which Docker publishes on all interfaces at a random port.
func checkPublish(p *request.Plan, pol *policy.Policy, f Facts) []string {
	out := portRefusals(p, pol)
	if !p.Host.PublishAllPorts {
		return out
	}
	for _, port := range exposedPorts(p, f.Image) {
		if spec := CanonicalPort(port, nat.PortBinding{}); !policy.MatchAny(pol.Run.Publish, spec) {
			out = append(out, "-P/--publish-all would publish port "+string(port)+" on every interface of the host ("+spec+"), which is not allowed on this system (allowed: "+orNone(pol.Run.Publish)+")")
		}
	}
	return out
}

// checkLogging: a log driver or log options only as the site's policy
// allows them (run.args): the daemon, as root, writes or sends the
// container's output where they say.
func checkLogging(p *request.Plan, pol *policy.Policy, _ Facts) []string {
	var out []string
	lc := p.Host.LogConfig
	if lc.Type != "" && !sitePermits(pol, "log-driver", lc.Type) {
		out = append(out, "--log-driver "+lc.Type+" is not allowed on this system")
	}
	for _, k := range slices.Sorted(maps.Keys(lc.Config)) {
		if opt := k + "=" + lc.Config[k]; !sitePermits(pol, "log-opt", opt) {
			out = append(out, "--log-opt "+opt+" is not allowed on this system")
		}
	}
	return out
}

// checkRestart: a restart policy only as the site allows --restart: the
// daemon would start the container again by itself, after it exited or
// after the daemon restarted.
func checkRestart(p *request.Plan, pol *policy.Policy, _ Facts) []string {
	rp := p.Host.RestartPolicy
	if rp.Name == "" || rp.Name == "no" {
		return nil
	}
	spec := string(rp.Name)
	if rp.MaximumRetryCount != 0 {
		spec += ":" + strconv.Itoa(rp.MaximumRetryCount)
	}
	if !sitePermits(pol, "restart", spec) {
		return []string{"--restart=" + spec + " is not allowed on this system"}
	}
	return nil
}

// checkStopTimeout bounds how long the daemon waits for the container to
// stop: on every stop, and when the daemon itself shuts down, which waits
// for the longest of its containers' (forever for a negative one).
func checkStopTimeout(p *request.Plan, pol *policy.Policy, _ Facts) []string {
	t := p.Config.StopTimeout
	if t == nil {
		return nil
	}
	// Rounded up: a stop_timeout of 500ms still allows --stop-timeout 1.
	limit := int(math.Ceil(pol.Slurm.StopTimeout.Seconds()))
	if *t < 0 || *t > limit {
		return []string{fmt.Sprintf("--stop-timeout %d is not allowed on this system: from 0 to %d seconds (slurm.stop_timeout)", *t, limit)}
	}
	return nil
}

// minHealthInterval is how often a health check may run at most: the
// daemon runs each one as an exec in the container.
const minHealthInterval = time.Second

// checkHealthcheck bounds how often the daemon runs the health check the
// container ends up with: the request's, filled in from the image's.
func checkHealthcheck(p *request.Plan, _ *policy.Policy, f Facts) []string {
	hc, fromImage := mergedHealthcheck(p.Config.Healthcheck, f.Image)
	if hc == nil || (len(hc.Test) > 0 && hc.Test[0] == "NONE") {
		return nil
	}
	var out []string
	for _, d := range []struct {
		v    time.Duration
		what string
	}{{hc.Interval, "an interval"}, {hc.StartInterval, "a start interval"}} {
		if d.v == 0 || d.v >= minHealthInterval {
			continue
		}
		src := "the container's health check"
		if fromImage {
			src = "the health check of image " + p.Image
		}
		out = append(out, fmt.Sprintf("%s has %s of %s: more often than every %s is not allowed on this system", src, d.what, d.v, minHealthInterval))
	}
	return out
}

// checkUlimits: a resource limit only as high as the caller's own hard
// limit (the site's limits.conf or Slurm's, as sudo hands them on), or as
// the site's own --ulimit flags set it. Docker sets the limits as root,
// so it could raise them past what the caller may: rtprio and nice for
// real-time or higher scheduling priority, memlock for pinned memory,
// nofile, nproc.
func checkUlimits(p *request.Plan, pol *policy.Policy, f Facts) []string {
	var out []string
	for _, u := range p.Host.Ulimits {
		if u == nil {
			continue
		}
		spec := u.Name + "=" + limitString(u.Soft) + ":" + limitString(u.Hard)
		if siteUlimit(pol, u.Name, u.Soft, u.Hard) {
			continue
		}
		hard, known := f.HardLimits[u.Name]
		switch {
		case !known:
			out = append(out, "--ulimit "+spec+" is not allowed on this system: your own "+u.Name+" limit is not known")
		case limitValue(u.Soft) > hard || limitValue(u.Hard) > hard:
			out = append(out, "--ulimit "+spec+" is more than your own hard limit ("+u.Name+"="+hardString(hard)+")")
		}
	}
	return out
}

// limitValue is a Docker ulimit value as a hard limit compares: any
// negative one is unlimited.
func limitValue(v int64) uint64 {
	if v < 0 {
		return Unlimited
	}
	return uint64(v)
}

func limitString(v int64) string {
	if v < 0 {
		return "unlimited"
	}
	return strconv.FormatInt(v, 10)
}

func hardString(v uint64) string {
	if v == Unlimited {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

// cpuSharesDefault is the CPU weight of a container that asks for none.
const cpuSharesDefault = 1024

// checkResources refuses what lets a container hurt the node or outlive
// its job's limits: an OOM-proof container, real-time scheduling, no
// process limit, more than its share of CPU or I/O against other users'
// containers, and anything beyond the job's CPUs or memory.
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
	if res.PidsLimit != nil && *res.PidsLimit <= 0 {
		out = append(out, fmt.Sprintf("--pids-limit %d (no limit) is not allowed on this system", *res.PidsLimit))
	}
	if res.CPUShares > cpuSharesDefault {
		out = append(out, fmt.Sprintf("--cpu-shares %d is not allowed on this system: at most %d, the default weight", res.CPUShares, cpuSharesDefault))
	}
	if res.BlkioWeight != 0 || len(res.BlkioWeightDevice) > 0 {
		out = append(out, "--blkio-weight and --blkio-weight-device are not allowed on this system: they weigh this container's I/O against other users'")
	}
	if f.Job != nil {
		if pol.Slurm.ConfineCPUs && f.Job.CPUs != "" && !rangelist.Subset(res.CpusetCpus, f.Job.CPUs, rangelist.CPUs) {
			out = append(out, "the container's CPUs "+strconv.Quote(res.CpusetCpus)+" are not within your job's "+f.Job.CPUs)
		}
		if pol.Slurm.ConfineMemory && f.Job.MemoryBytes > 0 && (res.Memory <= 0 || res.Memory > f.Job.MemoryBytes || res.MemorySwap != res.Memory) {
			out = append(out, "the container's memory limit must be within your job's")
		}
	}
	return out
}

// checkCIDFile: the API's ContainerIDFile stays empty; userdocker writes
// --cidfile itself, with the caller's rights.
func checkCIDFile(p *request.Plan, _ *policy.Policy, _ Facts) []string {
	if p.Host.ContainerIDFile != "" {
		return []string{"the daemon may not write a container ID file; userdocker writes --cidfile with your rights"}
	}
	return nil
}
