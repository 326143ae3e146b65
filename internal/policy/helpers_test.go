package policy

import (
	"errors"
	"strings"
	"testing"
)

// cfgPath is the file name the tests parse under.
const cfgPath = "/etc/userdocker/config.toml"

// runFlags stands in for the CLI's flag table: spelling → canonical name.
var runFlags = map[string]string{
	"-i": "interactive", "--interactive": "interactive",
	"-t": "tty", "--tty": "tty",
	"-d": "detach", "--detach": "detach",
	"-e": "env", "--env": "env",
	"-w": "workdir", "--workdir": "workdir",
	"--rm": "rm", "--read-only": "read-only", "--entrypoint": "entrypoint",
	"--name": "name", "--shm-size": "shm-size", "--pids-limit": "pids-limit",
	"--privileged": "privileged", "--label": "label", "-l": "label",
}

// boolFlags are the flags of runFlags that take no value.
var boolFlags = map[string]bool{"interactive": true, "tty": true, "detach": true, "rm": true, "read-only": true, "privileged": true}

func checkFlag(s string) (string, bool, bool) {
	c, ok := runFlags[s]
	return c, ok && !boolFlags[c], ok
}

// The typed values tests expect, made as the decoder makes them.

func flags(t *testing.T, spellings ...string) []Flag {
	return each(t, func(s string) (Flag, error) { return NewFlag(s, checkFlag) }, spellings)
}

func flagArgs(t *testing.T, texts ...string) []FlagArg {
	return each(t, func(s string) (FlagArg, error) { return NewFlagArg(s, checkFlag) }, texts)
}

// each makes a value of every string with conv, which must accept them.
func each[T any](t *testing.T, conv func(string) (T, error), ss []string) []T {
	t.Helper()
	out := []T{}
	for _, s := range ss {
		x, err := conv(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

// mounts are run.mounts entries; with placeholders, only taken apart.
func mounts(t *testing.T, specs ...string) []MountSpec {
	return each(t, func(s string) (MountSpec, error) {
		if strings.Contains(s, "{") {
			return splitMount(s)
		}
		return ParseMount(s)
	}, specs)
}

func flagValuesOf(t *testing.T, m map[string][]string) map[string]FlagValues {
	out := map[string]FlagValues{}
	for k, v := range m {
		out[k] = FlagValues{Flag: flags(t, k)[0], Patterns: Patterns(v...)}
	}
	return out
}

// asWritten is p with its patterns reduced to their text: where they
// were written and their compiled form left out, so that policies read
// from different files compare by what they say.
func asWritten(p *Policy) *Policy {
	if p == nil {
		return nil
	}
	q := *p
	strip := func(ps []Pattern) []Pattern {
		out := make([]Pattern, len(ps))
		for i, x := range ps {
			out[i] = Pattern{Source: x.Source}
		}
		return out
	}
	q.Run.Images = strip(p.Run.Images)
	q.Run.Publish = strip(p.Run.Publish)
	q.Run.Args.Values = map[string]FlagValues{}
	for k, v := range p.Run.Args.Values {
		v.Patterns = strip(v.Patterns)
		q.Run.Args.Values[k] = v
	}
	return &q
}

var testOptions = Options{CheckFlag: checkFlag}

// parseOne parses src as the main config file.
func parseOne(src string) (*Config, error) {
	return Parse([]File{{Name: cfgPath, Data: []byte(src)}}, testOptions)
}

// mustParse parses files, failing the test on any error.
func mustParse(t *testing.T, files ...File) *Config {
	t.Helper()
	c, err := Parse(files, testOptions)
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%v", err)
	}
	return c
}

// errorLines returns the messages of the errors joined in err, checking
// that each is a *ConfigError that knows its file and line.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var lines []string
	for _, e := range errs {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Errorf("error %q is a %T, want *ConfigError", e, e)
		} else if ce.File == "" || ce.Line == 0 {
			t.Errorf("error %q does not say file and line", e)
		}
		lines = append(lines, e.Error())
	}
	return lines
}

func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\ngot:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// alice is a caller in the example's gpu-power-users group.
var alice = Who{
	User:       "alice",
	UID:        2001,
	GID:        2001,
	Groups:     []uint32{2001, 3000},
	GroupNames: []string{"alice", "gpu-power-users"},
	Home:       "/home/alice",
}

// bob is a caller no override in the tests selects unless it says so.
var bob = Who{
	User:       "bob",
	UID:        2002,
	GID:        100,
	Groups:     []uint32{100},
	GroupNames: []string{"users"},
	Home:       "/home/bob",
}
