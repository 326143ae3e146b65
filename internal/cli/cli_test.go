package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/caller"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/golden"
)

// fakeUsers is a user database with alice (2001, also in 2100) and root.
type fakeUsers struct{}

func (fakeUsers) LookupId(uid string) (*user.User, error) {
	switch uid {
	case "2001":
		return &user.User{Uid: "2001", Gid: "2001", Username: "alice", HomeDir: "/nonexistent/alice"}, nil
	case "0":
		return &user.User{Uid: "0", Gid: "0", Username: "root", HomeDir: "/root"}, nil
	}
	return nil, user.UnknownUserIdError(0)
}

func (fakeUsers) GroupIds(u *user.User) ([]string, error) {
	if u.Uid == "2001" {
		return []string{"2001", "2100"}, nil
	}
	return []string{"0"}, nil
}

func (fakeUsers) LookupGroupId(gid string) (*user.Group, error) {
	return &user.Group{Gid: gid, Name: "g" + gid}, nil
}

const testConfig = `
subcommands = ["run", "version"]
[run]
images = ['^ud-test/busybox:']
pull = "never"
env = { HOME = "{home}", USER = "{user}" }
[run.args]
allowed = ["-i", "-t", "--rm", "-e", "--name"]
always = ["--pids-limit=4096"]
default = ["--shm-size=64m"]
[run.mounts]
always = ["/etc/passwd:/etc/passwd:ro"]
default = ["{home}:{home}"]
[slurm]
outside_job = "no-gpu"
`

// noDaemon is the docker_host of the tests that need no daemon: a socket
// that is not there.
const noDaemon = "unix:///nonexistent/userdocker-test/docker.sock"

// cli runs userdocker in-process as alice through "sudo", with the test
// config, and returns its exit code and output.
func cli(t *testing.T, config string, uid int, args ...string) (int, string, string) {
	t.Helper()
	return cliAs(t, "userdocker", config, uid, args...)
}

// cliAs is cli with argv[0] set to program.
func cliAs(t *testing.T, program, config string, uid int, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if !strings.Contains(config, "docker_host") {
		// Unit tests never talk to the machine's dockerd.
		config = "docker_host = \"" + noDaemon + "\"\n" + config
	}
	config += "\n[audit]\nlog = \"" + filepath.Join(dir, "audit.log") + "\"\n"
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	sudo := map[string]string{"SUDO_UID": "2001", "SUDO_GID": "2001", "SUDO_USER": "alice"}
	code := Main(context.Background(), Env{
		Args: args, Stdout: &out, Stderr: &errb, UID: uid, Proc: parentOf(sudo),
		Lookup:        func(k string) (string, bool) { v, ok := sudo[k]; return v, ok },
		Users:         fakeUsers{},
		ConfigPath:    path,
		AuditFallback: filepath.Join(t.TempDir(), "audit-fallback.log"),
		CgroupRoot:    fakeCgroupRoot(t),
		LoadWait:      200 * time.Millisecond,
		Hostname:      func() (string, error) { return "vm.example.org", nil },
		Rand:          bytes.NewReader([]byte{0xde, 0xad, 0xbe, 0xef}),
		Program:       program,
	})
	return code, out.String(), errb.String()
}

// parentOf is the /proc of a process that sudo started with the
// variables sudo (sudo's real uid is SUDO_UID), or, without SUDO_UID, that
// a root shell started.
func parentOf(sudo map[string]string) caller.Proc {
	name, uid := "sudo", sudo["SUDO_UID"]
	if _, ok := sudo["SUDO_UID"]; !ok {
		name, uid = "bash", "0"
	}
	return fakeProc(name, uid, "4294967295")
}

// fakeProc is the /proc of a process whose parent (pid 4242) is name,
// with real uid uid, in a session with login uid loginuid.
func fakeProc(name, uid, loginuid string) caller.Proc {
	return caller.Proc{
		Getppid: func() int { return 4242 },
		ReadFile: func(path string) ([]byte, error) {
			switch path {
			case "/proc/4242/status":
				return []byte("Name:\t" + name + "\nUid:\t" + uid + "\t0\t0\t0\n"), nil
			case "/proc/self/loginuid":
				return []byte(loginuid), nil
			}
			return nil, os.ErrNotExist
		},
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs it")
		}
		t.Skip("needs root: userdocker resolves host paths with the caller's identity")
	}
}

