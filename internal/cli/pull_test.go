package cli

import (
	"strings"
	"testing"
)

func TestPullRefusals(t *testing.T) {
	tests := []struct {
		name   string
		config func(host string) string
		args   []string
		stderr string
	}{
		{name: "denied image", config: ownConfig, args: []string{"pull", "ud-test/denied"},
			stderr: "userdocker: image docker.io/ud-test/denied:latest is not allowed on this system (see run.images): not pulled\n"},
		{name: "not a reference", config: ownConfig, args: []string{"pull", "UPPER"},
			stderr: "userdocker: image \"UPPER\" is not a valid image reference: invalid reference format: repository name (library/UPPER) must be lowercase\n"},
		{name: "all tags", config: ownConfig, args: []string{"pull", "-a", "ud-test/busybox"},
			stderr: "userdocker: -a/--all-tags is not allowed on this system: pull one image by its name\n"},
		{name: "pull never", config: func(host string) string {
			return strings.Replace(ownConfig(host), `pull = "missing"`, `pull = "never"`, 1)
		}, args: []string{"pull", "ud-test/busybox"},
			stderr: "userdocker: pull is not allowed on this system (run.pull = \"never\"): only images already here can be run\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := daemon()
			code, _, errOut := cli(t, tt.config(d.Serve(t)), 0, tt.args...)
			if code != 125 || errOut != tt.stderr {
				t.Fatalf("exit %d, stderr %q; want 125, %q", code, errOut, tt.stderr)
			}
			if len(actions(d)) != 0 {
				t.Fatalf("the daemon was asked %q before the refusal", actions(d))
			}
		})
	}
}

func TestPull(t *testing.T) {
	tests := []struct {
		name, stdout string
		args         []string
	}{
		{name: "progress", args: []string{"pull", "ud-test/busybox"},
			stdout: "latest: Pulling from ud-test/busybox\nStatus: Downloaded newer image for ud-test/busybox:latest\n"},
		{name: "quiet", args: []string{"pull", "-q", "ud-test/busybox"}, stdout: "docker.io/ud-test/busybox:latest\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := daemon()
			code, out, errOut := cli(t, ownConfig(d.Serve(t)), 0, tt.args...)
			if code != 0 || out != tt.stdout {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 0, %q", code, out, errOut, tt.stdout)
			}
			if got := actions(d); len(got) != 1 || got[0] != "POST /images/create" {
				t.Fatalf("daemon actions %q, want one pull", got)
			}
		})
	}
}
