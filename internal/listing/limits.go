package listing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"text/template"
	"text/template/parse"
	"time"
)

// Limits bound what a --format template may cost. The template is the
// user's and runs as root, and Go's templates have no bounds of their own:
// {{range 1000000000000}}{{end}} spins for hours, the same range around
// printf "%999999s" writes without end (through root, past the user's
// disk quota), and join over split asks for terabytes of memory. A
// template that goes past a limit is refused with a LimitError, and
// nothing it wrote is shown.
type Limits struct {
	// Time is the wall time all rows together may take.
	Time time.Duration
	// Steps is how many range iterations all rows together may take.
	// Without recursion (refused), ranges are a template's only loops.
	Steps int
	// RowBytes is what one row, or the header, may write; Bytes is what
	// all rows together may write.
	RowBytes, Bytes int64
	// FuncBytes is what the template's functions may make for one row:
	// every string and slice they return counts, so that values kept in
	// variables cannot add up. Functions that could make much more than
	// they are given (printf, join, split, pad, …) count before they make.
	FuncBytes int64
	// Cells is how many cells a table may have, for text/tabwriter keeps
	// each until it can align them.
	Cells int
	// Depth is how deep actions may nest (if, range, with, else and
	// parenthesized pipelines), which keeps the walk of a template and
	// its execution's stack small.
	Depth int
}

// DefaultLimits are far above what a docker-style format needs (a
// {{json .}} row is a few kB; formats nest two or three deep), and far
// below what hurts a node.
var DefaultLimits = Limits{
	Time:      2 * time.Second,
	Steps:     1_000_000,
	RowBytes:  1 << 20,
	Bytes:     16 << 20,
	FuncBytes: 4 << 20,
	Cells:     100_000,
	Depth:     32,
}

// LimitError says that a --format template went past one of its Limits.
type LimitError struct{ Msg string }

func (e *LimitError) Error() string { return e.Msg }

// tickFunc is the function every range body starts with: it counts the
// iteration and ends the template when its time is up.
const tickFunc = "tick"

// budget is what one rendering has spent of its Limits. Everything but
// stop belongs to the goroutine that executes the template.
type budget struct {
	lim   Limits
	stop  atomic.Bool // the time is up
	err   *LimitError // the first limit the template went past
	steps int
	made  int64 // by functions, this row
	row   int64 // written, this row
	total int64 // written, all rows
}

func (b *budget) exceed(format string, args ...any) error {
	if b.err == nil {
		b.err = &LimitError{Msg: fmt.Sprintf(format, args...)}
	}
	return b.err
}

func (b *budget) timeUp() *LimitError {
	return &LimitError{Msg: fmt.Sprintf("it took longer than %v, the most a format may take here", b.lim.Time)}
}

// charge counts n bytes that a function is about to make (or made), and
// ends the template when the row's function budget or its time is spent.
// Every function calls it, so a template stops at its next call.
func (b *budget) charge(n int) error {
	if b.stop.Load() {
		return b.exceed("%s", b.timeUp().Msg)
	}
	b.made += int64(n)
	if b.made > b.lim.FuncBytes {
		return b.exceed("its functions made more than %s for one line, the most a format may make here", mib(b.lim.FuncBytes))
	}
	return nil
}

func (b *budget) tick() (string, error) {
	if err := b.charge(0); err != nil {
		return "", err
	}
	b.steps++
	if b.steps > b.lim.Steps {
		return "", b.exceed("it looped more than %d times, the most a format may loop here", b.lim.Steps)
	}
	return "", nil
}

// budgetWriter keeps what the template writes in buf, within the budget.
type budgetWriter struct {
	b   *budget
	buf *bytes.Buffer
}

