package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/caller"
	"github.com/userdocker/userdocker/internal/launch"
)

// TestIdentityRefusals: a caller identity that the kernel does not
// confirm is refused before anything else, --version included, with one
// line and an audit record that names who the kernel says called, in the
// audit log that user's records go to ({user} expanded for them).
func TestIdentityRefusals(t *testing.T) {
	tests := []struct {
		name   string
		proc   caller.Proc
		sudo   map[string]string
		args   []string
		stderr string
		caller string // in the audit record; "" for none
		log    string // the audit log file it goes to, under the test dir
	}{
		{name: "bob's uid from alice's sudo", proc: fakeProc("sudo", "2001", "4294967295"),
			sudo:   map[string]string{"SUDO_UID": "2002", "SUDO_USER": "bob"},
			args:   []string{"ps"},
			stderr: "userdocker: SUDO_UID=2002, but uid 2001 ran sudo: the sudoers rule for userdocker must not let callers set variables (SETENV, env_keep of SUDO_*, sudo -E); tell your admin\n",
			caller: "alice", log: "audit-alice.log"},
		{name: "root's uid from alice's sudo, --version", proc: fakeProc("sudo", "2001", "4294967295"),
			sudo:   map[string]string{"SUDO_UID": "0", "SUDO_USER": "root"},
			args:   []string{"--version"},
			stderr: "userdocker: SUDO_UID=0, but uid 2001 ran sudo: the sudoers rule for userdocker must not let callers set variables (SETENV, env_keep of SUDO_*, sudo -E); tell your admin\n",
			caller: "alice", log: "audit-alice.log"},
		{name: "empty SUDO_UID", proc: fakeProc("sudo", "2001", "4294967295"),
			sudo:   map[string]string{"SUDO_UID": "", "SUDO_USER": "alice"},
			args:   []string{"run", "--rm", "ud-test/busybox", "true"},
			stderr: "userdocker: SUDO_UID is set but empty: the sudoers rule for userdocker must not let callers set variables (SETENV, env_keep of SUDO_*, sudo -E); tell your admin\n",
			caller: "alice", log: "audit-alice.log"},
		{name: "no login uid to check against", proc: fakeProc("slurmstepd", "0", "4294967295"),
			sudo:   map[string]string{"SUDO_UID": "2001", "SUDO_USER": "alice"},
			args:   []string{"ps"},
			stderr: "userdocker: cannot check SUDO_UID=2001: userdocker was started by slurmstepd (pid 4242, root), not by sudo, and this session has no login uid; call it through sudo, or as root without SUDO_UID\n",
			log:    "audit-system.log"},
		{name: "the parent exited", proc: caller.Proc{
			Getppid:  func() func() int { n := 0; return func() int { n++; return 4242 + n } }(),
			ReadFile: fakeProc("sudo", "2001", "").ReadFile},
			sudo:   map[string]string{"SUDO_UID": "2001", "SUDO_USER": "alice"},
			args:   []string{"ps"},
			stderr: "userdocker: the process that started userdocker exited before it could be checked\n",
			log:    "audit-system.log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.toml")
			config := testConfig + "\n[audit]\nlog = \"" + dir + "/audit-system.log\"\n" +
				"[[override]]\nuser = \"alice\"\n[override.audit]\nlog = \"" + dir + "/audit-{user}.log\"\n"
			if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := Main(context.Background(), Env{
				Args: tc.args, Stdout: &out, Stderr: &errb, UID: 0, Proc: tc.proc,
				Lookup:        func(k string) (string, bool) { v, ok := tc.sudo[k]; return v, ok },
				Users:         fakeUsers{},
				ConfigPath:    path,
				AuditFallback: filepath.Join(t.TempDir(), "audit-fallback.log"),
			})
			if code != 125 || out.String() != "" || errb.String() != tc.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant 125, nothing, %q", code, out.String(), errb.String(), tc.stderr)
			}
			data, err := os.ReadFile(filepath.Join(dir, tc.log))
			if err != nil {
				t.Fatalf("no audit record in %s: %v", tc.log, err)
			}
			var rec audit.Record
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatalf("audit record %s: %v", data, err)
			}
			if rec.Decision != audit.Refused || rec.Caller != tc.caller || (rec.UID == nil) != (tc.caller == "") ||
				len(rec.Reasons) != 1 || rec.Reasons[0] != strings.TrimSuffix(strings.TrimPrefix(tc.stderr, "userdocker: "), "\n") ||
				rec.ExitCode != 125 || strings.Join(rec.Argv, " ") != strings.Join(tc.args, " ") {
				t.Errorf("audit record %s\nwant refused, caller %q, the reason, exit 125, argv %q", data, tc.caller, tc.args)
			}
		})
	}
}

// TestUnsafeEnvRefused: when ud-launch reports that the loader's variables
// reached it, userdocker refuses, --version included, and the audit
// record names the caller.
func TestUnsafeEnvRefused(t *testing.T) {
	for _, args := range [][]string{{"ps"}, {"--version"}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(path, []byte(testConfig+"\n[audit]\nlog = \""+dir+"/audit.log\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		sudo := map[string]string{"SUDO_UID": "2001", "SUDO_USER": "alice", launch.UnsafeVar: "LD_PRELOAD,LD_LIBRARY_PATH"}
		var out, errb bytes.Buffer
		code := Main(context.Background(), Env{
			Args: args, Stdout: &out, Stderr: &errb, UID: 0, Proc: parentOf(sudo),
			Lookup: func(k string) (string, bool) { v, ok := sudo[k]; return v, ok }, Users: fakeUsers{}, ConfigPath: path,
			AuditFallback: filepath.Join(t.TempDir(), "audit-fallback.log"),
		})
		want := "userdocker: LD_PRELOAD,LD_LIBRARY_PATH reached userdocker through sudo (ud-launch dropped it): the sudoers rule for userdocker must not let callers set variables (SETENV); tell your admin\n"
		if code != 125 || out.String() != "" || errb.String() != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 125, nothing, %q", args, code, out.String(), errb.String(), want)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "audit.log"))
		var rec audit.Record
		if json.Unmarshal(data, &rec) != nil || rec.Decision != audit.Refused || rec.Caller != "alice" {
			t.Errorf("%v: audit record %s; want refused, caller alice", args, data)
		}
	}
}
