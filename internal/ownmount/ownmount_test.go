package ownmount

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/request"
)

var root = asuser.Cred{UID: 0, GID: 0}

func TestOpen(t *testing.T) {
	dir := t.TempDir() // root's, 0700 when run as root
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	os.Symlink(filepath.Join(dir, "d"), filepath.Join(dir, "link"))
	o := Open(asuser.Cred{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}, []string{
		dir + "/d", dir + "/link", dir + "/f", dir + "/missing", "relative", "/proc/self/root/etc",
	})
	defer o.Close()
	for _, tc := range []struct{ path, want, err string }{
		{path: dir + "/d", want: dir + "/d"},
		{path: dir + "/link", want: dir + "/d"}, // where it is, not the name
		{path: dir + "/f", err: "not a directory"},
		{path: dir + "/missing", err: plan.ErrNotExist.Error()},
		{path: "relative", err: "not an absolute path"},
		{path: "/proc/self/root/etc", err: "a link through /proc"},
	} {
		got := o.Facts[tc.path]
		if tc.err != "" {
			if got.Err == nil || !strings.Contains(got.Err.Error(), tc.err) {
				t.Errorf("%s: %+v, want error %q", tc.path, got, tc.err)
			}
			continue
		}
		if got.Err != nil || got.Path != tc.want {
			t.Errorf("%s: %+v, want %s", tc.path, got, tc.want)
		}
	}
}

// TestOpenAsOther: a directory the caller cannot enter is not opened.
func TestOpenAsOther(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to take on another identity")
	}
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // the test's own, made 0700
	os.Chmod(dir, 0o755)
	private := filepath.Join(dir, "private")
	os.Mkdir(private, 0o700)
	o := Open(asuser.Cred{UID: 65534, GID: 65534}, []string{private, dir})
	defer o.Close()
	if err := o.Facts[private].Err; err == nil || !strings.Contains(err.Error(), "no access") {
		t.Errorf("a directory nobody cannot enter: %+v", o.Facts[private])
	}
	if o.Facts[dir].Err != nil {
		t.Errorf("a directory nobody can enter: %v", o.Facts[dir].Err)
	}
}

// TestStageAndSweep: the staging mount shows the opened directory even
// after the name was swapped for a symlink; the sweep leaves it while
// its run holds it or a container names it, and then unmounts it and
// removes it, leaving the user's files alone.
func TestStageAndSweep(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount")
	}
	state := t.TempDir()
	os.Chmod(state, 0o755)
	home := t.TempDir()
	project := filepath.Join(home, "project")
	os.Mkdir(project, 0o755)
	os.WriteFile(filepath.Join(project, "marker"), []byte("mine"), 0o644)
	o := Open(root, []string{project})
	defer o.Close()

	// The swap, after the open.
	os.Rename(project, project+".real")
	os.Symlink("/etc", project)

	run := filepath.Join(Dir(state), "run1")
	staged := []request.Staged{{Source: project, Opened: o.Facts[project].Path, Staging: run + "/0"}}
	release, err := o.Stage(state, staged)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remove(run) })
	if b, err := os.ReadFile(run + "/0/marker"); err != nil || string(b) != "mine" {
		t.Fatalf("the staging mount shows %q, %v", b, err)
	}
	if st, _ := os.Stat(Dir(state)); st.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v", Dir(state), st.Mode())
	}

	none := func(context.Context) (map[string]bool, error) { return nil, nil }
	if err := Sweep(context.Background(), state, none); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(run + "/0/marker"); err != nil {
		t.Fatalf("the sweep took a staging directory its run holds: %v", err)
	}
	release()
	named := func(context.Context) (map[string]bool, error) { return map[string]bool{"run1": true}, nil }
	Sweep(context.Background(), state, named)
	if _, err := os.Stat(run + "/0/marker"); err != nil {
		t.Fatalf("the sweep took a staging directory a container names: %v", err)
	}
	failing := func(context.Context) (map[string]bool, error) { return nil, errors.New("no daemon") }
	if err := Sweep(context.Background(), state, failing); err == nil {
		t.Fatal("a sweep without the daemon's answer succeeded")
	}
	if err := Sweep(context.Background(), state, none); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(run); !os.IsNotExist(err) {
		t.Fatalf("staging directory after the sweep: %v", err)
	}
	if b, err := os.ReadFile(project + ".real/marker"); err != nil || string(b) != "mine" {
		t.Fatalf("the user's file after the sweep: %q, %v", b, err)
	}
}

// TestStageRefusesForeignPaths: Stage binds only below the state
// directory's staging directory.
func TestStageRefusesForeignPaths(t *testing.T) {
	o := &Opened{}
	if _, err := o.Stage("/run/userdocker", []request.Staged{{Source: "/x", Staging: "/etc/x/0"}}); err == nil {
		t.Fatal("staged outside the state directory")
	}
}

// TestCheckSeen: a daemon in this mount namespace sees the staging mount;
// one in a namespace of its own, made before the mount and private, does
// not, and the check says so; over tcp it cannot tell.
func TestCheckSeen(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount")
	}
	state := t.TempDir()
	os.Chmod(state, 0o755)
	project := filepath.Join(t.TempDir(), "project")
	os.Mkdir(project, 0o755)

	here := filepath.Join(t.TempDir(), "here.sock")
	l, err := net.Listen("unix", here)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// The other daemon: this test binary, listening in a mount namespace
	// of its own (private: Go makes it so), made before the mount.
	elsewhere := filepath.Join(t.TempDir(), "elsewhere.sock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestListenHelper$")
	cmd.Env = append(os.Environ(), "OWNMOUNT_LISTEN="+elsewhere)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "listening\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}

	o := Open(root, []string{project})
	defer o.Close()
	run := filepath.Join(Dir(state), "run1")
	staged := []request.Staged{{Source: project, Opened: project, Staging: run + "/0"}}
	release, err := o.Stage(state, staged)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	t.Cleanup(func() { remove(run) })

	if known, err := o.CheckSeen("unix://"+here, staged); !known || err != nil {
		t.Errorf("a daemon in this namespace: known %v, %v", known, err)
	}
	known, err := o.CheckSeen("unix://"+elsewhere, staged)
	if !known || err == nil || !strings.Contains(err.Error(), "does not see "+run+"/0") {
		t.Errorf("a daemon in another namespace: known %v, %v", known, err)
	}
	if known, err := o.CheckSeen("tcp://127.0.0.1:2375", staged); known || err != nil {
		t.Errorf("over tcp: known %v, %v", known, err)
	}
}

// TestListenHelper is TestCheckSeen's other daemon.
func TestListenHelper(t *testing.T) {
	sock := os.Getenv("OWNMOUNT_LISTEN")
	if sock == "" {
		t.Skip("a helper process of TestCheckSeen")
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("listening")
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}
