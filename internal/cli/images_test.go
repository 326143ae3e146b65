package cli

import (
	"testing"

	"github.com/docker/docker/api/types/image"
)

func TestImages(t *testing.T) {
	images := []image.Summary{
		{ID: "sha256:aaaaaaaaaaaaaaaa", RepoTags: []string{"ud-test/busybox:latest"}, Created: 1},
		{ID: "sha256:bbbbbbbbbbbbbbbb", ParentID: "sha256:aaaaaaaaaaaaaaaa", RepoTags: []string{"alice/app:1"}, Created: 2},
	}
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{name: "quiet", args: []string{"images", "-q"}, stdout: "aaaaaaaaaaaa\nbbbbbbbbbbbb\n"},
		{name: "format", args: []string{"images", "--format", "{{.Repository}}:{{.Tag}}"}, stdout: "ud-test/busybox:latest\nalice/app:1\n"},
		{name: "tree", args: []string{"images", "--tree"}, stdout: "aaaaaaaaaaaa 0B Tags: ud-test/busybox:latest\n└─bbbbbbbbbbbb 0B Tags: alice/app:1\n"},
		{name: "tree and quiet", args: []string{"images", "--tree", "-q"}, code: 125,
			stderr: "userdocker: conflicting options: --tree cannot be combined with -q, --format or --digests\nSee 'userdocker images --help'.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := withImages(daemon(), images...)
			code, out, errOut := cli(t, ownConfig(d.Serve(t)), 0, tt.args...)
			if code != tt.code || out != tt.stdout || errOut != tt.stderr {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}
