package plan

import (
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// FuzzNormalizeImage feeds image arguments to the reference parser and the
// policy match: never a panic, never a flag accepted as an image, and a
// normalized reference is a fixed point (matching it again gives the same
// image, so the policy judges what Docker will run).
func FuzzNormalizeImage(f *testing.F) {
	for _, s := range []string{
		"busybox", "ud-test/busybox:latest", "docker.io/library/debian:12",
		"localhost:5000/x/y:tag", "ubuntu@sha256:" + strings.Repeat("a", 64),
		"--privileged", "-v", "UPPER/case", "a//b", ":tag", "x:", "@", "",
		"sha256:" + strings.Repeat("0", 64), "registry.example.com/ud-test/busybox",
	} {
		f.Add(s)
	}
	// The zero Pattern, which matches nothing, stands for one that never compiled.
	patterns := append(policy.Patterns(`^docker\.io/library/(debian|ubuntu):`, `^ud-test/`), policy.Pattern{})
	f.Fuzz(func(t *testing.T, ref string) {
		named, err := NormalizeImage(ref)
		if err != nil {
			if len(refusal.All(err)) != 1 {
				t.Fatalf("NormalizeImage(%q) error %v is not one refusal", ref, err)
			}
			return
		}
		if strings.HasPrefix(ref, "-") {
			t.Fatalf("NormalizeImage(%q) accepted a flag as an image", ref)
		}
		again, err := NormalizeImage(named.String())
		if err != nil || again.String() != named.String() {
			t.Fatalf("NormalizeImage(%q) = %q, which normalizes to %v, %v", ref, named, again, err)
		}
		if ImageAllowed(named, patterns) != ImageAllowed(again, patterns) {
			t.Fatalf("ImageAllowed differs between %q and its normal form %q", ref, named)
		}
	})
}