func (w budgetWriter) Write(p []byte) (int, error) {
	b := w.b
	if err := b.charge(0); err != nil {
		return 0, err
	}
	b.row += int64(len(p))
	b.total += int64(len(p))
	switch {
	case b.row > b.lim.RowBytes:
		return 0, b.exceed("it wrote more than %s for one line, the most a format may write here", mib(b.lim.RowBytes))
	case b.total > b.lim.Bytes:
		return 0, b.exceed("it wrote more than %s, the most a format may write here", mib(b.lim.Bytes))
	}
	return w.buf.Write(p)
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// funcs are the template functions docker's --format offers, and the
// builtins of text/template that make strings, each counting what it
// makes against the budget.
func (b *budget) funcs() template.FuncMap {
	one := func(f func(string) string) func(string) (string, error) {
		return func(s string) (string, error) {
			s = f(s)
			return s, b.charge(len(s))
		}
	}
	escape := func(f func(string) string) func(...any) (string, error) {
		return func(args ...any) (string, error) {
			s, err := b.sprint(args, false)
			if err != nil {
				return "", err
			}
			s = f(s)
			return s, b.charge(len(s))
		}
	}
	return template.FuncMap{
		tickFunc: b.tick,
		"json": func(v any) (string, error) {
			if err := b.charge(0); err != nil {
				return "", err
			}
			out, err := json.Marshal(v)
			if err != nil {
				return "", err
			}
			return string(out), b.charge(len(out))
		},
		"join": func(elems []string, sep string) (string, error) {
			n := len(sep) * max(0, len(elems)-1)
			for _, e := range elems {
				n += len(e)
			}
			if err := b.charge(n); err != nil {
				return "", err
			}
			return strings.Join(elems, sep), nil
		},
		"split": func(s, sep string) ([]string, error) {
			const stringHeader = 16
			if err := b.charge(stringHeader * (strings.Count(s, sep) + 1)); err != nil {
				return nil, err
			}
			return strings.Split(s, sep), nil
		},
		"lower": one(strings.ToLower),
		"upper": one(strings.ToUpper),
		"title": one(func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		}),
		"truncate": func(s string, n int) (string, error) {
			if n >= 0 && len(s) > n {
				s = s[:n]
			}
			return s, b.charge(0)
		},
		"pad": func(s string, before, after int) (string, error) {
			before, after = max(0, min(before, maxPad)), max(0, min(after, maxPad))
			if err := b.charge(before + len(s) + after); err != nil {
				return "", err
			}
			return strings.Repeat(" ", before) + s + strings.Repeat(" ", after), nil
		},
		"printf":   b.printf,
		"print":    func(args ...any) (string, error) { return b.sprint(args, false) },
		"println":  func(args ...any) (string, error) { return b.sprint(args, true) },
		"html":     escape(template.HTMLEscapeString),
		"js":       escape(template.JSEscapeString),
		"urlquery": escape(url.QueryEscape),
	}
}

// maxPad bounds pad's spaces on either side.
const maxPad = 256

// printf is fmt.Sprintf that counts as it formats: each argument formats
// itself (see counted) and stops the whole once the budget is spent, so
// that neither wide verbs ("%999999d") nor one argument used many times
// ("%[1]s%[1]s…") can make more than the budget before it is checked.
// The price: %T and %p name counted, and * widths are not numbers.
func (b *budget) printf(format string, args ...any) (string, error) {
	if err := b.charge(len(format)); err != nil {
		return "", err
	}
	wrapped := make([]any, len(args))
	for i, a := range args {
		wrapped[i] = counted{b, a}
	}
	s := fmt.Sprintf(format, wrapped...)
	if b.err != nil {
		return "", b.err
	}
	return s, nil
}

// counted is one argument of printf.
type counted struct {
	b *budget
	v any
}

func (c counted) Format(st fmt.State, verb rune) {
	if c.b.err != nil {
		return
	}
	s := fmt.Sprintf(fmt.FormatString(st, verb), c.v)
	if c.b.charge(len(s)) == nil {
		st.Write([]byte(s))
	}
}

