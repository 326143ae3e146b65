package cli

import (
	"bytes"
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/golden"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
)

// adminUsers is a user database with root, alice (2001, also in
// gpu-users 2100) and bob (2002), found by id or by name.
type adminUsers struct{}

var adminUserTable = []*user.User{
	{Uid: "0", Gid: "0", Username: "root", HomeDir: "/root"},
	{Uid: "2001", Gid: "2001", Username: "alice", HomeDir: "/home/alice"},
	{Uid: "2002", Gid: "2002", Username: "bob", HomeDir: "/home/bob"},
}

func (adminUsers) LookupId(uid string) (*user.User, error) {
	for _, u := range adminUserTable {
		if u.Uid == uid {
			return u, nil
		}
	}
	return nil, user.UnknownUserIdError(0)
}

func (adminUsers) Lookup(name string) (*user.User, error) {
	for _, u := range adminUserTable {
		if u.Username == name {
			return u, nil
		}
	}
	return nil, user.UnknownUserError(name)
}

func (adminUsers) GroupIds(u *user.User) ([]string, error) {
	if u.Uid == "2001" {
		return []string{"2001", "2100"}, nil
	}
	return []string{u.Gid}, nil
}

func (adminUsers) LookupGroup(name string) (*user.Group, error) {
	for gid, n := range map[string]string{"0": "root", "2001": "alice", "2002": "bob", "2100": "gpu-users"} {
		if n == name {
			return &user.Group{Gid: gid, Name: n}, nil
		}
	}
	return nil, user.UnknownGroupError(name)
}

func (adminUsers) LookupGroupId(gid string) (*user.Group, error) {
	names := map[string]string{"0": "root", "2001": "alice", "2002": "bob", "2100": "gpu-users"}
	return &user.Group{Gid: gid, Name: names[gid]}, nil
}

const adminConfig = `
subcommands = ["run", "version"]
[run]
images = ['^ud-test/']
pull = "never"
env = { HOME = "{home}", USER = "{user}" }
[run.args]
allowed = ["-i", "-t", "--rm", "-e"]
[run.mounts]
default = ["{home}:{home}"]
[gpu]
driver_capabilities = ["compute", "utility", "video"]
[slurm]
outside_job = "no-gpu"

[[override]]
group = "gpu-users"
priority = 10
[override.run]
own_images = true
[override.slurm]
max_containers_per_job = 128
`

// brokenConfig has a problem of each kind, in the main file and a drop-in.
const brokenConfig = `
subcommands = ["run", "dance"]
[run]
images = ['^ud-test/(']
pul = "never"
[gpu]
max_count = -1
[[override]]
user = "bob"
[override.slurm]
state_dir = "/tmp/x"
`

const brokenDropIn = `
[run
images = []
`

