//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/alloc"
)

// TestSlurmStateDirFaults runs userdocker inside a real job of alice's
// while the state dir it is configured with is missing, unsafe, or holds a
// truncated or user-owned copy of the job's record: each time nothing
// runs (no container of the job exists), and the one line says which job
// and what is wrong. (The checks themselves are unit-tested in internal/alloc; this is
// what a user sees through sudo.)
func TestSlurmStateDirFaults(t *testing.T) {
	requireSlurm(t)
	j := holdJob(t, alice)
	record, err := os.ReadFile(alloc.RecordPath(alloc.DefaultStateDir, j.ID))
	if err != nil {
		t.Fatalf("ud-prolog's record of job %s: %v", j.ID, err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, path string) // the state dir and the record in it
		want  string
	}{
		{"state dir missing", func(t *testing.T, dir, path string) { os.RemoveAll(dir) }, "no such file or directory"},
		{"state dir writable by others", func(t *testing.T, dir, path string) { os.Chmod(dir, 0o777) }, "is writable by group or others (mode 0777)"},
		{"state dir owned by the user", func(t *testing.T, dir, path string) { os.Chown(dir, 2001, 2001) }, "is owned by uid 2001, not root"},
		{"record owned by the user", func(t *testing.T, dir, path string) { os.Chown(path, 2001, 2001) }, "is owned by uid 2001, not root"},
		{"record truncated", func(t *testing.T, dir, path string) { os.WriteFile(path, record[:len(record)/2], 0o644) }, "(truncated?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := alloc.RecordPath(dir, j.ID)
			if err := os.WriteFile(path, record, 0o644); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, dir, path)
			writeConfig(t, strings.Replace(baseConfig, "[slurm]\n", "[slurm]\nstate_dir = \""+dir+"\"\n", 1))
			r := inJob(t, j, nil, "run", "--rm", testImage, "true")
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if r.code != 125 || len(lines) != 1 || !strings.HasPrefix(lines[0], "userdocker: job "+j.ID+": ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("exit %d, stderr %q; want 125 and one line about job %s saying %q", r.code, r.stderr, j.ID, tc.want)
			}
			if left := docker(t, "ps", "-aq", "--filter", "label=io.userdocker.job="+j.ID); left != "" {
				t.Errorf("containers of job %s left: %s", j.ID, left)
			}
		})
	}
}
