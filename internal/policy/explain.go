package policy

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Explain writes p as TOML, every key in schema order, each followed by a
// comment saying where its value came from ("# from FILE:LINE" or
// "# built-in default"). It is what `userdocker config explain` prints.
// The output is valid TOML; for the policy from System it is a
// configuration that sets exactly the same values.
func Explain(w io.Writer, p *Policy, prov Provenance) error {
	bw := bufio.NewWriter(w)
	table := ""
	for i := range leaves {
		l := &leaves[i]
		if t := parentPath(l.key); t != table {
			table = t
			fmt.Fprintf(bw, "\n[%s]\n", table)
		}
		name := l.key[strings.LastIndexByte(l.key, '.')+1:]
		fmt.Fprintf(bw, "%s = %s  # %s\n", name, formatValue(l.field(p)), prov[l.key].from())
	}
	return bw.Flush()
}

// formatValue writes the field ptr points to as a TOML value.
func formatValue(ptr any) string {
	switch v := ptr.(type) {
	case *string:
		return tomlString(*v)
	case *bool:
		return strconv.FormatBool(*v)
	case *int:
		return strconv.Itoa(*v)
	case *time.Duration:
		return tomlString(v.String())
	case *Bytes:
		return tomlString(v.String())
	case *Limit:
		return tomlString(v.Text)
	case *NanoCPUs:
		return v.String()
	case *[]string:
		return tomlArray(*v)
	case *[]Pattern:
		return tomlArray(Sources(*v))
	case *[]Flag:
		return tomlArray(texts(*v))
	case *[]FlagArg:
		return tomlArray(texts(*v))
	case *[]MountSpec:
		return tomlArray(texts(*v))
	case *map[string]string:
		return inlineTable(*v, tomlString)
	case *map[string]FlagValues:
		return inlineTable(*v, func(fv FlagValues) string { return tomlArray(Sources(fv.Patterns)) })
	}
	panic(fmt.Sprintf("policy: cannot format %T", ptr))
}

// texts are the values of xs as written.
func texts[T fmt.Stringer](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}

func tomlArray(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = tomlString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func inlineTable[V any](m map[string]V, format func(V) string) string {
	if len(m) == 0 {
		return "{}"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, tomlKey(k)+" = "+format(m[k]))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func tomlKey(k string) string {
	for i := 0; i < len(k); i++ {
		if !isFlagByte(k[i]) && k[i] != '-' && k[i] != '_' {
			return tomlString(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}

// TOMLString quotes s as a TOML string, as Explain does; for code that
// writes configuration (config import).
func TOMLString(s string) string { return tomlString(s) }

// TOMLArray writes ss as a TOML array of strings, as Explain does.
func TOMLArray(ss []string) string { return tomlArray(ss) }

// tomlString quotes s as a literal string when it can ('...', which keeps
// regular expressions readable), else as a basic string with escapes
// (invalid UTF-8 becomes U+FFFD there: TOML files are UTF-8).
func tomlString(s string) string {
	literal := utf8.ValidString(s) && !strings.ContainsRune(s, '\'')
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			literal = false
		}
	}
	if literal {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
