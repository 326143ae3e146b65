// Package ownmount mounts directories of a user's own (those under
// run.mounts.user_roots) without a window between the check and the
// mount. The directory is opened as the caller (Open): the kernel follows
// the caller's symlinks with the caller's rights, and what is then judged
// (where the kernel says the open directory is) and what is mounted is
// that open directory, whatever the name leads to a moment later. Before
// the create, each open directory is bound onto a staging directory under
// the state directory (Stage): root-owned, in a directory only root may
// enter, so Docker is handed a path no user can change or reach. The
// staging directory goes when its container is gone (Sweep).
//
// dockerd must see the staging mount: it must run in the mount namespace
// userdocker runs in, or in one that receives its mounts (a slave of a
// shared mount that holds the state directory).
package ownmount

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/request"
)

// Dir is the directory under the state directory that holds every run's
// staging directory: root's alone (0700), so no user can reach a
// directory through its staging mount that the path to it would forbid.
func Dir(stateDir string) string { return filepath.Join(stateDir, "mounts") }

// Opened are the directories Open opened, by the path as the user wrote it.
type Opened struct {
	Facts map[string]plan.Opened
	files map[string]*os.File
}

// Open opens each path as cred, as the final directory of a bind mount
// would be: symlinks followed the caller's way (the kernel's own walk,
// with the caller's rights), the result O_PATH and a directory. Where the
// kernel says the open directory is becomes the fact the plan judges.
// The caller must be able to enter the directory itself.
func Open(cred asuser.Cred, paths []string) *Opened {
	o := &Opened{Facts: map[string]plan.Opened{}, files: map[string]*os.File{}}
	err := asuser.Do(cred, func() error {
		for _, p := range paths {
			if _, done := o.Facts[p]; done {
				continue
			}
			f, dir, err := openDir(p)
			if err != nil {
				o.Facts[p] = plan.Opened{Err: err}
				continue
			}
			o.files[p] = f
			o.Facts[p] = plan.Opened{Path: dir}
		}
		return nil
	})
	if err != nil {
		o.Close()
		for _, p := range paths {
			o.Facts[p] = plan.Opened{Err: fmt.Errorf("cannot take on your identity: %w", err)}
		}
	}
	return o
}

// openDir opens p as the calling thread's identity and returns the file
// and where the kernel says it is.
func openDir(p string) (*os.File, string, error) {
	if !filepath.IsAbs(p) {
		return nil, "", errors.New("not an absolute path")
	}
	fd, err := openPath(p)
	if err != nil {
		return nil, "", describe(err)
	}
	f := os.NewFile(uintptr(fd), p)
	// O_PATH needs search access to the path only: the directory itself
	// must let the caller in too (the kernel's answer, ACLs counted).
	if err := asuser.Access(fd, unix.X_OK); err != nil {
		f.Close()
		return nil, "", describe(err)
	}
	dir, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(fd))
	if err != nil || !filepath.IsAbs(dir) {
		f.Close()
		return nil, "", fmt.Errorf("cannot tell where it is: %v", err)
	}
	return f, dir, nil
}

// openPath opens p O_PATH as a directory. No /proc magic links: through
// /proc/self/… the caller's thread would walk into this root process's
// own root, working directory and open files. (The plan judges where the
// directory is in any case; this keeps the walk the caller's.) Kernels
// before 5.6 lack openat2: there the plan's judgement alone stands.
func openPath(p string) (int, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &how)
	if err == unix.ENOSYS {
		return unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	return fd, err
}

func describe(err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return plan.ErrNotExist
	case errors.Is(err, unix.ENOTDIR):
		return errors.New("not a directory (only directories mount from your own directories)")
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return errors.New("you have no access to it")
	case errors.Is(err, unix.ELOOP):
		return errors.New("too many symlinks, or a link through /proc")
	}
	return err
}

// Close closes the open directories. Staged mounts stay.
func (o *Opened) Close() {
	if o == nil {
		return
	}
	for p, f := range o.files {
		f.Close()
		delete(o.files, p)
	}
}

// Stage makes each staging directory of staged and binds the open
// directory of its source onto it, recursively, as docker binds a source
// (what is mounted below the directory comes along). The run's staging
// directory stays locked until release is called, after the create:
// until then no sweep takes it for a leftover. A staging mount is checked
// to be the very directory that was opened.
func (o *Opened) Stage(stateDir string, staged []request.Staged) (release func(), err error) {
	if len(staged) == 0 {
		return func() {}, nil
	}
	run := filepath.Dir(staged[0].Staging)
	if filepath.Dir(run) != Dir(stateDir) {
		return nil, fmt.Errorf("staging directory %s is not under %s", run, Dir(stateDir))
	}
	lock, err := create(stateDir, run)
	if err != nil {
		return nil, err
	}
	release = func() { lock.Close() }
	defer func() {
		if err != nil {
			remove(run)
			release()
		}
	}()
	for _, s := range staged {
		if filepath.Dir(s.Staging) != run {
			return nil, fmt.Errorf("staging directory %s is not under %s", s.Staging, run)
		}
		f, ok := o.files[s.Source]
		if !ok {
			return nil, fmt.Errorf("mount %s: it was not opened", s.Source)
		}
		if err := bind(f, s.Staging); err != nil {
			return nil, fmt.Errorf("mount %s: %w", s.Source, err)
		}
	}
	return release, nil
}

