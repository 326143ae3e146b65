//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstall runs `make install` into a scratch DESTDIR and checks
// that everything an admin needs lands where the man pages say, with the
// right modes, and that each man page renders without roff warnings.
func TestMakeInstall(t *testing.T) {
	requireSetup(t)
	dest := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "install", "DESTDIR="+dest, "PREFIX=/usr")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	want := map[string]os.FileMode{
		"usr/bin/userdocker":                               0o755,
		"usr/sbin/ud-prolog":                               0o755,
		"usr/sbin/ud-epilog":                               0o755,
		"usr/share/man/man1/userdocker.1":                  0o644,
		"usr/share/man/man5/userdocker.toml.5":             0o644,
		"usr/share/man/man8/ud-prolog.8":                   0o644,
		"usr/share/man/man8/ud-epilog.8":                   0o644,
		"usr/share/bash-completion/completions/userdocker": 0o644,
		"usr/share/userdocker/config.toml.example":         0o644,
		"usr/share/userdocker/slurm/sudoers.userdocker":    0o644,
		"usr/share/userdocker/slurm/slurm.conf.fragment":   0o644,
	}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dest, name))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %#o, want %#o", name, fi.Mode().Perm(), mode)
		}
	}
	if _, err := exec.LookPath("man"); err != nil {
		t.Log("man is not installed: pages not rendered")
		return
	}
	pages, _ := filepath.Glob(filepath.Join(dest, "usr/share/man/man*/*"))
	for _, p := range pages {
		out, err := exec.Command("man", "--warnings", "-l", p).CombinedOutput()
		if err != nil || strings.Contains(string(out), "warning:") {
			t.Errorf("man -l %s: %v\n%s", filepath.Base(p), err, out)
		}
	}
}
