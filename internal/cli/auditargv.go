package cli

import (
	"strings"

	"github.com/userdocker/userdocker/internal/runflags"
)

// redacted replaces the value of an -e/--env NAME=VALUE in audit records.
const redacted = "<redacted>"

// auditArgv returns args as the audit record keeps them: the values of
// -e/--env replaced, their names kept, since environment variables are
// where users pass tokens and passwords. Flags are read with docker run's
// table up to the first argument that is not a flag (the image), so that
// "-e" inside the container's command is left as written, and a cluster
// such as "-ite" or "-eTOKEN=x" is understood as pflag would.
func auditArgv(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	sub := -1 // index of the subcommand
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			return out
		case !strings.HasPrefix(a, "-") || a == "-":
			if sub >= 0 {
				return out // the image or container: its command follows
			}
			sub = i
		case sub < 0:
			// userdocker's own flags take no values
		case strings.HasPrefix(a, "--"):
			body, val, hasVal := strings.Cut(a, "=")
			name, takesValue, ok := runflags.Canonical(body)
			switch {
			case !ok || !takesValue:
			case hasVal && name == "env":
				out[i] = body + "=" + redactEnv(val)
			case !hasVal && i+1 < len(out):
				i++
				if name == "env" {
					out[i] = redactEnv(out[i])
				}
			}
		default:
			i = shortCluster(out, i)
		}
	}
	return out
}

// shortCluster redacts within the short-flag cluster out[i] ("-it",
// "-eK=V", "-ite" followed by its value) and returns the index of the
// last argument it used.
func shortCluster(out []string, i int) int {
	a := out[i]
	for j := 1; j < len(a); j++ {
		name, takesValue, ok := runflags.Canonical("-" + a[j:j+1])
		if !ok || !takesValue {
			continue
		}
		if rest := strings.TrimPrefix(a[j+1:], "="); j+1 < len(a) {
			if name == "env" {
				out[i] = a[:len(a)-len(rest)] + redactEnv(rest)
			}
			return i
		}
		if i+1 < len(out) {
			i++
			if name == "env" {
				out[i] = redactEnv(out[i])
			}
		}
		return i
	}
	return i
}

// redactEnv turns NAME=VALUE into NAME=<redacted>; a bare NAME (taken
// from the environment) stays.
func redactEnv(kv string) string {
	if name, _, ok := strings.Cut(kv, "="); ok {
		return name + "=" + redacted
	}
	return kv
}

// recordCaller names the caller in the audit record of a run that ended
// before main established who it is (--version, a usage error in the
// global flags), so that every record says who. Without sudo's identity
// the record stays without a caller.
func (a *app) recordCaller() {
	if who, err := a.identify(); err == nil {
		uid := who.UID
		a.record.Caller, a.record.UID = who.Name, &uid
	}
}
