package policy

import (
	"bytes"
	"github.com/userdocker/userdocker/internal/golden"
	"reflect"
	"testing"
)

func TestExplain(t *testing.T) {
	c := mustParse(t, readExample(t), File{Name: "/etc/userdocker/conf.d/50-site.toml", Data: []byte(`
[run]
pull = "never"
env = { HOME = "{home}", USER = "{user}", "ODD KEY" = "it's" }
`)})
	tests := []struct {
		name string
		who  Who
		file string
	}{
		{"power user", alice, "explain-alice.golden"},
		{"plain user", bob, "explain-bob.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, prov, err := c.For(tc.who, "42")
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Explain(&out, p, prov); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.file, out.Bytes())
		})
	}
}

// TestExplainRoundTrip checks that Explain writes a configuration that
// sets what it explains.
func TestExplainRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		file File
	}{
		{"example", readExample(t)},
		{"placeholders", File{Name: cfgPath, Data: []byte(placeholderConfig)}},
		{"odd strings", File{Name: cfgPath, Data: []byte(`
[run]
images = ["it's", "tab\there", 'back\slash', "quote\"", "\u007f"]
env = { "a b" = "", "é" = "ü" }
[slurm]
stop_timeout = "1h2m3.5s"
`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, prov := mustParse(t, tc.file).System()
			var out bytes.Buffer
			if err := Explain(&out, p, prov); err != nil {
				t.Fatal(err)
			}
			again, _ := mustParse(t, File{Name: "explained.toml", Data: out.Bytes()}).System()
			if !reflect.DeepEqual(asWritten(again), asWritten(p)) {
				t.Errorf("parsing Explain's output gives\n%#v\nwant\n%#v\noutput:\n%s", again, p, out.Bytes())
			}
		})
	}
}