func TestHelpListsOnlyAllowedSubcommands(t *testing.T) {
	code, out, _ := cli(t, testConfig, 0, "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	golden.Check(t, "help.golden", []byte(out))
	if strings.Contains(out, "  ps ") || !strings.Contains(out, "  run ") {
		t.Errorf("help must list run and not ps:\n%s", out)
	}
}

// TestRunHelpNamesOwnNamespace: run -h names the caller's own image
// namespace where images of one's own are on.
func TestRunHelpNamesOwnNamespace(t *testing.T) {
	for own, want := range map[string]bool{"false": false, "true": true} {
		p := configDir(t, "subcommands = [\"run\"]\n[run]\nown_images = "+own+"\n", nil)
		_, out, _ := runAs(t, p, "2001", "run", "-h")
		if got := strings.Contains(out, "\nImages of your own (yours alone; load or tag them on this node, never pulled):\n  local/alice/NAME[:TAG]\n"); got != want {
			t.Errorf("own_images = %s: run -h names local/alice/: %v, want %v\n%s", own, got, want, out)
		}
	}
}

// TestRunHelpListsUserRoots: run -h names the caller's own directories,
// expanded for the caller.
func TestRunHelpListsUserRoots(t *testing.T) {
	p := configDir(t, "subcommands = [\"run\"]\n[run.mounts]\nuser_roots = ['{home}', '/scratch/{user}']\n", nil)
	_, out, _ := runAs(t, p, "2001", "run", "-h")
	if want := "\nYour own directories: any directory under these, -v DIR:CONTAINER[:ro]:\n  /home/alice\n  /scratch/alice\n"; !strings.Contains(out, want) {
		t.Errorf("run -h lacks %q:\n%s", want, out)
	}
}

func TestRunHelpListsOnlyAllowedFlags(t *testing.T) {
	code, out, _ := cli(t, testConfig, 0, "run", "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	golden.Check(t, "run-help.golden", []byte(out))
	for _, want := range []string{"-i, --interactive", "--pids-limit", "[fixed: 4096]", "[default: 64m]", "-v, --volume"} {
		if !strings.Contains(out, want) {
			t.Errorf("run -h lacks %q", want)
		}
	}
	for _, absent := range []string{"--privileged", "--cap-add", "--network", "--device"} {
		if strings.Contains(out, absent) {
			t.Errorf("run -h offers %s, which the policy does not allow", absent)
		}
	}
}

func TestExitCodesAndMessages(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name string
		uid  int
		args []string
		code int
		want string
	}{
		{"without sudo", 2001, []string{"run", "ud-test/busybox"}, 125, "userdocker: userdocker must be run through sudo: sudo userdocker ...\n"},
		{"unknown subcommand", 0, []string{"frobnicate"}, 125, "userdocker: unknown subcommand \"frobnicate\"\nSee 'userdocker --help'.\n"},
		{"subcommand not allowed", 0, []string{"ps"}, 125, ""},
		{"every refusal on its own line", 0, []string{"run", "--privileged", "--cap-add", "ALL", "ud-test/denied"}, 125,
			"userdocker: --privileged is not allowed on this system\n" +
				"userdocker: --cap-add is not allowed on this system\n" +
				"userdocker: image docker.io/ud-test/denied:latest is not allowed on this system (see run.images)\n"},
		{"usage error", 0, []string{"run", "--bogus", "ud-test/busybox"}, 125, "userdocker: unknown flag: --bogus\nSee 'userdocker run --help'.\n"},
		{"version flag", 2001, []string{"--version"}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := cli(t, testConfig, c.uid, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, errOut)
			}
			if c.want != "" && errOut != c.want {
				t.Fatalf("stderr\n%q\nwant\n%q", errOut, c.want)
			}
		})
	}
}

func TestBrokenConfigFailsClosed(t *testing.T) {
	code, _, errOut := cli(t, "docker_host = \""+noDaemon+"\"\n[run]\nprivileged = true\n", 0, "run", "ud-test/busybox")
	if code != 125 || !strings.Contains(errOut, "config.toml:3") || !strings.Contains(errOut, "run.privileged") {
		t.Fatalf("exit %d stderr %q: want 125 naming file:line and key", code, errOut)
	}
}

