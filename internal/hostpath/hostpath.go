// Package hostpath looks up host paths for the mount policy: it resolves
// symlinks and .. with the caller's rights and finds every entry on the way
// that the caller could replace (and so swap for a symlink after the check).
package hostpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

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
	type found struct {
		resolved string
		err      error
	}
	results := make(map[string]found, len(paths))
	cred := asuser.Cred{UID: who.UID, GID: who.GID, Groups: who.Groups}
	// One borrowed identity for all lookups: each Do costs an OS thread.
	asuser.Do(cred, func() error {
		for _, p := range paths {
			if _, done := results[p]; done {
				continue
			}
			if probe {
				os.Stat(p)
			}
			r, err := resolve(p)
			results[p] = found{r, err}
		}
		return nil
	})
	out := make(map[string]plan.Path, len(results))
	for p, f := range results {
		if f.err != nil && trusted != nil && trusted(p) {
			f.resolved, f.err = resolve(p)
		}
		if f.err != nil {
			out[p] = plan.Path{Err: describe(f.err)}
			continue
		}
		out[p] = plan.Path{Resolved: f.resolved, Replaceable: replaceable(f.resolved, who, lstat)}
	}
	return out
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

// Stat is what replaceable needs to know of one directory entry.
type Stat struct {
	UID, GID uint32
	Mode     fs.FileMode
}

func lstat(p string) (Stat, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return Stat{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Stat{}, errors.New("no ownership information")
	}
	return Stat{UID: st.Uid, GID: st.Gid, Mode: fi.Mode()}, nil
}

// replaceable lists the entries of the resolved path p, from the top down,
// that who could rename or remove: the parent directory is writable and
// searchable by who, and either not sticky or owned by who, or the entry is
// who's own. root can replace anything, so nothing is listed for root: the
// check protects against users, and root needs no sudo to mount.
func replaceable(p string, who Who, stat func(string) (Stat, error)) []string {
	if who.UID == 0 {
		return nil
	}
	var out []string
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	parent := "/"
	for _, name := range parts {
		if name == "" {
			continue
		}
		entry := filepath.Join(parent, name)
		ps, err := stat(parent)
		es, err2 := stat(entry)
		if err != nil || err2 != nil {
			return append(out, entry) // cannot tell: treat as unsafe
		}
		if canWrite(ps, who) && (ps.Mode&fs.ModeSticky == 0 || ps.UID == who.UID || es.UID == who.UID) {
			out = append(out, entry)
		}
		parent = entry
	}
	return out
}

func canWrite(s Stat, who Who) bool {
	perm := s.Mode.Perm()
	switch {
	case s.UID == who.UID:
		return perm&0o300 == 0o300
	case s.GID == who.GID || slices.Contains(who.Groups, s.GID):
		return perm&0o030 == 0o030
	default:
		return perm&0o003 == 0o003
	}
}
