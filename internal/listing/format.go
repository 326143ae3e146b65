// Package listing turns what the daemon lists (containers, images) into
// rows of userdocker's own, and renders them the way the docker CLI does:
// aligned tables, --format Go templates, and an image tree. It is pure:
// the daemon's answers and the time come in as values.
//
// Templates see only the row types defined here, never the Engine API's
// structs, so what a --format can reach is what userdocker chose to show.
package listing

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// tablePrefix starts a --format that is rendered as a table with headers.
const tablePrefix = "table"

// funcs are the template functions docker's --format offers that make sense
// on our rows.
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"truncate": func(s string, n int) string {
		if n >= 0 && len(s) > n {
			return s[:n]
		}
		return s
	},
	"pad": func(s string, before, after int) string {
		return spaces(before) + s + spaces(after)
	},
}

// maxPad bounds pad: a template is the user's, the memory root's.
const maxPad = 256

func spaces(n int) string {
	return strings.Repeat(" ", max(0, min(n, maxPad)))
}

// FormatError says that a --format template does not parse or does not
// fit the rows.
type FormatError struct {
	Format string
	Err    error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("--format %q: %v", e.Format, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Write renders rows with format: "table" or "" gives the default table
// def (itself "table ..."), "table TEMPLATE" a table with headers, and any
// other TEMPLATE one line per row. Headers are the template run over
// headers, a row-shaped map from field name to column title.
func Write(w io.Writer, format, def string, headers map[string]string, rows []any) error {
	if format == "" || format == tablePrefix {
		format = def
	}
	body, table := strings.CutPrefix(format, tablePrefix)
	if table {
		body = strings.TrimLeft(body, " ")
	}
	tmpl, err := template.New("format").Funcs(funcs).Option("missingkey=zero").Parse(unescape(body))
	if err != nil {
		return &FormatError{Format: format, Err: err}
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if err := tmpl.Execute(out, headers); err != nil {
			return &FormatError{Format: format, Err: err}
		}
		fmt.Fprintln(out)
	}
	for _, r := range rows {
		if err := tmpl.Execute(out, r); err != nil {
			return &FormatError{Format: format, Err: err}
		}
		fmt.Fprintln(out)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// unescape turns the "\t" and "\n" a user types into a shell argument into
// the characters, as docker does.
func unescape(s string) string {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s)
}