// configDir writes config.toml and conf.d drop-ins (name → text) into a
// fresh directory and returns the main file's path.
func configDir(t *testing.T, main string, dropIns map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(main+"\n[audit]\nlog = \""+filepath.Join(dir, "audit.log")+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(dropIns) > 0 {
		os.Mkdir(filepath.Join(dir, "conf.d"), 0o755)
	}
	for name, text := range dropIns {
		if err := os.WriteFile(filepath.Join(dir, "conf.d", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// runAs runs userdocker in-process: as root when sudoUID is "", else as
// that user through sudo.
func runAs(t *testing.T, path, sudoUID string, args ...string) (int, string, string) {
	t.Helper()
	return runWith(t, path, sudoUID, nil, args...)
}

// runWith is runAs with change applied to the Env first (nil: none).
func runWith(t *testing.T, path, sudoUID string, change func(*Env), args ...string) (int, string, string) {
	t.Helper()
	sudo := map[string]string{}
	if sudoUID != "" {
		u, _ := adminUsers{}.LookupId(sudoUID)
		sudo = map[string]string{"SUDO_UID": sudoUID, "SUDO_GID": u.Gid, "SUDO_USER": u.Username}
	}
	var out, errb bytes.Buffer
	env := Env{
		Args: args, Stdout: &out, Stderr: &errb, UID: 0, Proc: parentOf(sudo),
		Lookup:        func(k string) (string, bool) { v, ok := sudo[k]; return v, ok },
		Users:         adminUsers{},
		ConfigPath:    path,
		AuditFallback: filepath.Join(t.TempDir(), "audit-fallback.log"),
		Disks:         fakeDisks{},
	}
	if change != nil {
		change(&env)
	}
	code := Main(context.Background(), env)
	dir := filepath.Dir(path)
	return code, strings.ReplaceAll(out.String(), dir, "$DIR"), strings.ReplaceAll(errb.String(), dir, "$DIR")
}

func TestConfigGolden(t *testing.T) {
	good := func(t *testing.T) string {
		return configDir(t, adminConfig, map[string]string{"50-site.toml": "[run]\npull = \"missing\"\n"})
	}
	broken := func(t *testing.T) string {
		return configDir(t, brokenConfig, map[string]string{"10-broken.toml": brokenDropIn, ".10-broken.toml.swp": "junk"})
	}
	tests := []struct {
		name   string
		config func(t *testing.T) string
		args   []string
		code   int
		golden string
		stderr string
	}{
		{"help", good, []string{"config", "--help"}, 0, "config-help.golden", ""},
		{"check help", good, []string{"config", "check", "-h"}, 0, "config-check-help.golden", ""},
		{"explain help", good, []string{"config", "explain", "--help"}, 0, "config-explain-help.golden", ""},
		{"check good", good, []string{"config", "check"}, 0, "config-check-good.golden", ""},
		{"check broken", broken, []string{"config", "check"}, 1, "config-check-broken.golden",
			"userdocker: config check: 6 problems in $DIR/config.toml, $DIR/conf.d/10-broken.toml: nothing runs until they are fixed\n"},
		{"explain power user", good, []string{"config", "explain", "--user", "alice", "--job", "42"}, 0, "config-explain-alice.golden", ""},
		{"explain plain user", good, []string{"config", "explain", "--user=bob"}, 0, "config-explain-bob.golden", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAs(t, tc.config(t), "", tc.args...)
			if code != tc.code || errOut != tc.stderr {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr %q", code, errOut, tc.code, tc.stderr)
			}
			golden.Check(t, tc.golden, []byte(out))
		})
	}
}

// TestConfigCheckNamedFile checks the FILE argument: its own drop-ins, not
// those of the configured file.
func TestConfigCheckNamedFile(t *testing.T) {
	configured := configDir(t, brokenConfig, nil)
	other := configDir(t, adminConfig, nil)
	code, out, errOut := runAs(t, configured, "", "config", "check", other)
	if code != 0 || !strings.HasPrefix(out, "configuration OK: "+other+" (1 override)") || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and OK for %s", code, out, errOut, other)
	}
}

// config check compares slurm.epilog_budget with slurm.conf's
// PrologEpilogTimeout: slurmd kills an epilog that overruns it and drains
// the node. A warning, not a problem: everything still runs.
func TestConfigCheckEpilogBudget(t *testing.T) {
	tests := []struct {
		name, budget, slurmConf string
		warn                    bool
	}{
		{"default budget, long timeout", "", "PrologEpilogTimeout=120\n", false},
		{"default budget, short timeout", "", "PrologEpilogTimeout=30\n", true},
		{"budget cut to fit", "epilog_budget = \"20s\"\n", "PrologEpilogTimeout=30\n", false},
		{"no timeout: slurmd waits forever", "", "Epilog=/usr/local/sbin/ud-epilog\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := configDir(t, adminConfig, map[string]string{"50-slurm.toml": "[slurm]\n" + tc.budget})
			slurmConf := filepath.Join(t.TempDir(), "slurm.conf")
			if err := os.WriteFile(slurmConf, []byte(tc.slurmConf), 0o644); err != nil {
				t.Fatal(err)
			}
			missing := filepath.Join(t.TempDir(), "slurm.conf")
			code, out, _ := runWith(t, path, "", func(e *Env) { e.SlurmConfPaths = []string{missing, slurmConf} }, "config", "check")
			want := ""
			if tc.warn {
				want = "warning: slurm.epilog_budget 30s is not below PrologEpilogTimeout=30 of " + slurmConf +
					": slurmd kills a longer epilog and drains the node\n" +
					"    hint: set [slurm] epilog_budget well below 30s (what else the Epilog runs needs time too), or raise PrologEpilogTimeout\n"
			}
			if code != 0 || !strings.HasPrefix(out, "configuration OK: ") || !strings.HasSuffix(out, ")\n"+want) {
				t.Errorf("exit %d, stdout %q; want 0 and %q after the OK", code, out, want)
			}
		})
	}
}

// config check warns about a run.images pattern that matches names under
// local/: run.images does not apply there, so it does not do what it seems.
func TestConfigCheckLocalPatterns(t *testing.T) {
	path := configDir(t, adminConfig, map[string]string{"50-images.toml": "[run]\nimages = ['^local/']\n"})
	code, out, _ := runAs(t, path, "", "config", "check")
	want := "warning: run.images pattern \"^local/\" ($DIR/conf.d/50-images.toml:2) matches local/someone/image:latest, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/\n"
	if code != 0 || !strings.HasPrefix(out, "configuration OK: ") || !strings.Contains(out, want) {
		t.Errorf("exit %d, stdout %q; want 0 and %q", code, out, want)
	}
}

func TestConfigCheckOwnership(t *testing.T) {
	path := configDir(t, adminConfig, nil)
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runAs(t, path, "", "config", "check")
	want := "$DIR/config.toml: mode 0664 is writable by group or others: only root may set the policy\n" +
		"    hint: chown root:root $DIR/config.toml && chmod go-w $DIR/config.toml\n"
	if code != 1 || out != want {
		t.Errorf("exit %d, stdout %q; want 1 and %q", code, out, want)
	}
	// Every other command fails closed, on one line.
	code, _, errOut := runAs(t, path, "2001", "run", "--dry-run", "ud-test/x")
	if want := "userdocker: configuration: $DIR/config.toml: mode 0664 is writable by group or others: only root may set the policy\n"; code != ExitOwn || errOut != want {
		t.Errorf("run: exit %d, stderr %q; want %d, %q", code, errOut, ExitOwn, want)
	}
}

func TestConfigRefusals(t *testing.T) {
	good := configDir(t, adminConfig, nil)
	broken := configDir(t, brokenConfig, nil)
	tests := []struct {
		name   string
		config string
		uid    string
		args   []string
		stderr string
	}{
		{"not root", good, "2001", []string{"config", "check"},
			"userdocker: \"config\" is not allowed on this system\n"},
		{"not root, broken config", broken, "2001", []string{"config", "check"},
			"userdocker: configuration: $DIR/config.toml:2:23: subcommands: \"dance\" is not one of run, attach, stop, ps, images, pull, load, logs, version, rm, kill, wait, exec, tag, rmi, inspect (and 4 more)\n"},
		{"no subcommand", good, "", []string{"config"},
			"userdocker: \"config\" needs a subcommand (see 'userdocker config --help')\n"},
		{"unknown subcommand", good, "", []string{"config", "frobnicate"},
			"userdocker: unknown subcommand \"config frobnicate\" (see 'userdocker config --help')\n"},
		{"explain without user", good, "", []string{"config", "explain"},
			"userdocker: config explain: --user is required\n"},
		{"explain unknown user", good, "", []string{"config", "explain", "--user", "mallory"},
			"userdocker: --user \"mallory\": look up user mallory: user: unknown user mallory\n"},
		{"explain broken config", broken, "", []string{"config", "explain", "--user", "bob"},
			"userdocker: configuration: $DIR/config.toml:2:23: subcommands: \"dance\" is not one of run, attach, stop, ps, images, pull, load, logs, version, rm, kill, wait, exec, tag, rmi, inspect (and 4 more) (run 'userdocker config check' for every problem)\n"},
		{"two files", good, "", []string{"config", "check", "a", "b"},
			"userdocker: \"config check\" accepts at most one FILE, got 2 arguments\n"},
		{"unknown flag", good, "", []string{"config", "check", "--fix"},
			"userdocker: config check: unknown flag: --fix\n"},
		{"missing file", good, "", []string{"config", "check", "/nonexistent/config.toml"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runAs(t, tc.config, tc.uid, tc.args...)
			// Usage errors add a line pointing to help: not ours to test.
			errOut, _, _ = strings.Cut(errOut, "\n")
			errOut += "\n"
			if tc.name == "missing file" {
				if code != 1 || errOut != "userdocker: config check: 1 problem in /nonexistent/config.toml: nothing runs until it is fixed\n" {
					t.Errorf("exit %d, stderr %q", code, errOut)
				}
				return
			}
			if code != ExitOwn || errOut != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut, ExitOwn, tc.stderr)
			}
		})
	}
}

