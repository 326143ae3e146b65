package plan

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// EnvVisibleDevices is the variable the NVIDIA hook reads to pick GPUs.
// CUDA images carry NVIDIA_VISIBLE_DEVICES=all, so it is always set by us.
const EnvVisibleDevices = "NVIDIA_VISIBLE_DEVICES"

// reservedEnv are variables only userdocker sets: the NVIDIA hook grants
// devices or management capabilities from them.
var reservedEnv = map[string]bool{
	EnvVisibleDevices:             true,
	"NVIDIA_MIG_CONFIG_DEVICES":   true,
	"NVIDIA_MIG_MONITOR_DEVICES":  true,
	"NVIDIA_IMEX_CHANNELS":        true,
	"NVIDIA_GDRCOPY":              true,
	"NVIDIA_GDS":                  true,
	"NVIDIA_MOFED":                true,
	"NVIDIA_NVSWITCH":             true,
	"NVIDIA_VISIBLE_DEVICES_LIST": true,
}

// planEnv merges the user's variables with the site's enforced ones. A user
// variable the site or the GPU grant sets is refused, not silently replaced.
func planEnv(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	var errs []error
	var env []string
	seen := map[string]bool{}
	for _, kv := range req.Config.Env {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case reservedEnv[k]:
			if !seen[k] {
				errs = append(errs, refuse("env", "-e %s is not allowed: userdocker sets it from the GPUs you were granted", k))
			}
		case hasKey(pol.Run.Env, k):
			if !seen[k] {
				errs = append(errs, refuse("env", "-e %s is not allowed: this system sets it to %q", k, pol.Run.Env[k]))
			}
		default:
			env = append(env, kv)
		}
		seen[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(pol.Run.Env)) {
		env = append(env, k+"="+pol.Run.Env[k])
	}
	env = append(env, EnvVisibleDevices+"="+visibleDevices(f.GPUs))
	p.Config.Env = env
	return errs
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func visibleDevices(gpus []string) string {
	if len(gpus) == 0 {
		return "void"
	}
	return strings.Join(gpus, ",")
}

// planLabels adds the ownership labels; users cannot set io.userdocker.*.
func planLabels(req *request.Run, _ *policy.Policy, f Facts, p *request.Plan) []error {
	var errs []error
	labels := map[string]string{}
	for k, v := range req.Config.Labels {
		if strings.HasPrefix(strings.ToLower(k), LabelPrefix) {
			errs = append(errs, refuse("labels", "--label %s is not allowed: io.userdocker.* labels are set by userdocker", k))
			continue
		}
		labels[k] = v
	}
	labels[LabelUID] = strconv.FormatUint(uint64(f.Caller.UID), 10)
	labels[LabelUser] = f.Caller.Name
	if f.Job != nil {
		labels[LabelJob] = f.Job.ID
	}
	if len(f.GPUs) > 0 {
		labels[LabelGPUs] = strings.Join(f.GPUs, ",")
	}
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
		return []error{refuse("name", "--name %q is not a valid container name (letters, digits, _ . -)", req.Name)}
	}
	p.Name = name
	return nil
}

// planGPUs hands the granted GPUs to Docker: a device request with their
// IDs (or, for sites on nvidia-docker2, the nvidia runtime), and nothing
// else. The grant itself was decided by the GPU source.
func planGPUs(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	p.Host.DeviceRequests = nil
	if len(f.GPUs) == 0 {
		return nil
	}
	if pol.GPU.Delivery == "nvidia-runtime" {
		p.Host.Runtime = "nvidia"
		return nil
	}
	p.Host.DeviceRequests = []containerDeviceRequest{{
		Driver:       "nvidia",
		DeviceIDs:    append([]string(nil), f.GPUs...),
		Capabilities: [][]string{{"gpu"}},
	}}
	return nil
}
