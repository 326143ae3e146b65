package plan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/rangelist"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

var sprintf = fmt.Sprintf

// Build judges req against pol and facts and returns the final request.
// On refusal the error joins every *refusal.Refusal found, so the user learns all
// that is wrong at once; no partial plan is returned.
//
// The edge calls it twice: before the image is pulled (f.Image nil), to
// refuse what can be refused without it and to learn which image to
// make available; then with the inspected image in f.Image, for the final
// request, judged together with what Docker takes from the image and
// created from the image's ID, so that a tag moved in between cannot put
// an unchecked image in its place. Build is pure: both calls see the same
// request.
func Build(req *request.Run, pol *policy.Policy, f Facts) (*request.Plan, error) {
	errs, refused := checkArgs(req, pol)
	if len(refused) > 0 {
		// Judge the rest as if the refused flags were not there, so that
		// the final checks name what else is wrong, not those flags again.
		clean, err := withoutFlags(req, pol, refused)
		if err != nil {
			return nil, errors.Join(errs...)
		}
		req = clean
	}
	var err error
	if req.GPUs != "" && stepWithoutGPUs(f) {
		errs = append(errs, refusal.New("gpus", "--gpus %s: this job step may use none of your job's GPUs (srun --gres=none?): "+
			"a step gets GPUs with srun --gres=gpu:N, --gpus or --gpus-per-task", req.GPUs))
		f.GPUs = nil // refused; the plan goes on without GPUs
	} else if f.GPUs, err = SelectGPUs(f.GPUs, req); err != nil {
		errs = append(errs, err)
	}
	p, stepErrs := planRun(req, pol, f)
	errs = append(errs, stepErrs...)
	// The final request must satisfy every invariant, whatever produced it:
	// the user's flags, the admin's default/always flags, or the steps above.
	// A step that refused leaves the plan as if the refused part had not
	// been asked for, so the final checks still find the rest; a check
	// whose rule a step refused already (the image, the name) would only
	// say it again.
	stepRules := map[string]bool{}
	for _, r := range refusal.All(errors.Join(stepErrs...)) {
		stepRules[r.Rule] = true
		if r.Rule == localRule { // the image's own-images refusal: checkImage says it again
			stepRules["image"] = true
		}
	}
	for _, err := range Check(p, pol, f) {
		if r, ok := err.(*refusal.Refusal); ok && (stepRules[r.Rule] || saidAlready(errs, r.Msg)) {
			continue
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// withoutFlags is req parsed again without the user's flags names
// (canonical), with what the edge read from argument files.
func withoutFlags(req *request.Run, pol *policy.Policy, names []string) (*request.Run, error) {
	clean, err := runflags.ParseWithout(req.Args, Layers(pol), names)
	if err != nil {
		return nil, err
	}
	clean.FileEnv, clean.FileLabels = req.FileEnv, req.FileLabels
	if slices.Contains(names, "env-file") {
		clean.FileEnv = nil
	}
	if slices.Contains(names, "label-file") {
		clean.FileLabels = nil
	}
	return clean, nil
}

// saidAlready reports whether one of errs is a refusal with message msg.
func saidAlready(errs []error, msg string) bool {
	return slices.ContainsFunc(refusal.All(errors.Join(errs...)), func(r *refusal.Refusal) bool { return r.Msg == msg })
}

// planRun makes the final request from req, with the GPUs of f already
// selected: the image, the pull policy and every planning step. It returns the plan, complete even
// where a step refused, and the refusals.
func planRun(req *request.Run, pol *policy.Policy, f Facts) (*request.Plan, []error) {
	var errs []error
	img, err := normalizeImage(req.Image, pol, f.Caller.Name)
	if err != nil {
		errs = append(errs, err)
		img = req.Image // refused above; the plan goes on with what was typed
	}
	var pull string
	if IsLocal(img) {
		pull, err = ownPull(req.Pull)
	} else {
		pull, err = pullPolicy(req.Pull, pol.Run.Pull)
	}
	if err != nil {
		errs = append(errs, err)
		// Refused above; the plan goes on as without --pull.
		if IsLocal(img) {
			pull, _ = ownPull("")
		} else {
			pull, _ = pullPolicy("", pol.Run.Pull)
		}
	}

	cfg := req.Config
	host := req.Host
	p := &request.Plan{
		Image:      img,
		Pull:       pull,
		Config:     &cfg,
		Host:       &host,
		Network:    copyNetworking(req.Network),
		Detach:     req.Detach,
		SigProxy:   req.SigProxy,
		DetachKeys: req.DetachKeys,
		CIDFile:    req.CIDFile,
	}
	p.Config.Image = img
	if f.Image != nil {
		p.Config.Image = f.Image.ID
	}
	for _, step := range []func(*request.Run, *policy.Policy, Facts, *request.Plan) []error{
		planUser, planSecurity, planHostNamespaces, planEnv, planLabels, planName, planMounts, planPMIx, planDevices,
		planPorts, planGPUs, planJob, planLimits, planCgroup, planDaemon,
	} {
		errs = append(errs, step(req, pol, f, p)...)
	}
	return p, errs
}

func copyNetworking(n network.NetworkingConfig) *network.NetworkingConfig {
	out := &network.NetworkingConfig{}
	if len(n.EndpointsConfig) > 0 {
		out.EndpointsConfig = map[string]*network.EndpointSettings{}
		for k, v := range n.EndpointsConfig {
			c := *v
			out.EndpointsConfig[k] = &c
		}
	}
	return out
}

var pullRank = map[string]int{"never": 0, "missing": 1, "always": 2}

// pullPolicy lets the user's --pull narrow the site's, never widen it.
func pullPolicy(user, site string) (string, error) {
	if site == "" {
		site = "missing"
	}
	if user == "" {
		return site, nil
	}
	if pullRank[user] > pullRank[site] {
		return "", refusal.New("pull", "--pull=%s is not allowed on this system (run.pull = %q)", user, site).By("run.pull")
	}
	return user, nil
}

// planUser enforces the caller's uid:gid and groups.
func planUser(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	if !pol.Run.EnforceUser {
		return nil
	}
	c := f.Caller
	var errs []error
	// A flag the user may not pass at all is refused once, by checkArgs.
	allowed := AllowedFlags(pol)
	want := strconv.FormatUint(uint64(c.UID), 10) + ":" + strconv.FormatUint(uint64(c.GID), 10)
	if u := req.Config.User; u != "" && allowed["user"] && !sameUser(u, c.UID, c.GID, c.Name, c.Groups) {
		errs = append(errs, refusal.New("user", "--user %q is not allowed: containers run as you (%s)", u, want).By("run.enforce_user"))
	}
	for _, g := range req.Host.GroupAdd {
		if !allowed["group-add"] {
			break
		}
		if !ownGroup(g, c) {
			errs = append(errs, refusal.New("group", "--group-add %q is not allowed: only your own groups can be added (%s)", g, groupNames(c)).By("run.enforce_user"))
		}
	}
	p.Config.User = want
	p.Host.GroupAdd = nil
	for _, g := range c.Groups {
		if g != c.GID {
			p.Host.GroupAdd = append(p.Host.GroupAdd, strconv.FormatUint(uint64(g), 10))
		}
	}
	return errs
}

// ownGroup reports whether g names one of the caller's groups, by number
// or by name. The container gets all of them anyway; naming one is how
// docker users ask for a group.
func ownGroup(g string, c request.Caller) bool {
	if gid, err := strconv.ParseUint(g, 10, 32); err == nil {
		return slices.Contains(c.Groups, uint32(gid))
	}
	return g != "" && slices.Contains(c.GroupNames, g)
}

// groupNames lists the caller's groups as --group-add takes them: by
// name where they have one, else by number.
func groupNames(c request.Caller) string {
	var out []string
	for i, g := range c.Groups {
		if i < len(c.GroupNames) && c.GroupNames[i] != "" {
			out = append(out, c.GroupNames[i])
		} else {
			out = append(out, strconv.FormatUint(uint64(g), 10))
		}
	}
	return strings.Join(out, ", ")
}

// sameUser accepts the spellings of the caller's own identity: uid, name,
// uid:gid or name:gid with one of the caller's groups.
func sameUser(u string, uid, gid uint32, name string, groups []uint32) bool {
	who, grp, hasGrp := cut(u, ':')
	if who != name && who != strconv.FormatUint(uint64(uid), 10) {
		return false
	}
	if !hasGrp {
		return true
	}
	g, err := strconv.ParseUint(grp, 10, 32)
	return err == nil && (uint32(g) == gid || slices.Contains(groups, uint32(g)))
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// planSecurity applies capabilities and no-new-privileges.
func planSecurity(req *request.Run, pol *policy.Policy, _ Facts, p *request.Plan) []error {
	var errs []error
	for _, c := range req.Host.CapAdd {
		if AllowedFlags(pol)["cap-add"] && !containsCap(pol.Run.CapAdd, c) {
			errs = append(errs, refusal.New("capabilities", "--cap-add %s is not allowed on this system", c).By("run.cap_add"))
		}
	}
	p.Host.CapAdd = append([]string(nil), pol.Run.CapAdd...)
	p.Host.CapDrop = append(append([]string(nil), pol.Run.CapDrop...), req.Host.CapDrop...)
	if pol.Run.NoNewPrivileges {
		p.Host.SecurityOpt = []string{"no-new-privileges"}
	} else {
		p.Host.SecurityOpt = nil
	}
	return errs
}

// planJob confines the container to the job's CPUs and memory; user flags
// may narrow them, never widen.
func planJob(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	if f.Job == nil {
		return nil
	}
	var errs []error
	res := &p.Host.Resources
	if pol.Slurm.ConfineCPUs && f.Job.CPUs != "" {
		if want := req.Host.CpusetCpus; want != "" {
			if !rangelist.Subset(want, f.Job.CPUs, rangelist.CPUs) {
				errs = append(errs, refusal.New("job", "--cpuset-cpus %q is outside your job's CPUs %s", want, f.Job.CPUs).By("slurm.confine_cpus"))
				res.CpusetCpus = f.Job.CPUs
			}
		} else {
			res.CpusetCpus = f.Job.CPUs
		}
	}
	if pol.Slurm.ConfineMemory && f.Job.MemoryBytes > 0 {
		// A --memory above the job's is refused by planLimits, in the
		// user's own units.
		if res.Memory == 0 || res.Memory > f.Job.MemoryBytes {
			res.Memory = f.Job.MemoryBytes
		}
		// Swap would let the container use more than the job's memory.
		res.MemorySwap = res.Memory
	}
	return errs
}

// Defaults for fields the final checks compare against.
var (
	allowedIPC = map[container.IpcMode]bool{"": true, "private": true, "shareable": true, "none": true}
	allowedNet = map[container.NetworkMode]bool{"": true, "default": true, "bridge": true, "none": true}
)

type containerDeviceRequest = container.DeviceRequest
