//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/test/harness"
)

// TestCompatGlobalFlags: the Python userdocker's global flags, through real
// sudo as a real user.
func TestCompatGlobalFlags(t *testing.T) {
	requireSetup(t)
	prepareDirs(t)
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string   // stdout must contain
		stderr []string // stderr must contain each
		absent []string // stderr must not contain
	}{
		{"version", []string{"--version"}, 0, "userdocker version ", nil, nil},
		{"quiet and debug refused", []string{"-q", "--debug", "version"}, 125, "",
			[]string{"userdocker: cannot specify both --quiet and --debug"}, nil},
		{"debug explains, without -e values", []string{"--debug", "run", "--rm", "-e", "TOKEN=hunter2", testImage, "true"}, 0, "",
			[]string{
				"userdocker: debug: caller udtest-alice (uid 2001, gid 2001, groups ",
				"userdocker: debug: configuration: /etc/userdocker-test/config.toml",
				"userdocker: debug: image docker.io/ud-test/busybox:latest (pull never), user \"2001:2001\", name udtest-alice-",
				"userdocker: debug: capabilities: drop ALL, add none; environment: ",
			}, []string{"hunter2"}},
		{"quiet prints nothing of its own", []string{"-q", "--executor=nvidia-docker", "run", "--rm", testImage, "true"}, 0, "", nil,
			[]string{"userdocker:"}},
		{"executor nvidia-docker", []string{"--executor=nvidia-docker", "run", "--rm", testImage, "true"}, 0, "",
			[]string{"userdocker: note: --executor=nvidia-docker is not needed any more"}, nil},
		{"unknown executor refused", []string{"--executor=/bin/sh", "run", "--rm", testImage, "true"}, 125, "",
			[]string{`userdocker: invalid argument "/bin/sh" for "--executor" flag`}, nil},
		{"global -n is run's --dry-run", []string{"-n", "run", testImage, "true"}, 0, `"User": "2001:2001"`, nil, nil},
		{"global -n refused for other subcommands", []string{"-n", "ps"}, 125, "",
			[]string{`userdocker: -n/--dry-run before the subcommand applies to run only, not "ps"`}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ud(t, alice, nil, c.args...)
			if r.code != c.code || !strings.Contains(r.stdout, c.stdout) {
				t.Fatalf("userdocker %q: exit %d stdout %q stderr %q; want exit %d, stdout with %q", c.args, r.code, r.stdout, r.stderr, c.code, c.stdout)
			}
			for _, want := range c.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("userdocker %q: stderr lacks %q:\n%s", c.args, want, r.stderr)
				}
			}
			for _, bad := range c.absent {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("userdocker %q: stderr has %q:\n%s", c.args, bad, r.stderr)
				}
			}
		})
	}
}

