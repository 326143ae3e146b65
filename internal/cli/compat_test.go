package cli

import (
	"slices"
	"strings"
	"testing"
)

// TestGlobalFlags covers the Python userdocker's global flags: --version,
// -q, --debug (also -D, as docker spells it), the old --executor and -n,
// and the nvidia-userdocker name.
func TestGlobalFlags(t *testing.T) {
	const img = "ud-test/busybox"
	tests := []struct {
		name    string
		program string
		uid     int
		args    []string
		code    int
		stdout  string   // prefix of stdout
		stderr  []string // lines stderr must contain, in order
		absent  []string // what stderr must not contain
	}{
		{name: "version", uid: 0, args: []string{"--version"}, stdout: "userdocker version dev\n"},
		{name: "version without sudo", uid: 2001, args: []string{"--version"}, stdout: "userdocker version dev\n"},
		{name: "version as nvidia-userdocker, no note", program: "nvidia-userdocker", uid: 0, args: []string{"--version"},
			stdout: "userdocker version dev\n", absent: []string{"note:"}},
		{name: "quiet and debug", uid: 0, args: []string{"-q", "--debug", "version"}, code: 125,
			stderr: []string{"userdocker: cannot specify both --quiet and --debug"}},
		{name: "debug says what was decided", uid: 0, args: []string{"--debug", "run", "--dry-run", "-e", "TOKEN=hunter2", img},
			stdout: "{",
			stderr: []string{
				"userdocker: debug: caller alice (uid 2001, gid 2001, groups g2001(2001),g2100(2100)), from sudo",
				"userdocker: debug: configuration: ",
				"userdocker: debug: overrides that apply to you: none",
				"userdocker: debug: subcommands you may use: run, version",
				"userdocker: debug: image docker.io/ud-test/busybox:latest (pull never), user \"2001:2001\", name alice-",
				"userdocker: debug: image docker.io/ud-test/busybox:latest allowed by run.images pattern ^ud-test/busybox: (/",
				"/config.toml:5)\n",
				"userdocker: debug: GPUs: none;",
				"userdocker: debug: mounts: /etc/passwd:/etc/passwd:ro\n",
				"userdocker: debug: capabilities: drop ALL, add none; environment: ",
			},
			absent: []string{"hunter2"}},
		{name: "-D is --debug", uid: 0, args: []string{"-D", "run", "--dry-run", img}, stdout: "{",
			stderr: []string{"userdocker: debug: caller alice"}},
		{name: "no debug output without --debug", uid: 0, args: []string{"run", "--dry-run", img}, stdout: "{",
			absent: []string{"debug:"}},
		{name: "executor nvidia-docker", uid: 0, args: []string{"--executor=nvidia-docker", "run", "--dry-run", img}, stdout: "{",
			stderr: []string{"userdocker: note: --executor=nvidia-docker is not needed any more: containers get the GPUs userdocker grants you (your Slurm job's, or ones it reserves); --gpus narrows them"}},
		{name: "executor docker", uid: 0, args: []string{"--executor", "docker", "run", "--dry-run", img}, stdout: "{",
			stderr: []string{"userdocker: note: --executor=docker no longer means no GPUs"}},
		{name: "quiet silences the note", uid: 0, args: []string{"-q", "--executor=nvidia-docker", "run", "--dry-run", img}, stdout: "{",
			absent: []string{"note:"}},
		{name: "unknown executor", uid: 0, args: []string{"--executor=podman", "run", img}, code: 125,
			stderr: []string{`userdocker: invalid argument "podman" for "--executor" flag: only "docker" and "nvidia-docker" are accepted (and neither is needed)`}},
		{name: "nvidia-userdocker", program: "/usr/local/bin/nvidia-userdocker", uid: 0, args: []string{"run", "--dry-run", img}, stdout: "{",
			stderr: []string{"userdocker: note: nvidia-userdocker is plain userdocker now: containers get the GPUs userdocker grants you (your Slurm job's, or ones it reserves); --gpus narrows them"}},
		{name: "nvidia-userdocker quiet", program: "nvidia-userdocker", uid: 0, args: []string{"-q", "run", "--dry-run", img}, stdout: "{",
			absent: []string{"note:"}},
		{name: "global dry run", uid: 0, args: []string{"-n", "run", img}, stdout: "{\n"},
		{name: "global dry run is for run only", uid: 0, args: []string{"--dry-run", "version"}, code: 125,
			stderr: []string{`userdocker: -n/--dry-run before the subcommand applies to run only, not "version"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == 0 && slices.Contains(tt.args, "run") {
				requireRoot(t)
			}
			program := tt.program
			if program == "" {
				program = "userdocker"
			}
			code, stdout, stderr := cliAs(t, program, testConfig, tt.uid, tt.args...)
			if code != tt.code || !strings.HasPrefix(stdout, tt.stdout) {
				t.Fatalf("userdocker %q: exit %d, stdout %q; want exit %d, stdout starting %q\nstderr: %s", tt.args, code, stdout, tt.code, tt.stdout, stderr)
			}
			rest := stderr
			for _, want := range tt.stderr {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("userdocker %q: stderr lacks %q (in order):\n%s", tt.args, want, stderr)
				}
				rest = rest[i+len(want):]
			}
			for _, bad := range tt.absent {
				if strings.Contains(stderr, bad) {
					t.Errorf("userdocker %q: stderr contains %q:\n%s", tt.args, bad, stderr)
				}
			}
		})
	}
}
