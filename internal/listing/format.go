// Package listing turns what the daemon lists (containers, images) into
// rows of userdocker's own, and renders them the way the docker CLI does:
// aligned tables, --format Go templates, and an image tree. It is pure:
// the daemon's answers and the time come in as values. The one exception
// is a bound, not a fact: a --format template runs under Limits, on a
// goroutine of its own, with a deadline.
//
// Templates see only the row types defined here, never the Engine API's
// structs, so what a --format can reach is what userdocker chose to show.
package listing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
	"unicode/utf8"
)

// tablePrefix starts a --format that is rendered as a table with headers.
const tablePrefix = "table"

// FormatError says that a --format template does not parse, does not fit
// the rows, or went past its Limits (Err is then a *LimitError).
type FormatError struct {
	Format string
	Err    error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("--format %q: %v", shorten(e.Format, maxShown), e.Err)
}

// maxShown is how much of a format an error message quotes: the message
// is one line, and a format may be a hundred kilobytes.
const maxShown = 80

// shorten cuts s to at most n bytes, at a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func (e *FormatError) Unwrap() error { return e.Err }

// Write renders rows with format: "table" or "" gives the default table
// def (itself "table ..."), "table TEMPLATE" a table with headers, and any
// other TEMPLATE one line per row. Headers are the template run over
// headers, a row-shaped map from field name to column title. The template
// runs within DefaultLimits; nothing is written when it fails.
func Write(w io.Writer, format, def string, headers map[string]string, rows []any) error {
	return write(w, format, def, headers, rows, DefaultLimits)
}

func write(w io.Writer, format, def string, headers map[string]string, rows []any, lim Limits) error {
	if format == "" || format == tablePrefix {
		format = def
	}
	body, table := strings.CutPrefix(format, tablePrefix)
	if table {
		body = strings.TrimLeft(body, " ")
	}
	b := &budget{lim: lim}
	tmpl, err := template.New("format").Funcs(b.funcs()).Option("missingkey=zero").Parse(unescape(body))
	if err != nil {
		return &FormatError{Format: format, Err: err}
	}
	if err := b.restrict(tmpl); err != nil {
		return &FormatError{Format: format, Err: err}
	}
	var header any
	if table {
		header = headerRow(headers)
	}
	out, err := b.render(tmpl, header, rows)
	if err != nil {
		return &FormatError{Format: format, Err: err}
	}
	if !table {
		_, err := w.Write(out)
		return err
	}
	// Aligning keeps every cell until the end, and pads each to the
	// widest of its column: many cells would take memory, and one wide
	// cell above many short lines would multiply the output.
	if n := cells(out); n > lim.Cells {
		return &FormatError{Format: format, Err: &LimitError{Msg: fmt.Sprintf("its table has more than %d cells, the most a format may make here", lim.Cells)}}
	}
	aligned := capWriter{max: lim.Bytes}
	tw := tabwriter.NewWriter(&aligned, 10, 1, 3, ' ', 0)
	tw.Write(out)
	if err := tw.Flush(); err != nil {
		return &FormatError{Format: format, Err: &LimitError{Msg: fmt.Sprintf("its table is wider than %s, the most a format may write here", mib(lim.Bytes))}}
	}
	_, err = w.Write(aligned.buf.Bytes())
	return err
}

// cells counts what text/tabwriter keeps a cell for: each cell ends with
// a tab or vertical tab, each line with a newline or form feed.
func cells(b []byte) int {
	n := 0
	for _, c := range b {
		switch c {
		case '\t', '\v', '\n', '\f':
			n++
		}
	}
	return n
}

// capWriter keeps what is written, up to max bytes.
type capWriter struct {
	buf bytes.Buffer
	max int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(c.buf.Len()+len(p)) > c.max {
		return 0, errors.New("too much")
	}
	return c.buf.Write(p)
}

// headerRow is what a table's header line is rendered from.
type headerRow map[string]string

// Label is the title of a label's column, as the rows' Label gives its value.
func (h headerRow) Label(name string) string { return strings.ToUpper(name) }

// unescape turns the "\t" and "\n" a user types into a shell argument into
// the characters, as docker does.
func unescape(s string) string {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s)
}
