package asuser

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/test/testacl"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; these tests need it")
		}
		t.Skip("needs root to change the file-system identity")
	}
}

var nobody = Cred{UID: 65534, GID: 65534, Groups: []uint32{65534}}

func TestReadFileAsCaller(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	secret := filepath.Join(dir, "secret")
	public := filepath.Join(dir, "public")
	os.WriteFile(secret, []byte("root only"), 0o600)
	os.WriteFile(public, []byte("A=1\n"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(secret, link)

	cases := []struct {
		name    string
		path    string
		wantErr error
	}{
		{"root-only file", secret, fs.ErrPermission},
		{"symlink to root-only file", link, fs.ErrPermission},
		{"readable file", public, nil},
		{"missing file", filepath.Join(dir, "nope"), fs.ErrNotExist},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFile(nobody, c.path, 1<<20)
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("ReadFile(%s) err = %v, want %v", c.path, err, c.wantErr)
			}
		})
	}
	if _, err := ReadFile(nobody, "/dev/zero", 1<<20); err == nil {
		t.Error("a device must not be read")
	}
	// The borrowed identity must never leak to the rest of the process.
	if _, err := os.ReadFile(secret); err != nil {
		t.Fatalf("root lost access after ReadFile as nobody: %v", err)
	}
}

func TestIdentityDoesNotLeak(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("x"), 0o600)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 100; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := ReadFile(nobody, secret, 10); !errors.Is(err, fs.ErrPermission) {
				errs <- errors.New("nobody read a root-only file")
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := os.ReadFile(secret); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCreateAsCaller(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir() // 0700 root: nobody cannot create files here
	os.Chmod(filepath.Dir(dir), 0o755)
	if _, err := Open(nobody, filepath.Join(dir, "cid"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("create in root's dir as nobody: %v, want permission denied", err)
	}
	open := filepath.Join(dir, "open")
	os.Chmod(dir, 0o755)
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	f, err := Open(nobody, filepath.Join(open, "cid"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(filepath.Join(open, "cid"))
	if st := statUID(fi); st != 65534 {
		t.Fatalf("file owned by %d, want 65534: created with the caller's identity", st)
	}
}

// TestAccessAsksTheKernel checks that Access answers for the borrowed
// identity as the kernel sees it: an ACL grants what mode bits do not
// show, and no capability of root's lets the answer be root's. Both ways
// of asking run: faccessat2 (Linux 5.8+) and access(2) with the real ids.
func TestAccessAsksTheKernel(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Dir(base), 0o755)
	dir := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		os.Mkdir(p, mode)
		os.Chmod(p, mode)
		return p
	}
	plain, private, acl := dir("plain", 0o755), dir("private", 0o700), dir("acl", 0o755)
	testacl.GrantUser(t, acl, nobody.UID, 7)
	cases := []struct {
		name string
		path string
		mode uint32
		want error
	}{
		{"search a 0755 dir", plain, unix.X_OK, nil},
		{"write a 0755 root dir", plain, unix.W_OK | unix.X_OK, unix.EACCES},
		{"read root's 0700 dir", private, unix.R_OK, unix.EACCES},
		{"write a dir whose ACL grants it", acl, unix.W_OK | unix.X_OK, nil},
	}
	for _, realIDs := range []bool{false, true} {
		t.Run(fmt.Sprintf("real ids %v", realIDs), func(t *testing.T) {
			saved := needRealIDs
			needRealIDs = func() bool { return realIDs }
			t.Cleanup(func() { needRealIDs = saved })
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					f, err := os.OpenFile(c.path, unix.O_PATH|unix.O_CLOEXEC, 0)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					var got error
					if err := Do(nobody, func() error { got = Access(int(f.Fd()), c.mode); return nil }); err != nil {
						t.Fatal(err)
					}
					if !errors.Is(got, c.want) || (c.want == nil && got != nil) {
						t.Fatalf("Access(%s, %#o) as nobody = %v, want %v", c.path, c.mode, got, c.want)
					}
				})
			}
			if uid, _, _ := unix.RawSyscall(unix.SYS_GETUID, 0, 0, 0); uid != 0 {
				t.Fatalf("the real uid %d of the borrowed thread leaked to this one", uid)
			}
		})
	}
}

// TestNoEffectiveCapabilities checks that a borrowed identity holds no
// capability, not even those setfsuid leaves (CAP_SYS_RESOURCE, …).
func TestNoEffectiveCapabilities(t *testing.T) {
	requireRoot(t)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	Do(nobody, func() error { return unix.Capget(&hdr, &data[0]) })
	if data[0].Effective != 0 || data[1].Effective != 0 {
		t.Fatalf("effective capabilities as nobody: %#x %#x, want none", data[0].Effective, data[1].Effective)
	}
	unix.Capget(&hdr, &data[0])
	if data[0].Effective&(1<<unix.CAP_DAC_OVERRIDE) == 0 {
		t.Fatal("root lost CAP_DAC_OVERRIDE outside the borrowed thread")
	}
}
