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

// TestMountUnderACLDirectory attacks the mount check where mode bits and
// the kernel disagree: a root-owned 0755 directory whose POSIX ACL lets
// alice write. Judged by mode bits, an entry in it looks safe to mount;
// alice can in fact swap it for a symlink between userdocker's check and
// Docker's mount. Her mount must be refused like any other entry she
// could replace, and the test then shows the swap she could have made.
func TestMountUnderACLDirectory(t *testing.T) {
	requireSetup(t)
	if _, err := exec.LookPath("setfacl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("setfacl is not installed: run scripts/testenv.sh")
		}
		t.Skip("setfacl is not installed: run scripts/testenv.sh")
	}
	dir := "/srv/udtest/acl"
	shared := filepath.Join(dir, "shared")
	os.RemoveAll(dir)
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{dir, shared} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	os.WriteFile(filepath.Join(shared, "readme"), []byte("site data\n"), 0o644)
	writeConfig(t, strings.Replace(baseConfig, `available = [`, `available = ["`+shared+`:/shared:ro", `, 1))

	run := func() result {
		return ud(t, alice, nil, "run", "--rm", "-v", shared+":/shared", testImage, "cat", "/shared/readme")
	}
	// Without the ACL the policy lets alice mount it, and she sees the file.
	if r := run(); r.code != 0 || r.stdout != "site data\n" {
		t.Fatalf("before the ACL: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	if out, err := exec.Command("setfacl", "-m", "u:"+alice+":rwx", dir).CombinedOutput(); err != nil {
		if strings.Contains(string(out), "Operation not supported") && os.Getenv("CI") != "true" {
			t.Skipf("no ACLs on this file system: %s", out)
		}
		t.Fatalf("setfacl: %v: %s", err, out)
	}
	fi, _ := os.Stat(dir)
	if owner := statOwner(fi); owner != "0" || fi.Mode().Perm()&0o002 != 0 {
		t.Fatalf("%s: owner %s mode %v: the mode bits must not let alice write", dir, owner, fi.Mode())
	}

	before := allContainers(t)
	r := run()
	if r.code != 125 || !strings.Contains(r.stderr, "you could replace "+shared+" with a symlink") {
		t.Fatalf("with the ACL: exit %d, stderr %q; want 125 and the replaceable refusal", r.code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
		t.Fatalf("want one line of refusal and nothing else: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if after := allContainers(t); len(after) != len(before) {
		t.Fatalf("a container was created: before %v after %v", before, after)
	}

	// What the refusal prevents: alice swaps the entry for a symlink to
	// /etc with nothing but her own rights.
	for _, argv := range [][]string{{"mv", shared, shared + ".orig"}, {"ln", "-s", "/etc", shared}} {
		cmd := exec.Command(argv[0], argv[1:]...)
		harness.AsUser(t, cmd, alice)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("as alice, %s: %v: %s (the ACL should let her)", strings.Join(argv, " "), err, out)
		}
	}
	if target, err := os.Readlink(shared); err != nil || target != "/etc" {
		t.Fatalf("after alice's swap %s -> %q (%v), want /etc", shared, target, err)
	}
}
