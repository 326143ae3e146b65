// Package spool keeps an image archive on local disk while userdocker
// checks it, before the daemon gets it: root writes what a user sends, so
// everything about it is bounded (DESIGN.md §3.11). The directory is the
// admin's (load.spool_dir), root's alone; the file has no name, so it is
// gone when userdocker ends, however it ends; each user spools one archive
// at a time; and writing stops before the file system's free space falls
// below a reserve (load.min_free), counted as users see it, so that root's
// reserved blocks are never touched.
package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/plan"
)

// Entries returns the facts of every entry of the absolute path dir, "/"
// first, for plan.CheckSpoolDir; those below a missing one are missing.
func Entries(dir string) ([]plan.DirEntry, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("spool directory %q is not absolute", dir)
	}
	dir = filepath.Clean(dir)
	paths := []string{"/"}
	for i := 1; i < len(dir); i++ {
		if dir[i] == '/' {
			paths = append(paths, dir[:i])
		}
	}
	if dir != "/" {
		paths = append(paths, dir)
	}
	var out []plan.DirEntry
	for i, p := range paths {
		var st unix.Stat_t
		err := unix.Lstat(p, &st)
		if errors.Is(err, unix.ENOENT) {
			for _, p := range paths[i:] {
				out = append(out, plan.DirEntry{Path: p, Missing: true})
			}
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("spool directory: %s: %w", p, err)
		}
		out = append(out, plan.DirEntry{
			Path:    p,
			Symlink: st.Mode&unix.S_IFMT == unix.S_IFLNK,
			Dir:     st.Mode&unix.S_IFMT == unix.S_IFDIR,
			UID:     int(st.Uid),
			Mode:    fs.FileMode(st.Mode&0o777) | sticky(st.Mode),
		})
	}
	return out, nil
}

func sticky(mode uint32) fs.FileMode {
	if mode&unix.S_ISVTX != 0 {
		return fs.ModeSticky
	}
	return 0
}

// Dir is an open spool directory.
type Dir struct {
	path string
	fd   int
}

// Open checks the spool directory dir with plan.CheckSpoolDir, makes it
// (0700) if it is missing, and opens it.
func Open(dir string) (*Dir, error) {
	entries, err := Entries(dir)
	if err != nil {
		return nil, err
	}
	if err := plan.CheckSpoolDir(entries); err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	if entries[len(entries)-1].Missing {
		if err := unix.Mkdir(dir, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("make spool directory %s: %w", dir, err)
		}
		// Whoever made it, it must pass now.
		if entries, err = Entries(dir); err != nil {
			return nil, err
		}
		if err := plan.CheckSpoolDir(entries); err != nil {
			return nil, err
		}
		if entries[len(entries)-1].Missing {
			return nil, fmt.Errorf("spool directory %s: vanished", dir)
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open spool directory %s: %w", dir, err)
	}
	return &Dir{path: dir, fd: fd}, nil
}

// Close closes the directory.
func (d *Dir) Close() error { return unix.Close(d.fd) }

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// lockFile is the lock of one user's loads in the spool directory: empty,
// 0600, taken with flock(2) for as long as the load runs; the kernel lets
// it go when the process ends.
func lockFile(uid int) string { return "load-" + strconv.Itoa(uid) + ".lock" }

// ErrBusy is returned by Lock while another load of the same user runs.
var ErrBusy = errors.New("another load of yours is still running")

// Lock takes uid's load lock, without waiting: ErrBusy if another process
// holds it. The lock is released by closing the returned file.
func (d *Dir) Lock(uid int) (*os.File, error) {
	fd, err := unix.Openat(d.fd, lockFile(uid), unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("load lock in %s: %w", d.path, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(d.path, lockFile(uid)))
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return f, nil
}

// LockWait takes uid's load lock, waiting while another load holds it,
// until ctx ends or max has passed (then ErrBusy). A blocking flock(2)
// cannot be given a deadline, so it looks again every tenth of a second.
func (d *Dir) LockWait(ctx context.Context, uid int, max time.Duration) (*os.File, error) {
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		f, err := d.Lock(uid)
		if !errors.Is(err, ErrBusy) {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, ErrBusy
		case <-tick.C:
		}
	}
}

// Free returns the bytes free for users on the file system of path.
func Free(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", path, err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// checkEvery is how many bytes File writes between two looks at the free
// space: a statfs(2) costs about a microsecond, and several loads at once
// overshoot the reserve by at most this much each.
const checkEvery = 1 << 20

// File is a spool file: it has no name, and its writes stop before the
// file system has less than minFree bytes free for users.
type File struct {
	f        *os.File
	where    string
	minFree  int64
	written  int64
	nextLook int64
}

// Create makes a spool file in d, with no name (O_TMPFILE), or, where the
// file system cannot do that, with a name that is removed at once: the
// directory is root's alone.
func (d *Dir) Create(minFree int64) (*File, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) {
		fd, err = d.createNamed()
	}
	if err != nil {
		return nil, fmt.Errorf("spool file in %s: %w", d.path, err)
	}
	where := "the spool directory's file system (" + d.path + ")"
	return &File{f: os.NewFile(uintptr(fd), d.path+"/(spool)"), where: where, minFree: minFree}, nil
}

func (d *Dir) createNamed() (int, error) {
	for i := 0; ; i++ {
		name := ".spool-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(i)
		fd, err := unix.Openat(d.fd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) && i < 100 {
			continue
		}
		if err != nil {
			return -1, err
		}
		if err := unix.Unlinkat(d.fd, name, 0); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
}

// Write writes p, unless the file system would then have less than the
// reserve free: then it writes nothing and returns the refusal.
func (s *File) Write(p []byte) (int, error) {
	if s.written+int64(len(p)) >= s.nextLook {
		var st unix.Statfs_t
		if err := unix.Fstatfs(int(s.f.Fd()), &st); err != nil {
			return 0, fmt.Errorf("free space of %s: %w", s.where, err)
		}
		if err := plan.CheckRoom(s.where, int64(st.Bavail)*st.Bsize, int64(len(p)), s.minFree); err != nil {
			return 0, err
		}
		s.nextLook = s.written + int64(len(p)) + checkEvery
	}
	n, err := s.f.Write(p)
	s.written += int64(n)
	if err != nil {
		err = fmt.Errorf("write the spool file: %w", err)
	}
	return n, err
}

// Reader returns the first size bytes of the file, from its start.
func (s *File) Reader(size int64) io.Reader { return io.NewSectionReader(s.f, 0, size) }

// Close closes the file, which frees its space.
func (s *File) Close() error { return s.f.Close() }

// Where names the file system of the spool, for messages.
func (s *File) Where() string { return s.where }
