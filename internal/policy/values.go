package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// The typed values of the configuration. The decoder turns the strings
// of the file into these once, when the configuration is loaded (and,
// for keys whose strings expand placeholders, again once they are
// expanded for a caller): regular expressions compiled, flags named by
// their canonical name, mounts taken apart. Nothing downstream parses a
// configuration string again. Each keeps the text it was made from, which
// is what Explain writes.

// Pattern is a regular expression of the configuration (run.images,
// run.publish, run.args.values), compiled when it was loaded.
type Pattern struct {
	// Source is the expression as written.
	Source string
	// At is where it was written: the file, line and key of its array
	// element; the zero Origin for one made in code.
	At Origin
	re *regexp.Regexp
}

// NewPattern compiles src.
func NewPattern(src string) (Pattern, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return Pattern{}, err
	}
	return Pattern{Source: src, re: re}, nil
}

// MustPattern is NewPattern for expressions known to be valid; it panics
// on any other.
func MustPattern(src string) Pattern {
	p, err := NewPattern(src)
	if err != nil {
		panic("policy: " + err.Error())
	}
	return p
}

// Patterns is MustPattern for each of srcs.
func Patterns(srcs ...string) []Pattern {
	out := make([]Pattern, len(srcs))
	for i, s := range srcs {
		out[i] = MustPattern(s)
	}
	return out
}

// MatchString reports whether s contains a match of p. The zero Pattern
// matches nothing.
func (p Pattern) MatchString(s string) bool { return p.re != nil && p.re.MatchString(s) }

// String is the expression as written.
func (p Pattern) String() string { return p.Source }

// FirstMatch returns the first of ps that matches one of ss.
func FirstMatch(ps []Pattern, ss ...string) (Pattern, bool) {
	for _, p := range ps {
		for _, s := range ss {
			if p.MatchString(s) {
				return p, true
			}
		}
	}
	return Pattern{}, false
}

// MatchAny reports whether one of ps matches s.
func MatchAny(ps []Pattern, s string) bool {
	_, ok := FirstMatch(ps, s)
	return ok
}

// Sources are the expressions of ps as written, in order.
func Sources(ps []Pattern) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Source
	}
	return out
}

// FlagChecker reports whether spelling ("-e", "--env") is a flag of
// docker run, its canonical name ("env") and whether it takes a value, so
// that run.args can be checked and named without this package knowing
// the flag parser.
type FlagChecker func(spelling string) (name string, takesValue bool, ok bool)

// Flag is a docker run flag as run.args names it.
type Flag struct {
	// Spelling is the flag as written: "-e", "--env", "--net".
	Spelling string
	// Name is its canonical long name, without dashes ("env",
	// "network"); empty when the configuration was loaded without a
	// FlagChecker (the Slurm hooks, which never judge a run).
	Name string
}

// NewFlag checks spelling as a flag of docker run, with check when it is
// not nil, and names it.
func NewFlag(spelling string, check FlagChecker) (Flag, error) {
	if !flagSpelling(spelling) {
		return Flag{}, fmt.Errorf("%q is not a flag spelling such as -x or --name", spelling)
	}
	f := Flag{Spelling: spelling}
	if check != nil {
		name, _, ok := check(spelling)
		if !ok {
			return Flag{}, fmt.Errorf("%q is not a docker run flag", spelling)
		}
		f.Name = name
	}
	return f, nil
}

// FlagArg is a flag with its value, as run.args.always and
// run.args.default set them: "--pids-limit=4096", or a flag alone.
type FlagArg struct {
	Flag
	// Value is the value after "="; for a flag that takes none, written
	// alone, "true".
	Value string
	// Text is the entry as written.
	Text string
}

// NewFlagArg reads a run.args.always or run.args.default entry:
// "--flag=value", "-x=value", or a flag that takes no value alone.
// Without a FlagChecker it cannot tell which flags take a value: Value is
// then what follows "=", if anything.
func NewFlagArg(text string, check FlagChecker) (FlagArg, error) {
	spelling, value, hasValue := strings.Cut(text, "=")
	f, err := NewFlag(spelling, check)
	if err != nil {
		return FlagArg{}, fmt.Errorf("%q: %w", text, err)
	}
	if !hasValue && check != nil {
		if _, takesValue, _ := check(spelling); takesValue {
			return FlagArg{}, fmt.Errorf("%q needs a value (%s=VALUE)", text, spelling)
		}
		value = "true"
	}
	return FlagArg{Flag: f, Value: value, Text: text}, nil
}

// String is the entry as written.
func (a FlagArg) String() string { return a.Text }

// FlagValues is one entry of run.args.values: the values a flag may take,
// each matching one of Patterns.
type FlagValues struct {
	Flag
	Patterns []Pattern
}

// ValuesOf returns the patterns run.args.values sets for the flag with
// the canonical name, and whether it sets any.
func (a Args) ValuesOf(name string) ([]Pattern, bool) {
	for _, v := range a.Values {
		if v.Name == name {
			return v.Patterns, true
		}
	}
	return nil, false
}

// String is the flag as written.
func (f Flag) String() string { return f.Spelling }
