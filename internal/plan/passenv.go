package plan

import (
	"slices"
	"strings"

	"github.com/userdocker/userdocker/internal/launch"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// Bounds on what run.pass_env copies into one container: far more than a
// Slurm step's own variables (about 50 to 100, a few KiB), and small
// against what the daemon and the container's programs take.
const (
	maxPassedVars  = 256
	maxPassedBytes = 64 << 10
)

// passEnvMatch reports whether a run.pass_env pattern (a name, or a name
// prefix and *) matches name.
func passEnvMatch(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

// passedEnv are the launcher's variables (f.Launcher) that run.pass_env
// names and that neither the user (-e, taken), the site (run.env) nor
// userdocker (the hook variables) set: inside a job only, and data for
// the container's programs only. Sorted by name, at most maxPassedVars
// of them and maxPassedBytes in all, or a refusal.
func passedEnv(pol *policy.Policy, f Facts, taken map[string]bool) ([]string, error) {
	if f.Job == nil || len(pol.Run.PassEnv) == 0 {
		return nil, nil
	}
	var out []string
	size := 0
	seen := map[string]bool{}
	for _, kv := range slices.Backward(f.Launcher) { // the last of a name wins, as in getenv
		name, _, ok := strings.Cut(kv, "=")
		if !ok || seen[name] || !launch.IsLauncherVar(name) || taken[name] || isHookEnv(name) || hasKey(pol.Run.Env, name) {
			continue
		}
		seen[name] = true
		if slices.ContainsFunc(pol.Run.PassEnv, func(p string) bool { return passEnvMatch(p, name) }) {
			out = append(out, kv)
			size += len(kv)
		}
	}
	if len(out) > maxPassedVars || size > maxPassedBytes {
		return nil, refusal.New("env", "the launcher's variables that run.pass_env names (%d, %d bytes) are more than userdocker passes on (%d, %d bytes)",
			len(out), size, maxPassedVars, maxPassedBytes)
	}
	slices.Sort(out)
	return out, nil
}
