package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHook(t *testing.T) {
	env := map[string]string{"SLURM_JOB_ID": "42", "SLURM_JOB_USER": "alice", "SLURM_JOB_UID": "2001", "SLURMD_NODENAME": "node1"}
	uid := uint32(2001)
	tests := []struct {
		name    string
		err     error
		want    Record
		wantErr string
	}{
		{"success", nil, Record{Program: "ud-prolog", Caller: "alice", UID: &uid, Job: "42", Node: "node1", Argv: []string{"--x"}, Decision: Allowed}, ""},
		{"failure", errors.New("job 42: state dir: permission denied"),
			Record{Program: "ud-prolog", Caller: "alice", UID: &uid, Job: "42", Node: "node1", Argv: []string{"--x"}, Decision: Failed,
				Reasons: []string{"job 42: state dir: permission denied"}, ExitCode: 1}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "audit.log")
			var stderr bytes.Buffer
			err := Hook("ud-prolog", []string{"--x"}, env, &stderr, func(*Record) (string, error) { return log, tc.err })
			if !errors.Is(err, tc.err) || stderr.Len() > 0 {
				t.Fatalf("Hook() = %v, stderr %q; want %v and no output", err, stderr.String(), tc.err)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			var got Record
			if err := json.Unmarshal(data, &got); err != nil || bytes.Count(data, []byte("\n")) != 1 {
				t.Fatalf("want one JSON line, got %q (%v)", data, err)
			}
			if got.Time.IsZero() || got.DurationMS < 0 {
				t.Errorf("time %v, duration %v: want set", got.Time, got.DurationMS)
			}
			got.Time, got.DurationMS = tc.want.Time, 0
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tc.want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("record\n%s\nwant\n%s", gj, wj)
			}
		})
	}
}

func TestHookAuditFailureDoesNotFailHook(t *testing.T) {
	var stderr bytes.Buffer
	err := Hook("ud-epilog", nil, map[string]string{"SLURM_JOB_ID": "7"}, &stderr, func(*Record) (string, error) {
		return "/nonexistent/dir/audit.log", nil
	})
	want := "ud-epilog: job 7: audit: open audit log /nonexistent/dir/audit.log: open /nonexistent/dir/audit.log: no such file or directory\n"
	if err != nil || stderr.String() != want {
		t.Errorf("Hook() = %v, stderr %q; want nil, %q", err, stderr.String(), want)
	}
}

func TestHookRecordNodeFallsBackToHostname(t *testing.T) {
	host, _ := os.Hostname()
	if r := hookRecord("ud-epilog", nil, map[string]string{"SLURM_JOB_ID": "7"}, time.Now()); r.Node != host {
		t.Errorf("node %q, want the hostname %q when slurmd gives none", r.Node, host)
	}
}