// TestCompatNvidiaUserdocker: the name the Python userdocker's README gave
// its nvidia-docker alias, as `make install` links it. sudo matches a
// command by its name too, so it needs its own sudoers entry.
func TestCompatNvidiaUserdocker(t *testing.T) {
	requireSetup(t)
	link := filepath.Join(testDir, "nvidia-userdocker")
	os.Remove(link)
	if err := os.Symlink("userdocker", link); err != nil {
		t.Fatal(err)
	}
	rule := "/etc/sudoers.d/userdocker-test-nvidia"
	if err := os.WriteFile(rule, []byte(alice+" ALL=(root) NOPASSWD: "+link+"\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(rule); os.Remove(link) })
	cmd := exec.Command("sudo", "-n", link, "run", "--rm", testImage, "true")
	harness.AsUser(t, cmd, alice)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	r := harness.Run(t, cmd)
	want := "userdocker: note: nvidia-userdocker is plain userdocker now: containers get the GPUs userdocker grants you (your Slurm job's, or ones it reserves); --gpus narrows them\n"
	if r.Code != 0 || r.Stderr != want {
		t.Fatalf("nvidia-userdocker run: exit %d, stderr %q; want success and %q", r.Code, r.Stderr, want)
	}
}

// TestCompatNoDefaultMountsAndArgs: --no-default-mounts drops
// run.mounts.default (the home directory) but not run.mounts.always;
// --no-default-args drops run.args.default but not run.args.always.
func TestCompatNoDefaultMountsAndArgs(t *testing.T) {
	requireSetup(t)
	prepareDirs(t)
	writeConfig(t, strings.Replace(baseConfig, `default = ["--shm-size=64m"]`, `default = ["--shm-size=32m"]`, 1))
	home := "/home/" + alice
	script := "test -d " + home + " && echo home=yes || echo home=no; test -f /etc/passwd && echo passwd=yes; " +
		"df -k /dev/shm | tail -1 | awk '{print \"shm=\" $2}'; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"
	cases := []struct {
		name  string
		flags []string
		want  string
	}{
		{"defaults", nil, "home=yes\npasswd=yes\nshm=32768\n4096\n"},
		{"no default mounts", []string{"--no-default-mounts"}, "home=no\npasswd=yes\nshm=32768\n4096\n"},
		{"no default args", []string{"--no-default-args"}, "home=yes\npasswd=yes\nshm=65536\n4096\n"},
		{"neither", []string{"--no-default-mounts", "--no-default-args"}, "home=no\npasswd=yes\nshm=65536\n4096\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{"run", "--rm"}, c.flags...), testImage, "sh", "-c", script)
			r := ud(t, alice, nil, args...)
			if r.code != 0 || r.stdout != c.want {
				t.Fatalf("userdocker %q: exit %d stdout %q stderr %q; want %q", args, r.code, r.stdout, r.stderr, c.want)
			}
		})
	}
}

// TestConfigImport converts an old config.py with overrides of every class
// (our fixture in the shape of the Python userdocker's default config),
// then runs config check and config explain on the result, as root; a user
// may not import.
func TestConfigImport(t *testing.T) {
	requireSetup(t)
	fixture, err := filepath.Abs("../../internal/oldconfig/testdata/etc")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "config.toml")
	r := ud(t, "root", nil, "config", "import", "-o", out, fixture)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("config import: exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"userdocker: config import: 17 settings not converted or converted with a change",
		fixture + "/config.py:7: LOGLVL: no equivalent: pass -q or --debug on the command line\n",
		fixture + "/user/config_udtest-bob.py:3: not read: an indented statement (inside if/for/def): conditional settings cannot be converted\n",
		"userdocker: config import: the converted configuration passes config check",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("config import report lacks %q:\n%s", want, r.stderr)
		}
	}
	r = ud(t, "root", nil, "config", "check", out)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "configuration OK: "+out) {
		t.Fatalf("config check of the import: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = ud(t, "root", nil, "config", "explain", "--user", alice, out)
	if r.code != 0 {
		t.Fatalf("config explain: exit %d stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"subcommands = ['attach', 'images', 'load', 'ps', 'pull', 'run', 'version']  # from " + out,
		"pull = 'never'  # from " + out, ", override gid 2100\n",
		"publish = ['^127\\.0\\.0\\.1::[0-9]+$', '^::[0-9]+$']  # from " + out,
		"always = ['--rm', '--shm-size=1g']  # from " + out, ", override uid 2001\n",
		"default = ['/home/udtest-alice:/home/udtest-alice']  # from " + out,
		"values = { --shm-size = ['^8g$'] }",
		"max_count = 4  # from " + out, `, override group "udtest-gpu"` + "\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config explain lacks %q:\n%s", want, r.stdout)
		}
	}

	r = ud(t, "root", nil, "config", "import", "-o", out, fixture)
	if r.code != 125 || r.stderr != "userdocker: config import: -o "+out+": exists already; choose a new file\n" {
		t.Errorf("import over an existing file: exit %d stderr %q", r.code, r.stderr)
	}
	r = ud(t, alice, nil, "config", "import", fixture)
	if r.code != 125 || r.stdout != "" || !strings.Contains(r.stderr, `"config" is not allowed on this system`) {
		t.Errorf("a user's config import: exit %d stdout %q stderr %q; want 125 and a refusal", r.code, r.stdout, r.stderr)
	}
}