// sprint is fmt.Sprint (ln: fmt.Sprintln) that counts each operand
// before it adds the next: as fmt does, it puts spaces between operands
// when neither is a string (ln: always), and ln ends with a newline.
func (b *budget) sprint(args []any, ln bool) (string, error) {
	isString := func(a any) bool { return a != nil && reflect.TypeOf(a).Kind() == reflect.String }
	var sb strings.Builder
	for i, a := range args {
		if i > 0 && (ln || !isString(a) && !isString(args[i-1])) {
			sb.WriteByte(' ')
		}
		s := fmt.Sprint(a)
		if err := b.charge(len(s) + 1); err != nil {
			return "", err
		}
		sb.WriteString(s)
	}
	if ln {
		sb.WriteByte('\n')
	}
	return sb.String(), nil
}

// restrict checks the parsed template against the limits that can be
// seen before it runs, and makes every range body start with a tick.
// {{template}}, {{define}} and {{block}} are refused: recursion would be a
// loop without ticks, and 100000 calls deep (text/template's own limit)
// costs hundreds of megabytes of stack.
func (b *budget) restrict(t *template.Template) error {
	if t.Tree == nil {
		return nil // empty: Execute says so
	}
	if len(t.Templates()) > 1 {
		return b.exceed("{{define}} and {{block}} are not offered here")
	}
	return b.walk(t.Tree.Root, 0)
}

func (b *budget) walk(n parse.Node, depth int) error {
	if depth > b.lim.Depth {
		return b.exceed("it nests deeper than %d, the most a format may nest here", b.lim.Depth)
	}
	var next []parse.Node
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := b.walk(c, depth); err != nil {
				return err
			}
		}
		return nil
	case *parse.TemplateNode:
		return b.exceed("{{template}} and {{block}} are not offered here")
	case *parse.ActionNode:
		next = []parse.Node{n.Pipe}
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Cmds {
			next = append(next, c.Args...)
		}
		depth++
	case *parse.ChainNode:
		next = []parse.Node{n.Node}
	case *parse.IfNode:
		next, depth = []parse.Node{n.Pipe, n.List, n.ElseList}, depth+1
	case *parse.WithNode:
		next, depth = []parse.Node{n.Pipe, n.List, n.ElseList}, depth+1
	case *parse.RangeNode:
		next, depth = []parse.Node{n.Pipe, n.List, n.ElseList}, depth+1
		n.List.Nodes = append([]parse.Node{tickAction(n.Position())}, n.List.Nodes...)
	}
	for _, c := range next {
		if err := b.walk(c, depth); err != nil {
			return err
		}
	}
	return nil
}

// tickAction is {{tick}}, made by hand: the parser makes nodes only from
// text, and the user's text must not be edited and parsed again.
func tickAction(pos parse.Pos) *parse.ActionNode {
	call := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos,
		Args: []parse.Node{parse.NewIdentifier(tickFunc).SetPos(pos)}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos,
		Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{call}}}
}

// render executes tmpl over each row (first the header, if any), each row
// followed by a newline, and returns what it wrote; on a goroutine of its
// own, so that the time limit holds whatever the template does. A
// template still running at the deadline stops at its next step, function
// or write; what it wrote is dropped.
func (b *budget) render(tmpl *template.Template, header any, rows []any) ([]byte, error) {
	var buf bytes.Buffer
	done := make(chan error, 1)
	go func() {
		w := budgetWriter{b, &buf}
		if header != nil {
			rows = append([]any{header}, rows...)
		}
		for _, r := range rows {
			b.row, b.made = 0, 0
			if err := tmpl.Execute(w, r); err != nil {
				done <- err
				return
			}
			if _, err := w.Write([]byte{'\n'}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	timer := time.NewTimer(b.lim.Time)
	defer timer.Stop()
	select {
	case err := <-done:
		if b.err != nil {
			return nil, b.err // not text/template's wrapping of it
		}
		return buf.Bytes(), err
	case <-timer.C:
		b.stop.Store(true)
		return nil, b.timeUp()
	}
}
