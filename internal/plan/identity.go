package plan

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"

	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// planEnv merges the user's variables with the launcher's that the site
// passes on (passedEnv) and the site's enforced ones, and sets every
// NVIDIA hook variable (see hookEnv). A user variable the site or
// userdocker sets is refused, not silently replaced; a launcher's
// variable the user sets gives way to the user's.
func planEnv(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	var errs []error
	var env []string
	seen := map[string]bool{}
	// As docker: the env files' entries first, the flags' after them.
	for _, kv := range append(slices.Clip(req.FileEnv), req.Config.Env...) {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case isHookEnv(k):
			if !seen[k] {
				errs = append(errs, refusal.New("env", "-e %s is not allowed: userdocker sets it from the GPUs you were granted", k))
			}
		case hasKey(pol.Run.Env, k):
			if !seen[k] {
				errs = append(errs, refusal.New("env", "-e %s is not allowed: this system sets it to %q", k, pol.Run.Env[k]))
			}
		default:
			env = append(env, kv)
		}
		seen[k] = true
	}
	passed, err := passedEnv(pol, f, seen)
	if err != nil {
		errs = append(errs, err)
	}
	env = append(env, passed...)
	for _, k := range slices.Sorted(maps.Keys(pol.Run.Env)) {
		env = append(env, k+"="+pol.Run.Env[k])
	}
	for _, h := range hookEnv {
		env = append(env, h.name+"="+hookValue(h.name, pol, f.GPUs))
	}
	p.Config.Env = env
	return errs
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// planLabels adds userdocker's labels, every one of them (label.Own);
// users cannot set io.userdocker.*.
func planLabels(req *request.Run, _ *policy.Policy, f Facts, p *request.Plan) []error {
	var errs []error
	labels := map[string]string{}
	// As docker: --label wins over a label file's entry of the same key.
	user := maps.Clone(req.FileLabels)
	if user == nil {
		user = map[string]string{}
	}
	maps.Copy(user, req.Config.Labels)
	for _, k := range slices.Sorted(maps.Keys(user)) {
		v := user[k]
		if strings.HasPrefix(strings.ToLower(k), label.Prefix) {
			errs = append(errs, refusal.New("labels", "--label %s is not allowed: io.userdocker.* labels are set by userdocker", k))
			continue
		}
		labels[k] = v
	}
	maps.Copy(labels, ownLabels(p, f))
	p.Config.Labels = labels
	return errs
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// planName gives every container a name that starts with the user's name:
// "<user>-<name>" for a user's --name (unless it already starts so), and
// "<user>-<job>-<suffix>" or "<user>-<suffix>" otherwise.
func planName(req *request.Run, _ *policy.Policy, f Facts, p *request.Plan) []error {
	user := f.Caller.Name
	name := req.Name
	switch {
	case name == "":
		name = user + "-" + f.NameSuffix
		if f.Job != nil {
			name = user + "-" + f.Job.ID + "-" + f.NameSuffix
		}
	case !strings.HasPrefix(name, user+"-"):
		name = user + "-" + name
		p.Notes = append(p.Notes, "container name set to "+name)
	}
	if !validName.MatchString(name) {
		return []error{refusal.New("name", "--name %q is not a valid container name (letters, digits, _ . -)", req.Name)}
	}
	p.Name = name
	return nil
}

// planGPUs hands the granted GPUs to Docker: a device request with their
// IDs (or, for sites on nvidia-docker2, the nvidia runtime; with CDI, a
// request of driver "cdi" with their CDI names), and nothing else. The grant itself was decided by the GPU source.
func planGPUs(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	p.Host.DeviceRequests = nil
	if len(f.GPUs) == 0 {
		return nil
	}
	switch pol.GPU.Delivery {
	case "nvidia-runtime":
		p.Host.Runtime = "nvidia"
		return nil
	case "cdi":
		names, bad := cdiNames(f.GPUs)
		if len(bad) > 0 {
			return []error{refusal.New("gpus", "GPUs %s cannot be delivered as CDI devices: they are known here by index, not UUID (gpu.delivery = \"cdi\" needs NVML on the node); ask your administrator", strings.Join(bad, ","))}
		}
		p.Host.DeviceRequests = []containerDeviceRequest{{Driver: "cdi", DeviceIDs: names}}
		return nil
	}
	p.Host.DeviceRequests = []containerDeviceRequest{{
		Driver:       "nvidia",
		DeviceIDs:    append([]string(nil), f.GPUs...),
		Capabilities: [][]string{{"gpu"}},
	}}
	return nil
}

// ownLabels are the values of label.Own for p.
func ownLabels(p *request.Plan, f Facts) map[string]string {
	job := ""
	if f.Job != nil {
		job = f.Job.ID
	}
	return map[string]string{
		label.UID:     strconv.FormatUint(uint64(f.Caller.UID), 10),
		label.User:    f.Caller.Name,
		label.Job:     job,
		label.GPUs:    strings.Join(f.GPUs, ","),
		label.Image:   p.Image,
		label.Staging: stagingLabel(p, f),
		label.Digest:  ImageDigest(p.Image, f.Image),
	}
}

// ImageDigest is the repository digest by which the image ref (a
// normalized reference) runs: ref itself when it names a digest, else the
// digest the daemon knows the image by in ref's repository; "" when there
// is none (an image built or loaded here) or the image is not known yet.
func ImageDigest(ref string, img *Image) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	if _, ok := named.(reference.Canonical); ok {
		return named.String()
	}
	if img == nil {
		return ""
	}
	for _, d := range img.RepoDigests {
		rd, err := reference.ParseNormalizedNamed(d)
		if err != nil {
			continue
		}
		if _, ok := rd.(reference.Canonical); ok && rd.Name() == named.Name() {
			return rd.String()
		}
	}
	return ""
}
