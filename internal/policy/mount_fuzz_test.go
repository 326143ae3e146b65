package policy

import (
	"strings"
	"testing"
)

// FuzzParseMount: run.mounts entries. No panic; what parses has an
// absolute host path without ".." elements, and so has the container
// path when given: the policy names places, and must not lie about them.
func FuzzParseMount(f *testing.F) {
	for _, s := range []string{
		"/etc/passwd:/etc/passwd:ro", "/scratch/alice:/scratch", "/projects:", "/data:/data:rw",
		"/a/../etc:/x", "relative:/x", "/a:/b:rx", ":", "/a", "/a:/b:ro:extra", "/a:b/../c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := ParseMount(spec)
		if err != nil {
			return
		}
		for _, p := range []string{m.Host, m.Container} {
			if p == "" && p == m.Container {
				continue
			}
			if !strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") {
				t.Fatalf("ParseMount(%q) accepted path %q", spec, p)
			}
		}
	})
}
