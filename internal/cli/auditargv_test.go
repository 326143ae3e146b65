package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/userdocker/userdocker/internal/audit"
)

func TestAuditArgv(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"separate value", []string{"run", "-e", "TOKEN=s3cret", "img"}, []string{"run", "-e", "TOKEN=<redacted>", "img"}},
		{"long with =", []string{"run", "--env=TOKEN=s3cret", "img"}, []string{"run", "--env=TOKEN=<redacted>", "img"}},
		{"long separate", []string{"run", "--env", "A=b=c", "img"}, []string{"run", "--env", "A=<redacted>", "img"}},
		{"attached short", []string{"run", "-eTOKEN=s3cret", "img"}, []string{"run", "-eTOKEN=<redacted>", "img"}},
		{"attached short with =", []string{"run", "-e=TOKEN=s3cret", "img"}, []string{"run", "-e=TOKEN=<redacted>", "img"}},
		{"cluster then value", []string{"--debug", "run", "-ite", "TOKEN=s3cret", "img"}, []string{"--debug", "run", "-ite", "TOKEN=<redacted>", "img"}},
		{"cluster attached", []string{"run", "-itePW=x", "img"}, []string{"run", "-itePW=<redacted>", "img"}},
		{"name only", []string{"run", "-e", "TOKEN", "img"}, []string{"run", "-e", "TOKEN", "img"}},
		{"other flag values kept", []string{"run", "-w", "-e", "--name", "TOKEN=x", "img"}, []string{"run", "-w", "-e", "--name", "TOKEN=x", "img"}},
		{"env-file name kept", []string{"run", "--env-file", "secrets.env", "img"}, []string{"run", "--env-file", "secrets.env", "img"}},
		{"container command kept", []string{"run", "img", "env", "-e", "A=b"}, []string{"run", "img", "env", "-e", "A=b"}},
		{"after --", []string{"run", "--", "-e", "A=b"}, []string{"run", "--", "-e", "A=b"}},
		{"trailing flag", []string{"run", "-e"}, []string{"run", "-e"}},
		{"exec too", []string{"exec", "-e", "PW=x", "c1", "sh"}, []string{"exec", "-e", "PW=<redacted>", "c1", "sh"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := slices.Clone(tc.args)
			if got := auditArgv(tc.args); !slices.Equal(got, tc.want) {
				t.Errorf("auditArgv(%q) = %q, want %q", tc.args, got, tc.want)
			}
			if !slices.Equal(tc.args, orig) {
				t.Errorf("auditArgv changed its argument to %q", tc.args)
			}
		})
	}
}

// TestAuditRecordHasNoSecret checks the record Main writes: one line, the
// node, the -e name but not its value, and no env-file contents.
func TestAuditRecordHasNoSecret(t *testing.T) {
	path := configDir(t, adminConfig, nil)
	envFile := filepath.Join(filepath.Dir(path), "secrets.env")
	if err := os.WriteFile(envFile, []byte("FILE_TOKEN=filesecret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runAs(t, path, "2001", "run", "--dry-run", "-e", "TOKEN=s3cret", "--env-file", envFile, "ud-test/x")
	data, err := os.ReadFile(filepath.Join(filepath.Dir(path), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var rec audit.Record
	if err := json.Unmarshal(data, &rec); err != nil || bytes.Count(data, []byte("\n")) != 1 {
		t.Fatalf("want one JSON record, got %q (%v)", data, err)
	}
	host, _ := os.Hostname()
	want := []string{"run", "--dry-run", "-e", "TOKEN=<redacted>", "--env-file", envFile, "ud-test/x"}
	if !slices.Equal(rec.Argv, want) || rec.Node != host || rec.Caller != "alice" {
		t.Errorf("record argv %q, node %q, caller %q; want %q, %q, alice", rec.Argv, rec.Node, rec.Caller, want, host)
	}
	if bytes.Contains(data, []byte("s3cret")) || bytes.Contains(data, []byte("filesecret")) {
		t.Errorf("audit record leaks a secret: %s", data)
	}
}

func TestRecordCaller(t *testing.T) {
	sudo := map[string]string{"SUDO_UID": "2001", "SUDO_GID": "2001", "SUDO_USER": "alice"}
	tests := []struct {
		name   string
		uid    int
		caller string
	}{
		{"through sudo", 0, "alice"},
		{"without root", 2001, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{record: &audit.Record{}, env: Env{UID: tc.uid, Users: adminUsers{}, Proc: parentOf(sudo),
				Lookup: func(k string) (string, bool) { v, ok := sudo[k]; return v, ok }}}
			a.recordCaller()
			if a.record.Caller != tc.caller || (tc.caller == "") != (a.record.UID == nil) {
				t.Errorf("caller %q, uid %v; want %q", a.record.Caller, a.record.UID, tc.caller)
			}
		})
	}
}
