package oldconfig

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/pyliteral"
)

// entry is one converted value, already in TOML, and the old setting and
// line it came from (written beside it as a comment).
type entry struct {
	val  string
	from string
}

// layer is what one old file sets, by dotted TOML key.
type layer struct {
	vals map[string]entry
}

func (l *layer) set(key, val string, a pyliteral.Assignment) {
	l.vals[key] = entry{val: val, from: fmt.Sprintf(":%d %s", a.Line, a.Name)}
}

// keyOrder is the order keys are written in; the table of a key is all
// of it but its last part.
var keyOrder = []string{
	"subcommands",
	"run.images", "run.pull", "run.enforce_user", "run.cap_drop", "run.cap_add", "run.env", "run.publish",
	"run.args.allowed", "run.args.always", "run.args.values",
	"run.mounts.always", "run.mounts.default", "run.mounts.available", "run.mounts.probe",
	"gpu.source", "gpu.default_count", "gpu.max_count", "gpu.exclusive", "gpu.max_memory_used_mib",
	"slurm.outside_job",
}

// render writes the layer as the top level of the file (f.Class == "")
// or as an [[override]] entry.
func (l *layer) render(f File) string {
	var b strings.Builder
	prefix := ""
	fmt.Fprintf(&b, "\n# from %s\n", comment(f.Name))
	if f.Class != "" {
		if len(l.vals) == 0 {
			fmt.Fprintf(&b, "# (nothing to convert)\n")
			return b.String()
		}
		prefix = "override."
		fmt.Fprintf(&b, "[[override]]\n")
		switch f.Class {
		case "group", "user":
			fmt.Fprintf(&b, "%s = %s\n", f.Class, policy.TOMLString(f.Selector))
		default:
			fmt.Fprintf(&b, "%s = %s\n", f.Class, f.Selector)
		}
		if f.Class == "group" || f.Class == "gid" {
			fmt.Fprintf(&b, "priority = %d\n", f.Priority)
		}
	}
	table := ""
	for _, key := range keyOrder {
		e, ok := l.vals[key]
		if !ok {
			continue
		}
		t, name := "", key
		if i := strings.LastIndexByte(key, '.'); i >= 0 {
			t, name = key[:i], key[i+1:]
		}
		if t != table {
			fmt.Fprintf(&b, "[%s%s]\n", prefix, t)
			table = t
		}
		fmt.Fprintf(&b, "%s = %s  # %s\n", name, e.val, comment(f.Name+e.from))
	}
	return b.String()
}

// tomlInlineTable writes m, whose values are already TOML, sorted by key.
func tomlInlineTable(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = policy.TOMLString(k) + " = " + m[k]
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// comment makes s safe for a TOML comment: one line, no control
// characters (file names and old values can hold any byte).
func comment(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (r < 0x20 && r != '\t') || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
