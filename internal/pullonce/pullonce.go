// Package pullonce makes the pulls of one image on one node a single
// pull. A job array, or an `srun -N64` job whose tasks each start
// `userdocker run` with an image the node does not have yet, would
// otherwise send every task to the registry at once: dockerd shares the
// download of a layer between concurrent pulls, but not the manifest, and
// not a pull that starts a moment after another has finished.
//
// The callers of one node agree through an exclusive flock on a file in
// the state directory, keyed by the normalized reference (LockFilePattern).
// Whoever takes it pulls; whoever finds it taken says so ("waiting for the
// pull of X started by another job"), waits for it, and then uses what that
// pull left: the image, or its error. The lock is held by the process: a
// pull whose process dies releases it, and the next waiter pulls itself.
package pullonce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/userdocker/userdocker/internal/alloc"
)

// LockFilePattern names the lock of one image's pull in the state
// directory: "pull-<hex>.lock", the hex being the first 32 digits of the
// SHA-256 of the normalized reference. The file (root, 0600) exists while
// a pull of the reference runs or is waited for; the caller that pulls
// writes the outcome into it, one line (see outcome), and removes it
// before it lets go of the lock; the waiters, who opened it before, read
// the outcome from their descriptors.
const LockFilePattern = "pull-%s.lock"

// LockFile is the name of ref's lock in the state directory.
func LockFile(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return fmt.Sprintf(LockFilePattern, hex.EncodeToString(sum[:16]))
}

// MaxWait bounds how long a caller waits for another's pull: a large
// image on a slow link takes long, but a pull that makes no headway for
// this long is stuck in the daemon.
const MaxWait = time.Hour