func TestClosestKey(t *testing.T) {
	tests := map[string]string{
		"run.pul":         "run.pull",
		"pul":             "run.pull",
		"gpu.max_cuont":   "gpu.max_count",
		"slurm.statedir":  "slurm.state_dir",
		"completely.else": "",
	}
	for in, want := range tests {
		if got := closestKey(in); got != want {
			t.Errorf("closestKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExampleConfig checks contrib/config.toml.example, which `make
// install` ships: config check accepts it, and it sets every key (explain
// shows no built-in default), so that it documents them all.
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("../../contrib/config.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runAs(t, path, "", "config", "check"); code != 0 || errOut != "" {
		t.Fatalf("config check: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runAs(t, path, "", "config", "explain", "--user", "alice")
	if code != 0 || errOut != "" {
		t.Fatalf("config explain: exit %d, stderr %q", code, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, "# built-in default") {
			t.Errorf("the example does not set (and so does not document) %q", line)
		}
	}
}

// TestManPageKeys checks that userdocker.toml(5), where config check's
// hints send admins, describes every key.
func TestManPageKeys(t *testing.T) {
	data, err := os.ReadFile("../../man/userdocker.toml.5")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range policy.Keys() {
		if !strings.Contains(string(data), k) {
			t.Errorf("man/userdocker.toml.5 does not describe %s", k)
		}
	}
}

// fakeDisks: every directory is root's, 0755; /var/spool, /run and
// /var/lib/docker are three file systems unless devices says otherwise;
// a directory under /bad is alice's.
type fakeDisks struct{ devices map[string]uint64 }

func (fakeDisks) SpoolEntries(dir string) ([]plan.DirEntry, error) {
	e := plan.DirEntry{Path: dir, Dir: true, Mode: 0o755}
	if strings.HasPrefix(dir, "/bad") {
		e.UID = 2001
	}
	return []plan.DirEntry{{Path: "/", Dir: true, Mode: 0o755}, e}, nil
}

func (d fakeDisks) Device(path string) (uint64, error) {
	for prefix, dev := range d.devices {
		if strings.HasPrefix(path, prefix) {
			return dev, nil
		}
	}
	for i, prefix := range []string{"/var/spool", "/run", "/var/lib/docker"} {
		if strings.HasPrefix(path, prefix) {
			return uint64(i + 1), nil
		}
	}
	return 9, nil
}

func (fakeDisks) DataRoot() string { return "/var/lib/docker" }

func TestConfigCheckSpool(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		devices map[string]uint64
		code    int
		out     string
	}{
		{name: "a file system of its own", config: "[load]\nspool_dir = '/var/spool/ud'\n", out: "configuration OK: $DIR/config.toml (0 overrides)\n"},
		{name: "shared with the state dir and the data root", devices: map[string]uint64{"/": 1}, out: "" +
			"configuration OK: $DIR/config.toml (0 overrides)\n" +
			"warning: load.spool_dir /var/spool/userdocker shares a file system with slurm.state_dir /run/userdocker: should it fill, ud-prolog fails and the node drains; load.min_free (2g) is all that guards it, a file system of its own is safer\n" +
			"warning: load.spool_dir /var/spool/userdocker shares a file system with Docker's data root /var/lib/docker: should it fill, the daemon fails; load.min_free (2g) is all that guards it, a file system of its own is safer\n"},
		{name: "a spool directory alice owns", config: "[load]\nspool_dir = '/bad/spool'\n", code: 1, out: "" +
			"$DIR/config.toml:2: load.spool_dir: /bad/spool is owned by uid 2001, not root\n" +
			"    hint: let root alone write every directory on the way: install -d -m 0700 -o root -g root /bad/spool, or set load.spool_dir to such a directory\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := configDir(t, tt.config, nil)
			var out, errb bytes.Buffer
			code := Main(context.Background(), Env{
				Args: []string{"config", "check"}, Stdout: &out, Stderr: &errb, Proc: parentOf(nil),
				Lookup: func(string) (string, bool) { return "", false }, Users: adminUsers{},
				ConfigPath: path, Disks: fakeDisks{devices: tt.devices},
				AuditFallback: filepath.Join(t.TempDir(), "audit-fallback.log"),
			})
			if got := strings.ReplaceAll(out.String(), filepath.Dir(path), "$DIR"); code != tt.code || got != tt.out {
				t.Fatalf("exit %d, stdout\n%s\nwant %d,\n%s", code, got, tt.code, tt.out)
			}
		})
	}
}

// TestConfigCheckLints: a configuration that loads but does not do what
// its admin meant gets warnings with file:line and a fix, and exits 0;
// --strict makes them problems (exit 1).
func TestConfigCheckLints(t *testing.T) {
	path := configDir(t, `
[run]
images = ['docker\.io/library/ubuntu:']
[run.args]
allowed = ["--privileged"]
always = ["--cap-add=SYS_ADMIN"]
[gpu]
max_count = 2

[[override]]
group = "no-such-group"
[override.run]
pull = "never"
`, nil)
	code, out, errOut := runAs(t, path, "", "config", "check")
	want := "configuration OK: $DIR/config.toml (1 override)\n" +
		"warning: $DIR/config.toml:3: run.images: image pattern 'docker\\.io/library/ubuntu:' is not anchored: it also matches where it appears inside another reference\n    fix: write '^docker\\.io/library/ubuntu:' to match from the start of the reference\n" +
		"warning: $DIR/config.toml:5: run.args.allowed: --privileged is allowed, but the final checks refuse it on every run: users would only be told no\n    fix: remove --privileged from run.args.allowed\n" +
		"warning: $DIR/config.toml:6: run.args.always: --cap-add=SYS_ADMIN has no effect: a run is the same without it (userdocker sets this itself, from other keys)\n    fix: remove --cap-add=SYS_ADMIN from run.args.always; userdocker.toml(5) says which key sets this\n" +
		"warning: $DIR/config.toml:8: gpu.max_count: gpu.max_count has no effect with gpu.source = \"slurm\": only \"reserve\" reads it\n    fix: remove it; with gpu.source = \"slurm\" a container's GPUs are its job's (srun --gres=gpu:N)\n" +
		"warning: $DIR/config.toml:11: override.group: override group \"no-such-group\": no such group on this system, so it applies to no one\n    fix: check the spelling (getent group), or remove the entry\n"
	if code != 0 || out != want || errOut != "" {
		t.Fatalf("exit %d, stderr %q, stdout\n%s\nwant 0 and\n%s", code, errOut, out, want)
	}
	code, out2, errOut := runAs(t, path, "", "config", "check", "--strict")
	if code != 1 || errOut != "userdocker: config check: 5 warnings in $DIR/config.toml, and --strict makes them problems\n" ||
		out2 != strings.TrimPrefix(want, "configuration OK: $DIR/config.toml (1 override)\n") {
		t.Fatalf("--strict: exit %d, stderr %q, stdout\n%s", code, errOut, out2)
	}
}
