package policy

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sampleWho is the caller that sampleVars describe: whatever Parse
// accepted for it must also resolve for it.
var sampleWho = Who{
	User:       sampleVars["user"],
	UID:        1000,
	GID:        1000,
	Groups:     []uint32{1000},
	GroupNames: []string{"user"},
	Home:       sampleVars["home"],
}

// FuzzParse checks that Parse never panics, that every problem it reports
// is a *ConfigError that says file and line, and that a configuration it
// accepts resolves: its system-wide policy survives Explain and a second
// Parse unchanged, and For the sample caller fails only when overrides
// that are fine alone clash together.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("testdata/example.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(placeholderConfig))
	f.Add(orderConfig[0].Data)
	for _, s := range []string{
		"",
		"[run\n",
		"[run]\npull = 'sometimes'\n",
		"override = [{ uid = 1, gpu = { max_count = 2, min = 1 } }]\n",
		"[[override]]\ngroup = 'user'\ngpu.default_count = 3\ngpu.max_count = 3\n[[override]]\nuser = 'user'\ngpu.max_count = 2\n",
		"[run.args.values]\n'-e' = ['^A=']\n'--env' = ['^B=']\n",
		"[run.mounts]\navailable = ['/scratch/{user}/../x:/x', '/p:']\n",
		"'a.b' = 1\n[\"run\".'x.y']\nz = 1\n",
		"[run]\nenv = { \"a b\" = \"it's\", JSON = '{\"a\": 1}' }\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse([]File{{Name: "fuzz.toml", Data: data}}, testOptions)
		if err != nil {
			checkLocated(t, err, "fuzz.toml")
			return
		}
		p, prov := c.System()
		var out bytes.Buffer
		if err := Explain(&out, p, prov); err != nil {
			t.Fatal(err)
		}
		c2, err := Parse([]File{{Name: "explained.toml", Data: out.Bytes()}}, testOptions)
		if err != nil {
			t.Fatalf("Explain's output does not parse: %v\n%s", err, out.Bytes())
		}
		if again, _ := c2.System(); !reflect.DeepEqual(asWritten(again), asWritten(p)) {
			t.Fatalf("Explain's output parses to\n%#v\nwant\n%#v", again, p)
		}
		if _, _, err := c.For(sampleWho, sampleVars["job"]); err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.HasSuffix(ce.Key, "_count") {
				t.Fatalf("For(sample caller) failed on an accepted config: %v", err)
			}
		}
		_, _, _ = c.For(Who{}, "") // must not panic
	})
}

func checkLocated(t *testing.T, err error, file string) {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *ConfigError
		if !errors.As(e, &ce) || ce.File != file || ce.Line < 1 || ce.Msg == "" {
			t.Fatalf("error %q (%T) does not say file, line and why", e, e)
		}
	}
}
