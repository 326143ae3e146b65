package plan

import "testing"

func TestImageDigest(t *testing.T) {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	pulled := &Image{ID: "sha256:ab", RepoDigests: []string{"example.org/other@" + d2, "example.org/team/app@" + d1}}
	for _, tc := range []struct {
		name, ref string
		img       *Image
		want      string
	}{
		{"by tag, the repository's digest", "example.org/team/app:v1", pulled, "example.org/team/app@" + d1},
		{"by digest, the reference itself", "example.org/team/app@" + d2, nil, "example.org/team/app@" + d2},
		{"a Hub name", "docker.io/library/busybox:latest", &Image{RepoDigests: []string{"busybox@" + d1}}, "docker.io/library/busybox@" + d1},
		{"no digest in that repository", "example.org/team/tool:v1", pulled, ""},
		{"built here", "docker.io/ud-test/busybox:latest", &Image{ID: "sha256:ab"}, ""},
		{"not inspected yet", "example.org/team/app:v1", nil, ""},
		{"a malformed digest is skipped", "example.org/team/app:v1", &Image{RepoDigests: []string{"example.org/team/app@sha256:xyz"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ImageDigest(tc.ref, tc.img); got != tc.want {
				t.Errorf("ImageDigest(%q) = %q, want %q", tc.ref, got, tc.want)
			}
		})
	}
}
