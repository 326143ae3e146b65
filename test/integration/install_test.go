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
// right modes, that the snippets name PREFIX's paths, and that each man
// page renders without roff warnings.
func TestMakeInstall(t *testing.T) {
	requireSetup(t)
	dest := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "install", "DESTDIR="+dest, "PREFIX=/usr")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	want := map[string]os.FileMode{
		"usr/bin/userdocker":                               0o755,
		"usr/libexec/userdocker/userdocker":                0o755,
		"usr/sbin/ud-prolog":                               0o755,
		"usr/sbin/ud-epilog":                               0o755,
		"usr/share/man/man1/userdocker.1":                  0o644,
		"usr/share/man/man5/userdocker.toml.5":             0o644,
		"usr/share/man/man8/ud-prolog.8":                   0o644,
		"usr/share/man/man8/ud-epilog.8":                   0o644,
		"usr/share/bash-completion/completions/userdocker": 0o644,
		"usr/share/userdocker/config.toml.example":         0o644,
		"usr/share/userdocker/logrotate.userdocker":        0o644,
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
	// The snippets name the binaries where PREFIX put them.
	for name, line := range map[string]string{
		"usr/share/userdocker/slurm/sudoers.userdocker":  "Cmnd_Alias USERDOCKER = /usr/bin/userdocker, /usr/bin/nvidia-userdocker",
		"usr/share/userdocker/slurm/slurm.conf.fragment": "Epilog=/usr/sbin/ud-epilog",
	} {
		b, err := os.ReadFile(filepath.Join(dest, name))
		if err != nil || !strings.Contains(string(b), "\n"+line+"\n") || strings.Contains(string(b), "/usr/local/") {
			t.Errorf("%s: %v; want the line %q and no /usr/local/ with PREFIX=/usr:\n%s", name, err, line, b)
		}
	}
	// What sudo starts is ud-launch: no dynamic loader, and the real
	// userdocker where PREFIX puts it (not installed on this machine).
	launcher := filepath.Join(dest, "usr/bin/userdocker")
	if interp, err := elfInterpreter(launcher); err != nil || interp != "" {
		t.Errorf("%s: interpreter %q, %v; want a static ud-launch", launcher, interp, err)
	}
	if interp, err := elfInterpreter(filepath.Join(dest, "usr/libexec/userdocker/userdocker")); err != nil || interp == "" {
		t.Errorf("the real userdocker: interpreter %q, %v; want the C library's loader (NSS, NVML)", interp, err)
	}
	out, err := exec.Command(launcher, "--version").CombinedOutput()
	if _, statErr := os.Stat("/usr/libexec/userdocker/userdocker"); os.IsNotExist(statErr) &&
		(err == nil || string(out) != "userdocker: start /usr/libexec/userdocker/userdocker: no such file or directory\n") {
		t.Errorf("ud-launch built for PREFIX=/usr: %v, %q; want it to start /usr/libexec/userdocker/userdocker", err, out)
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
