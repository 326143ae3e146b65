package asuser

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
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