// CheckSeen asks whether the daemon at dockerHost sees each staging
// directory of staged as the directory that was opened, in its own mount
// namespace: through /proc/PID/root of the process that answers on its
// unix socket. A daemon that does not would mount an empty directory,
// and what the container writes there would be lost to the user. known
// is false when it cannot tell: a daemon over tcp or ssh, a socket whose
// listener is not the daemon (socket activation by pid 1).
func (o *Opened) CheckSeen(dockerHost string, staged []request.Staged) (known bool, err error) {
	sock, ok := strings.CutPrefix(dockerHost, "unix://")
	if !ok || len(staged) == 0 {
		return false, nil
	}
	pid, err := peerPID(sock)
	if err != nil || pid <= 1 {
		return false, nil
	}
	for _, s := range staged {
		f, ok := o.files[s.Source]
		if !ok {
			return true, fmt.Errorf("mount %s: it was not opened", s.Source)
		}
		var want, got unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &want); err != nil {
			return true, err
		}
		err := unix.Stat("/proc/"+strconv.Itoa(int(pid))+"/root"+s.Staging, &got)
		if err != nil || got.Dev != want.Dev || got.Ino != want.Ino {
			return true, fmt.Errorf("the Docker daemon (pid %d) does not see %s: it runs in a mount namespace that does not receive userdocker's mounts, so directories of your own cannot be mounted on this node; tell your admin (see \"What dockerd needs\" in docs/admin-guide.md)", pid, s.Staging)
		}
	}
	return true, nil
}

// peerPID is the pid of the process listening on the unix socket sock.
func peerPID(sock string) (int32, error) {
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	raw, err := conn.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return cred.Pid, nil
}

// create makes the run's staging directory and locks it, under the lock
// the sweep holds, so that no sweep sees it unlocked.
func create(stateDir, run string) (*os.File, error) {
	if err := alloc.EnsureStateDir(stateDir); err != nil {
		return nil, err
	}
	if err := os.Mkdir(Dir(stateDir), 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("staging: %w", err)
	}
	if err := checkRootOnly(Dir(stateDir)); err != nil {
		return nil, err
	}
	sweep, err := lockFile(filepath.Join(Dir(stateDir), ".lock"), unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer sweep.Close()
	if err := os.Mkdir(run, 0o700); err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	lock, err := lockFile(run, unix.LOCK_EX)
	if err != nil {
		os.Remove(run)
		return nil, err
	}
	return lock, nil
}

// checkRootOnly refuses a staging root that is not a directory of root's
// that only root may enter.
func checkRootOnly(dir string) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 || st.Mode&0o077 != 0 {
		return fmt.Errorf("staging directory %s must be a directory of root's with mode 0700", dir)
	}
	return nil
}

// lockFile opens name (creating a plain file if it is missing) and
// takes how (LOCK_EX, or'ed with LOCK_NB to try) on it.
func lockFile(name string, how int) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, unix.EISDIR) {
		f, err = os.OpenFile(name, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// bind binds the directory open at f onto a new directory at target and
// checks that what target now shows is that directory.
func bind(f *os.File, target string) error {
	if err := os.Mkdir(target, 0o700); err != nil {
		return err
	}
	src := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if err := unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		os.Remove(target)
		return fmt.Errorf("bind onto %s: %w", target, err)
	}
	var want, got unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &want); err != nil {
		return err
	}
	if err := unix.Lstat(target, &got); err != nil {
		return err
	}
	if want.Dev != got.Dev || want.Ino != got.Ino {
		return fmt.Errorf("%s does not show the directory that was opened", target)
	}
	return nil
}

// remove unmounts and removes the run's staging directory run.
func remove(run string) error {
	entries, err := os.ReadDir(run)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(run, e.Name())
		// Detached: a mount below the user's directory goes with it.
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
			continue
		}
		if err := os.Remove(p); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(run); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// InUse lists the staging directory names that containers, in any
// state, still name.
type InUse func(ctx context.Context) (map[string]bool, error)

// SweepDaemon is Sweep with the containers of the daemon d: those whose
// label.Staging names a staging directory.
func SweepDaemon(ctx context.Context, d *engine.Engine, stateDir string) error {
	return Sweep(ctx, stateDir, func(ctx context.Context) (map[string]bool, error) {
		list, err := d.Containers(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", label.Staging))})
		if err != nil {
			return nil, err
		}
		used := map[string]bool{}
		for _, c := range list {
			if v := c.Labels[label.Staging]; v != "" {
				used[v] = true
			}
		}
		return used, nil
	})
}

// Sweep removes the staging directories under stateDir that no run
// holds and no container names: those of containers that are gone
// (removed by the daemon after --rm, by rm, by the epilog) and those a
// run left when it failed. It asks the daemon only when there is one.
func Sweep(ctx context.Context, stateDir string, inUse InUse) error {
	dir := Dir(stateDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	var runs []string
	for _, e := range entries {
		if e.IsDir() {
			runs = append(runs, e.Name())
		}
	}
	if len(runs) == 0 {
		return nil
	}
	if err := checkRootOnly(dir); err != nil {
		return err
	}
	sweep, err := lockFile(filepath.Join(dir, ".lock"), unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer sweep.Close()
	// Lock first, then ask: a run lets go of its directory only after
	// its container exists, so the daemon's answer covers every
	// directory locked here.
	locked := map[string]*os.File{}
	for _, name := range runs {
		if lock, err := lockFile(filepath.Join(dir, name), unix.LOCK_EX|unix.LOCK_NB); err == nil {
			locked[name] = lock
		}
	}
	defer func() {
		for _, l := range locked {
			l.Close()
		}
	}()
	if len(locked) == 0 {
		return nil
	}
	used, err := inUse(ctx)
	if err != nil {
		return fmt.Errorf("staging sweep: %w", err)
	}
	var errs []error
	for name := range locked {
		if !used[name] {
			errs = append(errs, remove(filepath.Join(dir, name)))
		}
	}
	return errors.Join(errs...)
}
