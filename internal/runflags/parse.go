package runflags

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// ErrHelp is returned when the user asked for run's usage.
var ErrHelp = errors.New("help requested")

// Layers are admin-supplied flags applied on top of the user's: Default
// ones only where the user did not set that flag, Always ones in any case.
type Layers struct {
	Default []Preset
	Always  []Preset
}

// Preset is one admin-supplied flag: its canonical long name and the
// value it is set to ("true" for a boolean flag), as the configuration
// names them (internal/policy's FlagArg).
type Preset struct {
	Name  string
	Value string
}

// String is the preset as the configuration may write it.
func (p Preset) String() string { return "--" + p.Name + "=" + p.Value }

type parser struct {
	fs   *pflag.FlagSet
	opts *options
	rec  *record
	// layered are the flags a layer set (canonical names).
	layered map[string]bool
}

func newParser() *parser {
	p := &parser{
		fs:      pflag.NewFlagSet("run", pflag.ContinueOnError),
		opts:    &options{},
		rec:     &record{set: map[string][]string{}, dropped: map[string]bool{}},
		layered: map[string]bool{},
	}
	p.fs.SetOutput(io.Discard)
	p.fs.SetInterspersed(false) // everything after the image is the container's command
	p.fs.SortFlags = false
	p.opts.addFlags(p.fs)
	p.fs.VisitAll(func(f *pflag.Flag) {
		f.Value = &recorder{inner: f.Value, name: canonical(f.Name), rec: p.rec}
	})
	return p
}

func canonical(name string) string {
	if c, ok := aliases[name]; ok {
		return c
	}
	return name
}

// Parse parses args (what follows "run") like `docker run` does, then applies
// the admin's layers, and returns the request. Set and Order of the result
// hold only what the user typed.
func Parse(args []string, layers Layers) (*request.Run, error) {
	return ParseWithout(args, layers, nil)
}

// ParseWithout is Parse as if the user had not typed the flags drop
// names (canonical): their values are recorded in Set and Order, as
// typed, but not applied, so that the site's layers apply where they
// would without them. The plan judges this request, after refusing
// those flags, to find every other reason for a refusal at once.
func ParseWithout(args []string, layers Layers, drop []string) (*request.Run, error) {
	if len(args) == 1 && args[0] == "-h" {
		return nil, ErrHelp // docker's -h is --hostname, but alone it can only mean help
	}
	p := newParser()
	for _, name := range drop {
		p.rec.dropped[name] = true
	}
	p.rec.on = true
	if err := p.fs.Parse(args); err != nil {
		return nil, &refusal.UsageError{Msg: err.Error()}
	}
	p.rec.on = false
	if p.opts.help {
		return nil, ErrHelp
	}
	rest := p.fs.Args()
	if len(rest) == 0 {
		return nil, &refusal.UsageError{Msg: `"run" requires at least 1 argument: an image`}
	}
	if !p.opts.noDefaultArgs {
		if err := p.applyLayer(layers.Default); err != nil {
			return nil, fmt.Errorf("run.args.default: %w", err)
		}
	}
	if err := p.applyLayer(layers.Always); err != nil {
		return nil, fmt.Errorf("run.args.always: %w", err)
	}
	r, err := p.toRun(rest[0], rest[1:])
	if r != nil {
		r.Args = slices.Clone(args)
	}
	return r, err
}

// applyLayer sets admin flags the user did not set. For "always" flags the
// policy then refuses a user's value that differs from the admin's.
func (p *parser) applyLayer(flags []Preset) error {
	for _, f := range flags {
		if p.fs.Lookup(f.Name) == nil {
			return fmt.Errorf("%q is not a docker run flag", f.String())
		}
		name := canonical(f.Name)
		if _, userSet := p.rec.set[name]; userSet && !p.rec.dropped[name] {
			continue
		}
		if err := p.fs.Set(f.Name, f.Value); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		p.layered[name] = true
	}
	return nil
}

// changed reports whether the flag name (canonical) was set: by the
// user, unless dropped, or by a layer.
func (p *parser) changed(name string) bool {
	if p.rec.dropped[name] && !p.layered[name] {
		return false
	}
	return p.fs.Changed(name)
}

// flagInfo is what Canonical and Spelling need to know of one flag.
type flagInfo struct {
	name       string // canonical
	shorthand  string
	takesValue bool
}

var (
	tableOnce sync.Once
	byLong    map[string]flagInfo // every long name, aliases included
	byShort   map[string]flagInfo
)

// table builds the flag lookup once per process: the policy asks about
// flags many times per run, and a flag set is costly to declare.
func table() (map[string]flagInfo, map[string]flagInfo) {
	tableOnce.Do(func() {
		byLong, byShort = map[string]flagInfo{}, map[string]flagInfo{}
		p := newParser()
		p.fs.VisitAll(func(f *pflag.Flag) {
			info := flagInfo{name: canonical(f.Name), shorthand: f.Shorthand, takesValue: f.NoOptDefVal == ""}
			byLong[f.Name] = info
			if f.Shorthand != "" {
				byShort[f.Shorthand] = info
			}
		})
	})
	return byLong, byShort
}

// Canonical returns the canonical long name (without dashes) of a docker run
// flag spelled as in the config ("-i", "--interactive", "--net"), and whether
// it takes a value. ok is false for anything that is not a docker run flag.
func Canonical(spelling string) (name string, takesValue bool, ok bool) {
	long, short := table()
	var info flagInfo
	switch {
	case strings.HasPrefix(spelling, "--"):
		info, ok = long[spelling[2:]]
	case strings.HasPrefix(spelling, "-") && len(spelling) == 2:
		info, ok = short[spelling[1:]]
	}
	return info.name, info.takesValue, ok
}

// Spelling is how a canonical flag name is shown to users: "--name", or
// "-i/--interactive" when it has a shorthand.
func Spelling(name string) string {
	long, _ := table()
	if info := long[name]; info.shorthand != "" {
		return "-" + info.shorthand + "/--" + name
	}
	return "--" + name
}

// shown hides IsBoolFlag from pflag's help, which would print boolean
// flags as "--rm[=true|false]"; docker prints "--rm".
type shown struct{ pflagValue }

// Usage writes run's help, listing only the flags keep accepts; mark, when
// not nil, may add a note to a flag's line (e.g. "fixed: 4096").
func Usage(w io.Writer, keep func(name string) bool, mark func(name string) string) {
	p := newParser()
	out := pflag.NewFlagSet("run", pflag.ContinueOnError)
	out.SortFlags = false
	p.fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || (aliases[f.Name] != "") || !keep(canonical(f.Name)) {
			return
		}
		g := *f
		g.Value = shown{f.Value}
		if mark != nil {
			if m := mark(canonical(f.Name)); m != "" {
				g.Usage += " [" + m + "]"
			}
		}
		out.AddFlag(&g)
	})
	fmt.Fprintf(w, "Usage:  userdocker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container from an image, within this system's policy.\n\nOptions:\n")
	fmt.Fprint(w, out.FlagUsages())
}
