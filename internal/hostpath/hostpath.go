// Package hostpath looks up host paths for the mount policy: it resolves
// symlinks and .. with the caller's rights and finds every entry on the way
// that the caller could replace (and so swap for a symlink after the check).
//
// Whether the caller could is asked of the kernel, as the caller (see
// asuser.Access), never read from mode bits: ACLs grant more than the bits
// show. On NFS the kernel asks the server (an ACCESS call with the
// caller's credentials: uid and groups with sec=sys, the caller's ticket
// with Kerberos), so the server's ACLs count and root squashing plays no
// part, root not being asked about. The entries themselves are opened as
// whoever resolved the path (the caller; root for a site path the caller
// cannot reach), and an entry that cannot be opened counts as replaceable.
package hostpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/plan"
)

// Who is the identity paths are judged for.
type Who struct {
	UID    uint32
	GID    uint32
	Groups []uint32
}

// Look resolves each path as who. Paths that fail as who are retried as
// root when trusted reports them as the site's own (always-mounts): the
// caller need not be able to reach those. probe stats each path first, so
// that automounted file systems are there to be resolved.
func Look(paths []string, who Who, probe bool, trusted func(string) bool) map[string]plan.Path {
	results := make(map[string]plan.Path, len(paths))
	cred := asuser.Cred{UID: who.UID, GID: who.GID, Groups: who.Groups}
	var retry []string
	// One borrowed identity for all lookups: each Do costs an OS thread.
	err := asuser.Do(cred, func() error {
		for _, p := range paths {
			if _, done := results[p]; done {
				continue
			}
			if probe {
				os.Stat(p)
			}
			r, err := resolve(p)
			if err != nil && trusted != nil && trusted(p) {
				retry = append(retry, p)
			}
			results[p] = judge(r, err, who, asCaller)
		}
		return nil
	})
	if err != nil {
		for _, p := range paths {
			results[p] = plan.Path{Err: fmt.Errorf("cannot take on your identity: %w", err)}
		}
		return results
	}
	for _, p := range retry {
		r, err := resolve(p)
		results[p] = judge(r, err, who, func(c *chain) {
			if err := asuser.Do(cred, func() error { c.ask(); return nil }); err != nil {
				c.askErr = err
			}
		})
	}
	return results
}

// asCaller asks about c on the calling thread, which has the caller's
// identity.
func asCaller(c *chain) { c.ask() }

// judge makes the fact of a path that resolved to r (or failed with err),
// opening its entries with the calling thread's identity and asking about
// them through ask, which must answer for who.
func judge(r string, err error, who Who, ask func(*chain)) plan.Path {
	if err != nil {
		return plan.Path{Err: describe(err)}
	}
	if who.UID == 0 {
		return plan.Path{Resolved: r} // see replaceable
	}
	c := open(r)
	defer c.close()
	ask(c)
	return plan.Path{Resolved: r, Replaceable: replaceable(c.entries(), who)}
}

func resolve(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", errors.New("not an absolute path")
	}
	return filepath.EvalSymlinks(p)
}

func describe(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return plan.ErrNotExist
	case errors.Is(err, fs.ErrPermission):
		return errors.New("you have no access to it")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Entry is what replaceable needs to know of one entry of a path.
type Entry struct {
	Path string
	UID  uint32 // the entry's owner
	// ParentUID and ParentSticky describe the directory the entry is in.
	ParentUID    uint32
	ParentSticky bool
	// ParentWritable is the kernel's answer to: may the caller create
	// and remove entries in the parent (write and search access)?
	ParentWritable bool
	// Err is set when a fact could not be found out.
	Err error
}

// replaceable lists the entries, from the top down, that who could rename
// or remove: the kernel grants who write and search access to the parent
// directory, and that directory is either not sticky or owned by who, or
// the entry is who's own (restricted deletion: a sticky directory lets
// only those rename an entry, besides CAP_FOWNER). An entry whose facts are
// unknown counts as replaceable, and the walk ends there. root can replace
// anything, so nothing is listed for root: the check protects against
// users, and root needs no sudo to mount.
func replaceable(entries []Entry, who Who) []string {
	if who.UID == 0 {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.Err != nil {
			return append(out, e.Path) // cannot tell: treat as unsafe
		}
		if e.ParentWritable && (!e.ParentSticky || e.ParentUID == who.UID || e.UID == who.UID) {
			out = append(out, e.Path)
		}
	}
	return out
}

// chain is a resolved path opened entry by entry, "/" first, each with
// O_PATH|O_NOFOLLOW relative to the one before: what is asked about is
// what the path named when it was opened, not what a later lookup finds.
type chain struct {
	paths    []string // of each entry opened or tried
	files    []*os.File
	stats    []unix.Stat_t
	err      error   // why the last of paths could not be opened
	writable []error // the kernel's answer for each directory of files but the last
	askErr   error   // why writable could not be asked
}

func open(p string) *chain {
	c := &chain{}
	dir, name, cur := unix.AT_FDCWD, "/", "/"
	rest := strings.Split(p, "/")
	for {
		c.paths = append(c.paths, cur)
		fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			c.err = err
			return c
		}
		f := os.NewFile(uintptr(fd), cur)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			f.Close()
			c.err = err
			return c
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			f.Close()
			c.err = errors.New("it was replaced by a symlink")
			return c
		}
		c.files, c.stats = append(c.files, f), append(c.stats, st)
		for len(rest) > 0 && rest[0] == "" {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return c
		}
		dir, name, cur, rest = fd, rest[0], filepath.Join(cur, rest[0]), rest[1:]
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			c.paths, c.err = append(c.paths, cur), errors.New("its parent is no directory any more")
			return c
		}
	}
}

// ask asks the kernel, for each directory that holds an entry of the
// path, whether this thread's identity may create and remove entries in
// it: write and search access, as rename(2) and unlink(2) need.
func (c *chain) ask() {
	for _, f := range c.files[:max(0, len(c.files)-1)] {
		c.writable = append(c.writable, asuser.Access(int(f.Fd()), unix.W_OK|unix.X_OK))
	}
}

// entries turns what open and ask found into replaceable's facts. The
// kernel saying no (EACCES, EPERM) is a no. A read-only file system
// (EROFS) is a yes: the same directory may be writable where it is mounted
// elsewhere (another mount, another node), and the caller could rename the
// entry there. Any other answer cannot be trusted either way.
func (c *chain) entries() []Entry {
	var out []Entry
	for i := 1; i < len(c.paths); i++ {
		e := Entry{Path: c.paths[i]}
		switch {
		case i >= len(c.files):
			e.Err = c.err
		case i-1 >= len(c.writable):
			if e.Err = c.askErr; e.Err == nil {
				e.Err = errors.New("not asked")
			}
		default:
			parent := c.stats[i-1]
			e.UID, e.ParentUID = c.stats[i].Uid, parent.Uid
			e.ParentSticky = parent.Mode&unix.S_ISVTX != 0
			switch err := c.writable[i-1]; {
			case err == nil, errors.Is(err, unix.EROFS):
				e.ParentWritable = true
			case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
			default:
				e.Err = err
			}
		}
		out = append(out, e)
		if e.Err != nil {
			break
		}
	}
	if len(out) == 0 && c.err != nil { // "/" itself could not be opened
		out = append(out, Entry{Path: "/", Err: c.err})
	}
	return out
}

func (c *chain) close() {
	for _, f := range c.files {
		f.Close()
	}
}
