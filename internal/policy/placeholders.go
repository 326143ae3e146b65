package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Placeholders are written {name}; name is letters, digits and '_'. Any
// other '{' is literal text (so JSON in an env value stays as written).
// They expand only in the keys marked expand in the schema: run.env values,
// run.mounts entries, run.args always and default, audit.log.
var placeholderNames = []string{"user", "uid", "gid", "home", "job"}

// sampleVars stand in for a caller when a value is checked at load time:
// a mount like "{home}:{home}" is valid only once {home} is a path.
var sampleVars = map[string]string{
	"user": "user",
	"uid":  "1000",
	"gid":  "1000",
	"home": "/home/user",
	"job":  "1",
}

// placeholderAt reports the placeholder name starting at s[i] ('{') and the
// index just past its '}', or ok=false when s[i:] does not start one.
func placeholderAt(s string, i int) (name string, end int, ok bool) {
	j := i + 1
	for j < len(s) && isPlaceholderByte(s[j]) {
		j++
	}
	if j == i+1 || j >= len(s) || s[j] != '}' {
		return "", 0, false
	}
	return s[i+1 : j], j + 1, true
}

func isPlaceholderByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// expand replaces every placeholder in s with its value from vars. A
// placeholder that vars does not know, or whose value is empty, is an
// error: an empty {job} or {home} would silently widen a mount.
func expand(s string, vars map[string]string) (string, error) {
	if !strings.Contains(s, "{") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		name, end, ok := "", 0, false
		if s[i] == '{' {
			name, end, ok = placeholderAt(s, i)
		}
		if !ok {
			b.WriteByte(s[i])
			i++
			continue
		}
		v, known := vars[name]
		if !known || v == "" {
			return "", &placeholderError{name: name, unknown: !known}
		}
		b.WriteString(v)
		i = end
	}
	return b.String(), nil
}

// placeholderError is a placeholder that cannot expand.
type placeholderError struct {
	name    string
	unknown bool // not a placeholder at all, rather than empty for this call
}

func (e *placeholderError) Error() string {
	switch {
	case e.unknown:
		return fmt.Sprintf("unknown placeholder {%s} (known: %s)", e.name, knownPlaceholders())
	case e.name == "job":
		return "{job} is empty: the call is not inside a Slurm job"
	}
	return fmt.Sprintf("{%s} is empty for this caller", e.name)
}

// usesPlaceholder returns the first known placeholder in s, or "".
func usesPlaceholder(s string) string {
	for i := strings.IndexByte(s, '{'); i >= 0 && i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		if name, _, ok := placeholderAt(s, i); ok && slices.Contains(placeholderNames, name) {
			return "{" + name + "}"
		}
	}
	return ""
}

func knownPlaceholders() string {
	parts := make([]string, len(placeholderNames))
	for i, n := range placeholderNames {
		parts[i] = "{" + n + "}"
	}
	return strings.Join(parts, ", ")
}
