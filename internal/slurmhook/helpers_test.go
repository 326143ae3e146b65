package slurmhook

import (
	"os"
	"path/filepath"
	"testing"
)

// requireRoot skips tests whose subject is the hooks' root-owned records.
// CI runs as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: records must be root-owned (CI runs tests as root)")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// stateDir returns a fresh root-owned 0755 state directory.
func stateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
