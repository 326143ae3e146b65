package gather

import (
	"strings"

	"github.com/userdocker/userdocker/internal/launch"
)

// launcherEnv are the launcher's variables in environ (launch.IsLauncherVar
// names), in their order: the facts run.pass_env copies from.
func launcherEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if name, _, ok := strings.Cut(kv, "="); ok && launch.IsLauncherVar(name) {
			out = append(out, kv)
		}
	}
	return out
}
