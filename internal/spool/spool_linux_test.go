package spool

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/refusal"
)

// rootDir is a fresh directory that passes plan.CheckSpoolDir: root's,
// below root's parents.
func rootDir(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs it")
		}
		t.Skip("needs root: the spool directory must be root's")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	return dir
}

func TestOpenMakesTheDirectory(t *testing.T) {
	dir := filepath.Join(rootDir(t), "spool")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Fatalf("spool directory: %v, %v; want a directory, 0700", st, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	base := rootDir(t)
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	link := filepath.Join(base, "link")
	os.Symlink(base, link)
	alices := filepath.Join(base, "alices")
	os.Mkdir(alices, 0o700)
	os.Chown(alices, 2001, 2001)
	for dir, why := range map[string]string{
		open:                         open + " is writable by group or others (mode 0777)",
		filepath.Join(link, "spool"): link + " is a symbolic link (name the real path)",
		alices:                       alices + " is owned by uid 2001, not root",
		filepath.Join(alices, "sub"): alices + " is owned by uid 2001, not root",
		filepath.Join(base, "no/x"):  filepath.Join(base, "no") + " does not exist",
	} {
		_, err := Open(dir)
		want := "load: the spool directory is not safe: " + why + "; the administrator must fix load.spool_dir"
		if err == nil || err.Error() != want || len(refusal.All(err)) != 1 {
			t.Errorf("Open(%s) = %v; want %q", dir, err, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(alices, "sub")); err == nil {
		t.Errorf("Open made a directory inside alice's")
	}
}

func TestLockOnePerUser(t *testing.T) {
	d, err := Open(rootDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first, err := d.Lock(2001)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lock(2001); !errors.Is(err, ErrBusy) {
		t.Fatalf("second lock of 2001: %v, want ErrBusy", err)
	}
	other, err := d.Lock(2002)
	if err != nil {
		t.Fatalf("lock of 2002 while 2001's is held: %v", err)
	}
	other.Close()
	first.Close()
	again, err := d.Lock(2001)
	if err != nil {
		t.Fatalf("lock of 2001 after release: %v", err)
	}
	again.Close()
}

func TestFileHasNoName(t *testing.T) {
	dir := rootDir(t)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, err := d.Create(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, "archive"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the spool directory holds %v; want nothing", entries)
	}
	got, _ := io.ReadAll(f.Reader(4))
	if string(got) != "arch" {
		t.Errorf("Reader(4) = %q, want %q", got, "arch")
	}
	f.Close()
}

func TestFileKeepsTheReserve(t *testing.T) {
	d, err := Open(rootDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	free, err := Free(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	// A reserve of more than is free: not even the first byte is written.
	f, err := d.Create(free + 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := f.Write([]byte("x"))
	if n != 0 || len(refusal.All(err)) != 1 || !strings.Contains(err.Error(), "(load.min_free)") {
		t.Fatalf("Write = %d, %v; want the load.min_free refusal", n, err)
	}
}

// TestLockWait: a second load of one user waits for the first and then
// has the lock; one that waits past its bound, or whose context ends,
// gets ErrBusy without the lock.
func TestLockWait(t *testing.T) {
	d, err := Open(rootDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first, err := d.Lock(2001)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.LockWait(context.Background(), 2001, 250*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("LockWait past its bound: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.LockWait(ctx, 2001, time.Hour); !errors.Is(err, ErrBusy) {
		t.Fatalf("LockWait with an ended context: %v, want ErrBusy", err)
	}
	released := make(chan struct{})
	go func() {
		// The waiter must see the lock free only after this.
		time.Sleep(300 * time.Millisecond)
		close(released)
		first.Close()
	}()
	second, err := d.LockWait(context.Background(), 2001, time.Hour)
	if err != nil {
		t.Fatalf("LockWait after the first load: %v", err)
	}
	select {
	case <-released:
	default:
		t.Fatal("LockWait took the lock while the first load held it")
	}
	second.Close()
}
