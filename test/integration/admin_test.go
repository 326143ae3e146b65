//go:build integration

package integration

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/test/fakedocker"
	"github.com/userdocker/userdocker/test/harness"
)

// udRoot runs the test binary as root without sudo, as an admin would.
func udRoot(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(testBinary, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	return collect(t, cmd)
}

func TestConfigCommands(t *testing.T) {
	requireSetup(t)
	example, err := filepath.Abs("../../contrib/config.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		who       string // "" : root without sudo
		args      []string
		code      int
		stdout    string // prefix
		stderr    string // exactly
		stdoutHas string
	}{
		{name: "user refused", who: alice, args: []string{"config", "check"}, code: 125,
			stderr: "userdocker: \"config\" is not allowed on this system\n"},
		{name: "user refused explain", who: bob, args: []string{"config", "explain", "--user", alice}, code: 125,
			stderr: "userdocker: \"config\" is not allowed on this system\n"},
		{name: "root check", args: []string{"config", "check"}, stdout: "configuration OK: " + testConfig + " (0 overrides)\n"},
		{name: "root checks the shipped example", args: []string{"config", "check", example}, stdout: "configuration OK: " + example},
		{name: "root explain", args: []string{"config", "explain", "--user", alice},
			stdout:    "# Effective policy of " + alice,
			stdoutHas: "log = '/var/log/userdocker-test-audit.log'  # from " + testConfig + ":"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.who == "" {
				r = udRoot(t, tc.args...)
			} else {
				r = ud(t, tc.who, nil, tc.args...)
			}
			if r.code != tc.code || r.stderr != tc.stderr || !strings.HasPrefix(r.stdout, tc.stdout) || !strings.Contains(r.stdout, tc.stdoutHas) {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout starting %q with %q, stderr %q",
					r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.stdoutHas, tc.stderr)
			}
		})
	}
}

// TestConfigFaults: a configuration that is broken, missing or writable by
// others stops every user command with one line naming the file (and line)
// and exit 125, and root's config check lists the problem.
func TestConfigFaults(t *testing.T) {
	requireSetup(t)
	brokenLine := strconv.Itoa(strings.Count(baseConfig, "\n") + 1)
	tests := []struct {
		name   string
		break_ func(t *testing.T)
		stderr string
	}{
		{"broken", func(t *testing.T) { writeConfig(t, baseConfig+"colour = \"red\"\n") },
			"userdocker: configuration: " + testConfig + ":" + brokenLine + ":1: audit.colour: unknown key\n"},
		{"missing", func(t *testing.T) {
			if err := os.Rename(testConfig, testConfig+".aside"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Rename(testConfig+".aside", testConfig) })
		}, "userdocker: configuration: read config: open " + testConfig + ": no such file or directory\n"},
		{"writable by others", func(t *testing.T) {
			if err := os.Chmod(testConfig, 0o666); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(testConfig, 0o644) })
		}, "userdocker: configuration: " + testConfig + ": mode 0666 is writable by group or others: only root may set the policy\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.break_(t)
			before := containersOf(t, alice)
			r := ud(t, alice, nil, "run", "--rm", testImage, "true")
			if r.code != 125 || r.stderr != tc.stderr {
				t.Errorf("run: exit %d, stderr %q; want 125, %q", r.code, r.stderr, tc.stderr)
			}
			if added := newContainers(before, containersOf(t, alice)); len(added) > 0 {
				t.Errorf("the run left containers %v", added)
			}
			if r := udRoot(t, "config", "check"); r.code != 1 || !strings.Contains(r.stdout, "    hint: ") {
				t.Errorf("config check: exit %d, stdout %q; want 1 and the problem with a hint", r.code, r.stdout)
			}
		})
	}
}

// TestDaemonFaults: the Docker daemon missing, not running (a stale
// socket) or hung gives one line and exit 125, in bounded time, and leaves
// no container behind. The hung daemon is a fake socket, never the real
// dockerd, which other suites use.
func TestDaemonFaults(t *testing.T) {
	requireSetup(t)
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	hung := fakedocker.Start(t, t.TempDir(), fakedocker.Hang)
	tests := []struct {
		name, host, stderr string
		within             time.Duration
	}{
		{"socket missing", "unix://" + filepath.Join(dir, "none.sock"),
			"userdocker: cannot reach the Docker daemon at unix://" + filepath.Join(dir, "none.sock") + ": is dockerd running?\n", 5 * time.Second},
		{"dockerd not running", "unix://" + stale,
			"userdocker: cannot reach the Docker daemon at unix://" + stale + ": is dockerd running?\n", 5 * time.Second},
		{"dockerd hung", hung,
			"userdocker: the Docker daemon at " + hung + " did not answer within 30s: is dockerd hung?\n", 45 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			writeConfig(t, strings.Replace(baseConfig, `docker_host = "unix:///var/run/docker.sock"`, `docker_host = "`+tc.host+`"`, 1))
			before := containersOf(t, alice)
			start := time.Now()
			r := ud(t, alice, nil, "run", "--rm", testImage, "true")
			took := time.Since(start)
			if r.code != 125 || r.stderr != tc.stderr {
				t.Errorf("exit %d, stderr %q; want 125, %q", r.code, r.stderr, tc.stderr)
			}
			if took > tc.within {
				t.Errorf("took %v, want at most %v", took, tc.within)
			}
			if added := newContainers(before, containersOf(t, alice)); len(added) > 0 {
				t.Errorf("the run left containers %v", added)
			}
		})
	}
}

// TestBashCompletion runs contrib/bash-completion/userdocker in bash as
// alice, with sudo pointed at the test binary: it offers the subcommands
// and run flags her policy allows, and nothing else.
func TestBashCompletion(t *testing.T) {
	requireSetup(t)
	script, err := filepath.Abs("../../contrib/bash-completion/userdocker")
	if err != nil {
		t.Fatal(err)
	}
	complete := func(t *testing.T, words ...string) []string {
		t.Helper()
		prog := `source "$1"; shift
sudo() { [[ $1 == -n && $2 == userdocker ]] || return 1; shift 2; command sudo -n ` + testBinary + ` "$@"; }
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _userdocker; printf '%s\n' "${COMPREPLY[@]}"`
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", append([]string{"-c", prog, "bash", script}, words...)...)
		harness.AsUser(t, cmd, alice)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/home/" + alice, "LANG=C"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	subs := complete(t, "userdocker", "")
	for _, s := range []string{"run", "ps", "version"} {
		if !slices.Contains(subs, s) {
			t.Errorf("subcommands %q lack %s", subs, s)
		}
	}
	if slices.Contains(subs, "config") || slices.Contains(subs, "__complete") {
		t.Errorf("subcommands %q offer what alice may not use", subs)
	}
	flags := complete(t, "userdocker", "run", "--")
	for _, f := range []string{"--rm", "--interactive", "--env", "--name"} {
		if !slices.Contains(flags, f) {
			t.Errorf("run flags %q lack %s", flags, f)
		}
	}
	for _, f := range []string{"--privileged", "--pids-limit", "--cap-add", "--network", "--device"} {
		if slices.Contains(flags, f) {
			t.Errorf("run flags %q offer %s, which the policy does not allow", flags, f)
		}
	}
	if got := complete(t, "userdocker", "config", ""); len(got) != 0 {
		t.Errorf("config subcommands offered to alice: %q", got)
	}
}

// newContainers returns the IDs in after that are not in before. (Other
// suites may remove containers meanwhile; only additions count.)
func newContainers(before, after []string) []string {
	var added []string
	for _, id := range after {
		if !slices.Contains(before, id) {
			added = append(added, id)
		}
	}
	return added
}
