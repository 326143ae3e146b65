package cli

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"

	"github.com/userdocker/userdocker/test/fakedocker"
)

// ownImagesConfig is ownConfig with images of one's own on and the image
// subcommands allowed.
func ownImagesConfig(host string) string {
	c := strings.Replace(ownConfig(host), `"wait", "exec"]`, `"wait", "exec", "inspect", "tag", "rmi"]`, 1)
	return strings.Replace(c, `pull = "missing"`, "pull = \"missing\"\nown_images = true", 1)
}

var (
	siteID  = "sha256:" + strings.Repeat("a", 64)
	aliceID = "sha256:" + strings.Repeat("b", 64)
	bobID   = "sha256:" + strings.Repeat("c", 64)
)

// ownImagesDaemon has a site image, one of alice's and one of bob's.
func ownImagesDaemon() *fakedocker.Daemon {
	return withImages(daemon(),
		image.Summary{ID: siteID, RepoTags: []string{"ud-test/busybox:latest"}},
		image.Summary{ID: aliceID, RepoTags: []string{"local/alice/mine:1"}},
		image.Summary{ID: bobID, RepoTags: []string{"local/bob/his:1"}})
}

// TestTagAndRmi: what tag and rmi ask the daemon for, and that their
// refusals ask it for nothing.
func TestTagAndRmi(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string
		stderr  string
		actions []string // "METHOD PATH?QUERY"
	}{
		{name: "tag a site image as one's own", args: []string{"tag", "ud-test/busybox", "local/alice/bb:1"},
			actions: []string{"POST /images/" + siteID + "/tag?repo=docker.io%2Flocal%2Falice%2Fbb&tag=1"}},
		{name: "tag one's own, default tag", args: []string{"tag", "local/alice/mine:1", "local/alice/mine"},
			actions: []string{"POST /images/" + aliceID + "/tag?repo=docker.io%2Flocal%2Falice%2Fmine&tag=latest"}},
		{name: "tag into bob's", args: []string{"tag", "ud-test/busybox", "local/bob/his:1"}, code: 125,
			stderr: "userdocker: tag: docker.io/local/bob/his:1 is refused: it is in the image namespace of user bob (local/bob/): only they may tag into it\n"},
		{name: "tag bob's", args: []string{"tag", "local/bob/his:1", "local/alice/his:1"}, code: 125,
			stderr: "userdocker: tag: image docker.io/local/bob/his:1 cannot be tagged: it is in the image namespace of user bob (local/bob/): only they may run it; only images you may run can be tagged\n"},
		{name: "tag over a site tag", args: []string{"tag", "local/alice/mine:1", "ud-test/busybox"}, code: 125,
			stderr: "userdocker: tag: docker.io/ud-test/busybox:latest is refused: you may tag only into your own image namespace local/alice/ (as local/alice/NAME:TAG)\n"},
		{name: "tag a missing image", args: []string{"tag", "ud-test/cuda", "local/alice/c:1"}, code: 125,
			stderr: "userdocker: tag: no such image docker.io/ud-test/cuda:latest on this node\n"},

		{name: "rmi one's last tag", args: []string{"rmi", "local/alice/mine:1"},
			stdout:  "Untagged: local/alice/mine:1\nDeleted: " + aliceID + "\n",
			actions: []string{"DELETE /images/docker.io/local/alice/mine:1?"}},
		{name: "rmi --no-prune", args: []string{"rmi", "--no-prune", "local/alice/mine:1"},
			stdout:  "Untagged: local/alice/mine:1\nDeleted: " + aliceID + "\n",
			actions: []string{"DELETE /images/docker.io/local/alice/mine:1?noprune=1"}},
		{name: "rmi --force", args: []string{"rmi", "-f", "local/alice/mine:1"}, code: 125,
			stderr: "userdocker: rmi: -f/--force is not allowed on this system: rmi removes your own tags only; remove your containers that use the image first (userdocker rm)\n"},
		{name: "rmi bob's, then one's own", args: []string{"rmi", "local/bob/his:1", "local/alice/mine:1"}, code: 1,
			stdout:  "Untagged: local/alice/mine:1\nDeleted: " + aliceID + "\n",
			stderr:  "userdocker: rmi: docker.io/local/bob/his:1 is refused: it is in the image namespace of user bob (local/bob/): only they may remove it\n",
			actions: []string{"DELETE /images/docker.io/local/alice/mine:1?"}},
		{name: "rmi a site tag", args: []string{"rmi", "ud-test/busybox"}, code: 1,
			stderr: "userdocker: rmi: docker.io/ud-test/busybox:latest is not in your own image namespace local/alice/: rmi removes only your own tags\n"},
		{name: "rmi by ID", args: []string{"rmi", strings.Repeat("b", 12)}, code: 1,
			stderr: "userdocker: rmi: docker.io/library/" + strings.Repeat("b", 12) + ":latest is not in your own image namespace local/alice/: rmi removes only your own tags\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ownImagesDaemon()
			code, out, errOut := cli(t, ownImagesConfig(d.Serve(t)), 0, tt.args...)
			if code != tt.code || out != tt.stdout || errOut != tt.stderr {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
			var got []string
			for _, c := range d.Calls() {
				if c.Method != "GET" && c.Method != "HEAD" {
					got = append(got, c.String()+"?"+c.Query.Encode())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.actions, "\n") {
				t.Fatalf("daemon actions %q, want %q", got, tt.actions)
			}
		})
	}
}

// TestInspect: one's own container and images one may run, and nothing
// of anyone else's.
func TestInspect(t *testing.T) {
	mine := &fakedocker.Container{ID: strings.Repeat("1", 64), Name: "alice-web", Labels: map[string]string{"io.userdocker.uid": "2001"}}
	bobs := &fakedocker.Container{ID: strings.Repeat("2", 64), Name: "bob-web", Labels: map[string]string{"io.userdocker.uid": "2002"}}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "one's container", args: []string{"inspect", "-f", "{{.Id}}", "web"}, stdout: mine.ID + "\n"},
		{name: "one's image", args: []string{"inspect", "-f", "{{.Id}}", "local/alice/mine:1"}, stdout: aliceID + "\n"},
		{name: "a site image", args: []string{"inspect", "--format", "{{.Id}}", "ud-test/busybox"}, stdout: siteID + "\n"},
		{name: "bob's container", args: []string{"inspect", "--type", "container", "bob-web"}, code: 1, stdout: "[]\n",
			stderr: "userdocker: no container bob-web of yours\n"},
		{name: "bob's container, any type", args: []string{"inspect", bobs.ID[:12]}, code: 1, stdout: "[]\n",
			stderr: "userdocker: no container or image " + bobs.ID[:12] + " of yours: inspect shows your containers and the images you may run\n"},
		{name: "bob's image", args: []string{"inspect", "-f", "{{.Id}}", "local/bob/his:1", "web"}, code: 1, stdout: mine.ID + "\n",
			stderr: "userdocker: no container or image local/bob/his:1 of yours: inspect shows your containers and the images you may run\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ownImagesDaemon()
			d.AddContainer(mine)
			d.AddContainer(bobs)
			code, out, errOut := cli(t, ownImagesConfig(d.Serve(t)), 0, tt.args...)
			if code != tt.code || out != tt.stdout || errOut != tt.stderr {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
			if got := actions(d); len(got) != 0 {
				t.Fatalf("inspect changed something: %q", got)
			}
		})
	}
}
