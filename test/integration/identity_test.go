//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/audit"
)

// setenvRule is a sudoers drop-in that a test installs for itself and
// removes (also at the start and end of the suite, after a crash): it
// gives alice SETENV for the test binary and for the real userdocker
// behind ud-launch, the misconfiguration the identity checks are for.
const setenvRule = "/etc/sudoers.d/userdocker-test-setenv"

func removeSetenvRule() { os.Remove(setenvRule) }

// allowSetenv installs setenvRule for the rest of the test, checked by
// visudo first, so that a broken rule cannot lock sudo up.
func allowSetenv(t *testing.T) {
	t.Helper()
	rule := "# userdocker integration tests: a sudoers rule that must never be written\n" +
		alice + " ALL=(root) NOPASSWD:SETENV: " + testBinary + ", " + testRealBinary + "\n"
	tmp := filepath.Join(t.TempDir(), "rule")
	if err := os.WriteFile(tmp, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("visudo", "-c", "-q", "-f", tmp).CombinedOutput(); err != nil {
		t.Fatalf("visudo: %v\n%s", err, out)
	}
	t.Cleanup(removeSetenvRule)
	if err := os.WriteFile(setenvRule, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
}

// udSetenv runs `sudo -n VAR=VALUE... BIN ARGS` as who: with SETENV, sudo
// puts the variables into userdocker's environment as given.
func udSetenv(t *testing.T, who, bin string, vars []string, args ...string) result {
	t.Helper()
	return sudoAs(t, who, nil, append(append(append([]string{}, vars...), bin), args...)...)
}

// auditSince returns the records of the base config's audit log written
// after offset.
func auditSince(t *testing.T, offset int64) []audit.Record {
	t.Helper()
	const log = "/var/log/userdocker-test-audit.log"
	var recs []audit.Record
	err := eachNewLine(log, map[string]int64{log: offset}, func(line string) {
		var r audit.Record
		if json.Unmarshal([]byte(line), &r) == nil {
			recs = append(recs, r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func auditOffset() int64 {
	fi, err := os.Stat("/var/log/userdocker-test-audit.log")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// fixSudoers is how every identity refusal ends.
const fixSudoers = "the sudoers rule for userdocker must not let callers set variables (SETENV, env_keep of SUDO_*, sudo -E); tell your admin"

// TestForgedIdentityRefused: with a sudoers rule that lets alice set
// variables (SETENV), she sets sudo's SUDO_UID and SUDO_USER herself, to
// act on bob's container or as root. userdocker checks them against the
// real uid of the sudo that started it and refuses: bob's container is
// untouched and its logs unread, nothing runs as root, no container is
// created, and each refusal has an audit record that names alice.
func TestForgedIdentityRefused(t *testing.T) {
	requireSetup(t)
	prepareDirs(t)
	r := ud(t, bob, nil, "run", "-d", "--name", "victim-of-forgery", testImage, "sh", "-c", "echo bob-secret; sleep 300")
	if r.code != 0 {
		t.Fatalf("bob's container: %s", r.stderr)
	}
	bobID := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { docker(t, "rm", "-f", bobID) })
	waitFor(t, "bob's container to log", func() bool {
		out, _ := exec.Command("docker", "logs", bobID).Output()
		return strings.Contains(string(out), "bob-secret")
	})
	bobState := docker(t, "inspect", "--format", "{{.State.StartedAt}} {{.State.Status}} {{.RestartCount}}", bobID)
	allowSetenv(t)
	before := allContainers(t)
	mark := auditOffset()

	bobVars := []string{"SUDO_UID=" + uidOf(t, bob), "SUDO_USER=" + bob}
	rootVars := []string{"SUDO_UID=0", "SUDO_USER=root"}
	alices := "uid " + uidOf(t, alice) + " ran sudo: " + fixSudoers
	attacks := []struct {
		name string
		vars []string
		args []string
		want string
	}{
		{"stop bob's container as bob", bobVars, []string{"stop", "-t", "1", bobID}, "SUDO_UID=" + uidOf(t, bob) + ", but " + alices},
		{"read bob's logs as bob", bobVars, []string{"logs", bobID}, "SUDO_UID=" + uidOf(t, bob) + ", but " + alices},
		{"list bob's containers as bob", bobVars, []string{"ps", "-a"}, "SUDO_UID=" + uidOf(t, bob) + ", but " + alices},
		{"attach to bob's container as bob", bobVars, []string{"attach", bobID}, "SUDO_UID=" + uidOf(t, bob) + ", but " + alices},
		{"run as root with /root mounted", rootVars, []string{"run", "--rm", "-v", "/root:/root", testImage, "id", "-u"}, "SUDO_UID=0, but " + alices},
		{"run as root, default mounts", rootVars, []string{"run", "--rm", testImage, "id", "-u"}, "SUDO_UID=0, but " + alices},
		{"empty SUDO_UID", []string{"SUDO_UID="}, []string{"run", "--rm", testImage, "id", "-u"}, "SUDO_UID is set but empty: " + fixSudoers},
		{"malformed SUDO_UID", []string{"SUDO_UID=0" + uidOf(t, alice)}, []string{"run", "--rm", testImage, "id", "-u"},
			`SUDO_UID "0` + uidOf(t, alice) + `" is not a uid: ` + fixSudoers},
		{"SUDO_USER of bob", []string{"SUDO_USER=" + bob}, []string{"ps", "-a"},
			`SUDO_USER "` + bob + `" does not match uid ` + uidOf(t, alice) + " (" + alice + "): " + fixSudoers},
		{"--version as root", rootVars, []string{"--version"}, "SUDO_UID=0, but " + alices},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			r := udSetenv(t, alice, testBinary, a.vars, a.args...)
			if r.code != 125 || r.stdout != "" || r.stderr != "userdocker: "+a.want+"\n" {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant 125, nothing, %q", r.code, r.stdout, r.stderr, "userdocker: "+a.want+"\n")
			}
		})
	}

	if after := allContainers(t); len(after) != len(before) {
		t.Errorf("refused calls created containers: before %v, after %v", before, after)
	}
	if root := docker(t, "ps", "-aq", "--filter", "label=io.userdocker.uid=0"); root != "" {
		t.Errorf("containers of uid 0 exist: %s", root)
	}
	if got := docker(t, "inspect", "--format", "{{.State.StartedAt}} {{.State.Status}} {{.RestartCount}}", bobID); got != bobState {
		t.Errorf("bob's container changed: %q, was %q", got, bobState)
	}
	var refused []audit.Record
	for _, rec := range auditSince(t, mark) {
		if rec.Decision == audit.Refused {
			refused = append(refused, rec)
		}
	}
	if len(refused) != len(attacks) {
		t.Fatalf("%d refused audit records, want one per attack (%d): %+v", len(refused), len(attacks), refused)
	}
	for i, a := range attacks {
		rec := refused[i]
		if rec.Caller != alice || rec.UID == nil || len(rec.Reasons) != 1 || rec.Reasons[0] != a.want ||
			strings.Join(rec.Argv, " ") != strings.Join(a.args, " ") || rec.ExitCode != 125 {
			t.Errorf("audit record of %q: caller %q, reasons %q, argv %q, exit %d\nwant %s, [%q], %q, 125",
				a.name, rec.Caller, rec.Reasons, rec.Argv, rec.ExitCode, alice, a.want, a.args)
		}
	}

	// The normal path still works, with and without the rule's SETENV
	// used: sudo's own, true variables.
	for _, vars := range [][]string{nil, {"SUDO_UID=" + uidOf(t, alice), "SUDO_USER=" + alice}} {
		r := udSetenv(t, alice, testBinary, vars, "run", "--rm", testImage, "id", "-u")
		if r.code != 0 || r.stdout != uidOf(t, alice)+"\n" {
			t.Errorf("alice's own run with %q: exit %d, stdout %q, stderr %q", vars, r.code, r.stdout, r.stderr)
		}
	}
	if r := ud(t, bob, nil, "logs", bobID); r.code != 0 || r.stdout != "bob-secret\n" {
		t.Errorf("bob's own logs: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestLoaderVariablesNeverReachTheLoader: with SETENV, LD_PRELOAD runs a
// library as root in any dynamically linked program that sudo starts.
// ud-launch, which sudo starts as userdocker, has no dynamic loader and
// drops the variable; userdocker refuses and records it. The control,
// the real (dynamically linked) userdocker started by sudo directly,
// shows that the same call would otherwise have run the library as root.
func TestLoaderVariablesNeverReachTheLoader(t *testing.T) {
	requireSetup(t)
	if _, err := exec.LookPath("gcc"); err != nil {
		missing(t, "gcc is not installed: run scripts/testenv.sh")
	}
	dir := t.TempDir()
	proof := filepath.Join(dir, "ran-as-root")
	src := filepath.Join(dir, "preload.c")
	lib := filepath.Join(dir, "preload.so")
	code := `#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void ran(void) {
	FILE *f = fopen("` + proof + `", "w");
	if (f) { fprintf(f, "uid=%d euid=%d\n", getuid(), geteuid()); fclose(f); }
}
`
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	allowSetenv(t)
	mark := auditOffset()

	for _, vars := range [][]string{{"LD_PRELOAD=" + lib}, {"LD_LIBRARY_PATH=" + dir, "LD_PRELOAD=" + lib}} {
		r := udSetenv(t, alice, testBinary, vars, "ps")
		want := "userdocker: " + strings.Join(varNames(vars), ",") + " reached userdocker through sudo (ud-launch dropped it): the sudoers rule for userdocker must not let callers set variables (SETENV); tell your admin\n"
		if r.code != 125 || r.stdout != "" || r.stderr != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q\nwant 125, nothing, %q", vars, r.code, r.stdout, r.stderr, want)
		}
		if data, err := os.ReadFile(proof); err == nil {
			t.Fatalf("%q: the preloaded library ran behind ud-launch: %s", vars, data)
		}
	}
	recs := auditSince(t, mark)
	if len(recs) != 2 || recs[0].Decision != audit.Refused || recs[0].Caller != alice || recs[1].Decision != audit.Refused {
		t.Errorf("audit records %+v; want two refusals naming %s", recs, alice)
	}

	// The control: sudo starting the real userdocker directly.
	r := udSetenv(t, alice, testRealBinary, []string{"LD_PRELOAD=" + lib}, "ps")
	data, err := os.ReadFile(proof)
	if err != nil || string(data) != "uid=0 euid=0\n" {
		t.Fatalf("control: the library did not run as root in the dynamically linked userdocker (exit %d, %q; proof %q, %v): "+
			"this test no longer shows what ud-launch prevents", r.code, r.stderr, data, err)
	}
	if interp, err := elfInterpreter(testRealBinary); err != nil || interp == "" {
		t.Errorf("the real userdocker has no dynamic loader (%q, %v): ud-launch may no longer be needed", interp, err)
	}
}

func varNames(vars []string) []string {
	var names []string
	for _, v := range vars {
		name, _, _ := strings.Cut(v, "=")
		names = append(names, name)
	}
	return names
}

// TestConfigCheckWarnsAboutSetenv: `config check` (root) reads the
// machine's sudo rules through cvtsudoers and warns about the SETENV
// rule, without failing the check; without the rule it says nothing.
func TestConfigCheckWarnsAboutSetenv(t *testing.T) {
	requireSetup(t)
	// Other warnings (the spool's file system, …) depend on the machine:
	// only the verdict and the sudoers lines are this test's business.
	ok := "configuration OK: " + testConfig + " (0 overrides)\n"
	if r := udRoot(t, "config", "check"); r.code != 0 || !strings.HasPrefix(r.stdout, ok) || strings.Contains(r.stdout, "warning: sudoers") {
		t.Fatalf("without the rule: exit %d, stdout %q, stderr %q; want 0, %q and no sudoers warning", r.code, r.stdout, r.stderr, ok)
	}
	allowSetenv(t)
	want := "warning: sudoers: " + alice + " may set variables for " + testBinary + ", " + testRealBinary +
		" (SETENV): remove SETENV from that rule\n"
	if r := udRoot(t, "config", "check"); r.code != 0 || !strings.HasPrefix(r.stdout, ok) || !strings.Contains(r.stdout, want) {
		t.Errorf("with the rule: exit %d, stdout %q, stderr %q\nwant 0, %q and %q", r.code, r.stdout, r.stderr, ok, want)
	}
}