// Pull is one caller's need of an image.
type Pull struct {
	// Dir is the state directory (root's, writable by nobody else).
	Dir string
	// Ref is the normalized reference: the key of the lock.
	Ref string
	// Always: pull even when the daemon has the image (run.pull =
	// "always", `userdocker pull`). A pull of the same reference that
	// another caller finished while this one waited counts as this
	// caller's own.
	Always bool
	// Have reports whether the daemon has the image now.
	Have func(ctx context.Context) (bool, error)
	// Fetch pulls the image (and shows its progress).
	Fetch func(ctx context.Context) error
	// Waiting is called once, before waiting, when another caller's pull
	// holds the lock; nil: nothing is said.
	Waiting func()
	// Alone is called when the lock cannot be had at all (the state
	// directory is missing or not root's): the caller then pulls on its
	// own, as it would without this package, since the lock only saves
	// work; nil: nothing is said.
	Alone func(err error)
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Error is the error of another caller's pull, which this caller waited
// for: the same words, so that every task of a job reports the same cause.
type Error struct {
	Ref string
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Do makes sure the daemon has the image, pulling it at most once for
// all the callers on this node that need it at the same time.
func (p Pull) Do(ctx context.Context) error {
	if p.Now == nil {
		p.Now = time.Now
	}
	if !p.Always {
		if have, err := p.Have(ctx); err != nil || have {
			return err
		}
	}
	since := p.Now()
	announced := false
	for {
		lock, waited, err := p.lock(ctx, &announced)
		var unusable *unusableError
		if errors.As(err, &unusable) {
			if p.Alone != nil {
				p.Alone(unusable.err)
			}
			return p.Fetch(ctx)
		}
		if err != nil {
			return err
		}
		done, err := p.locked(ctx, lock, waited, since)
		lock.Close()
		if done {
			return err
		}
	}
}

// locked is Do's work under the lock: use the outcome of a pull that
// ended while this caller waited, or pull. done is false when the lock's
// file was removed by its last holder, so that a newer caller may hold
// the lock of a new file under the same name: the caller must lock again.
// The holder that pulls removes the file when it is done, and nothing is
// left in the state directory once the pulls of a node are over.
func (p Pull) locked(ctx context.Context, lock *os.File, waited bool, since time.Time) (done bool, err error) {
	if waited {
		last, err := readOutcome(lock)
		if err != nil {
			return true, err
		}
		if last.fresh(since) {
			if last.err != "" {
				return true, &Error{Ref: p.Ref, Msg: last.err}
			}
			if have, err := p.Have(ctx); err != nil || have {
				return true, err
			}
		}
	}
	path := filepath.Join(p.Dir, LockFile(p.Ref))
	if linked, err := isLinked(lock, path); err != nil || !linked {
		return err != nil, err
	}
	defer os.Remove(path)
	if !p.Always {
		// Pulled by another caller between the look above and the lock.
		if have, err := p.Have(ctx); err != nil || have {
			return true, err
		}
	}
	err = p.Fetch(ctx)
	if ctx.Err() != nil {
		// This caller gave up (a signal, the job's end): the pull did not
		// fail for the others, who try again themselves.
		return true, err
	}
	if werr := writeOutcome(lock, outcome{at: p.Now(), err: oneLine(err)}); werr != nil && err == nil {
		return true, werr
	}
	return true, err
}

// isLinked reports whether f is the file at path still.
func isLinked(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	now, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	return os.SameFile(held, now), nil
}

// lock takes ref's lock, at once or after waiting for another caller's
// pull (waited).
// announced says whether Waiting was called already.
func (p Pull) lock(ctx context.Context, announced *bool) (f *os.File, waited bool, err error) {
	name := LockFile(p.Ref)
	if err := alloc.EnsureStateDir(p.Dir); err != nil {
		return nil, false, &unusableError{err}
	}
	f, err = alloc.LockStateFile(ctx, p.Dir, name, 0)
	if err == nil {
		return f, false, nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, false, err
	}
	if !errors.Is(err, alloc.ErrStillLocked) {
		return nil, false, &unusableError{err} // a lock file that cannot be made
	}
	if p.Waiting != nil && !*announced {
		p.Waiting()
	}
	*announced = true
	f, err = alloc.LockStateFile(ctx, p.Dir, name, MaxWait)
	if errors.Is(err, alloc.ErrStillLocked) {
		return nil, true, fmt.Errorf("the pull of %s started by another job has not finished after %s: ask the administrator to look at the daemon", p.Ref, MaxWait)
	}
	if err != nil {
		return nil, true, fmt.Errorf("pull %s: %w", p.Ref, err)
	}
	return f, true, nil
}

// unusableError: the state directory cannot hold the lock.
type unusableError struct{ err error }

func (e *unusableError) Error() string { return e.err.Error() }

// outcome is the last pull under a lock, as its file holds it: "ok
// <unix-nanoseconds>" or "failed <unix-nanoseconds> <error>", one line.
type outcome struct {
	at  time.Time
	err string // "" for success
}

// fresh reports whether the pull ended after since: a pull that was
// running when the caller came. (One that ended a moment before the
// caller's first look at the lock counts as older, and the caller pulls
// again: a second pull, never a stale error.)
func (o outcome) fresh(since time.Time) bool {
	return !o.at.IsZero() && !o.at.Before(since)
}

func readOutcome(f *os.File) (outcome, error) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<16))
	if err != nil {
		return outcome{}, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return parseOutcome(string(b)), nil
}

// parseOutcome reads the line; anything else (an empty file: no pull
// yet) is no outcome.
func parseOutcome(s string) outcome {
	s = strings.TrimSuffix(s, "\n")
	word, rest, _ := strings.Cut(s, " ")
	stamp, msg, _ := strings.Cut(rest, " ")
	ns, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil || ns <= 0 {
		return outcome{}
	}
	switch {
	case word == "ok" && msg == "":
		return outcome{at: time.Unix(0, ns)}
	case word == "failed" && msg != "":
		return outcome{at: time.Unix(0, ns), err: msg}
	}
	return outcome{}
}

func (o outcome) String() string {
	if o.err == "" {
		return fmt.Sprintf("ok %d\n", o.at.UnixNano())
	}
	return fmt.Sprintf("failed %d %s\n", o.at.UnixNano(), o.err)
}

func writeOutcome(f *os.File, o outcome) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if _, err := f.WriteAt([]byte(o.String()), 0); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return nil
}

// oneLine is err's text on one line ("" for nil): how the waiters get it.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if msg == "" {
		msg = "the pull failed"
	}
	return msg
}