func TestExitCodeOf(t *testing.T) {
	if got := exitCode(&StatusError{Code: 7}); got != 7 {
		t.Errorf("container status 7 → %d", got)
	}
	if got := exitCode(errors.New("daemon unreachable")); got != 125 {
		t.Errorf("own error → %d", got)
	}
	if got := exitCode(fmt.Errorf("start container: %w", &engine.CommandError{Status: 127, Err: errors.New("executable file not found")})); got != 127 {
		t.Errorf("command not found → %d, want docker's 127", got)
	}
	if got := exitCode(nil); got != 0 {
		t.Errorf("nil → %d", got)
	}
}

// TestRunHelpInUsersTerms: run -h says which values, ports, sizes and
// images the policy allows as a user types them, not as regexes.
func TestRunHelpInUsersTerms(t *testing.T) {
	code, out, _ := cli(t, `
subcommands = ["run"]
[run]
images = ['^ud-test/busybox:', '^docker\.io/library/(debian|ubuntu):', 'anywhere']
publish = ['^127\.0\.0\.1::[0-9]+$']
[run.args]
allowed = ["--shm-size", "-m", "--stop-signal", "--tmpfs"]
[run.args.values]
"--stop-signal" = ['^SIG(TERM|INT)$']
[run.limits]
shm_size = "8g"
memory = "64g"
tmpfs_size = "1GB"
`, 0, "run", "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"[allowed: SIGTERM or SIGINT]",
		"Ports you may publish:\n  -p 127.0.0.1::PORT\n",
		"  --shm-size at most 8g\n  -m/--memory at most 64g (also without -m)\n  --tmpfs size= at most 1GB (also without size=)\n  inside a job, none is more than the job's memory\n",
		"  ud-test/busybox:*\n  docker.io/library/debian:*\n  docker.io/library/ubuntu:*\n  anywhere (regular expression)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("run -h lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `\.`) || strings.Contains(out, "[0-9]") {
		t.Errorf("run -h shows a regex:\n%s", out)
	}
}

// TestDebugSaysWhichRuleRefused: under --debug each refusal is followed by
// the rule and the setting that decided it, with the file and line that
// set it; a rule no setting changes says so.
func TestDebugSaysWhichRuleRefused(t *testing.T) {
	requireRoot(t)
	code, _, errOut := cli(t, testConfig, 0, "-D", "run", "-n", "--privileged", "--pids-limit", "1", "ud-test/denied")
	if code != 125 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var lines []string
	for _, l := range strings.SplitAfter(errOut, "\n") {
		if strings.HasPrefix(l, "userdocker: debug: refused") || !strings.HasPrefix(l, "userdocker: debug:") {
			lines = append(lines, l)
		}
	}
	got := regexp.MustCompile(`/\S*/config\.toml`).ReplaceAllString(strings.Join(lines, ""), "config.toml")
	want := "userdocker: --privileged is not allowed on this system\n" +
		"userdocker: debug: refused by rule \"args\", decided by run.args.allowed (config.toml:9)\n" +
		"userdocker: --pids-limit is fixed to \"4096\" on this system\n" +
		"userdocker: debug: refused by rule \"args\", decided by run.args.always (config.toml:10)\n" +
		"userdocker: image docker.io/ud-test/denied:latest is not allowed on this system (see run.images)\n" +
		"userdocker: debug: refused by rule \"image\", decided by run.images (config.toml:5)\n"
	if got != want {
		t.Fatalf("stderr\n%s\nwant\n%s", got, want)
	}
}

// fakeCgroupRoot is a directory shaped like a cgroup v2 mount, where run
// makes the parent cgroups of the fake daemon's containers: the root's
// files, and the .effective cpuset the kernel would compute for a
// caller's parent on this host.
func fakeCgroupRoot(t *testing.T) string {
	root := t.TempDir()
	const host = "vm" // cliAs's Hostname
	files := map[string]string{
		"cgroup.controllers":     "cpuset cpu io memory pids\n",
		"cgroup.subtree_control": "",
	}
	for _, uid := range []string{"2001", "0"} {
		dir := "userdocker/" + host + "/user_" + uid + "/"
		files[dir+"cpuset.cpus.effective"] = "0-3\n"
		files[dir+"cpuset.mems.effective"] = "0\n"
	}
	for _, dir := range []string{"userdocker/", "userdocker/" + host + "/"} {
		files[dir+"cgroup.subtree_control"] = ""
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
