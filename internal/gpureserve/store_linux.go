package gpureserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/alloc"
)

// StateFile holds the workstation-mode reservations, in the state
// directory ([slurm] state_dir), root-owned 0644, replaced atomically. One
// JSON object, no other keys:
//
//	{
//	  "version": 1,
//	  "reservations": [
//	    {"uuid": "GPU-…" or "MIG-…", "uid": 2001, "user": "alice",
//	     "token": "…",             // one per userdocker run
//	     "pid": 1234, "pid_start": 56789,   // the run's process
//	     "container": "<full id>" or "",   // "" until created
//	     "created": "2026-01-02T15:04:05Z"}
//	  ]
//	}
const StateFile = "gpu-reservations.json"

// LockFile is the empty file whose flock (exclusive) guards every
// read-modify-write of StateFile: choosing GPUs and recording the choice
// happen under one lock, so two runs never get the same GPU.
const LockFile = "gpu-reservations.lock"

// lockWait bounds how long Lock waits for another run to finish choosing.
const lockWait = 30 * time.Second

const maxStateSize = 4 << 20

// Store is the state directory with its lock held.
type Store struct {
	dir  string
	lock *os.File
}

// Lock takes the reservation lock in dir, creating dir (root, 0755) if
// needed; dir must be owned by root and writable by nobody else.
func Lock(ctx context.Context, dir string) (*Store, error) {
	f, err := alloc.LockStateFile(ctx, dir, LockFile, lockWait)
	switch {
	case errors.Is(err, alloc.ErrStillLocked):
		return nil, fmt.Errorf("GPU reservations: %w: another userdocker run is stuck choosing GPUs", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("GPU reservations: %w", err)
	}
	return &Store{dir: dir, lock: f}, nil
}

// Unlock releases the lock.
func (s *Store) Unlock() error {
	return s.lock.Close() // closing the only descriptor drops the flock
}

// Load reads the reservations; a missing file holds none. The file must be
// a regular root-owned file writable by nobody else.
func (s *Store) Load() ([]Entry, error) {
	path := filepath.Join(s.dir, StateFile)
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("GPU reservations: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("GPU reservations: stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Mode&0o022 != 0 {
		return nil, fmt.Errorf("GPU reservations: %s must be a regular file owned by root and writable by nobody else (uid %d, mode %04o)", path, st.Uid, st.Mode&0o7777)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return nil, fmt.Errorf("GPU reservations: read %s: %w", path, err)
	}
	if len(data) > maxStateSize {
		return nil, fmt.Errorf("GPU reservations: %s is larger than %d bytes", path, maxStateSize)
	}
	entries, err := ParseState(data)
	if err != nil {
		return nil, fmt.Errorf("GPU reservations: %s: %w", path, err)
	}
	return entries, nil
}

// Save replaces the reservations atomically.
func (s *Store) Save(entries []Entry) (err error) {
	data, err := MarshalState(entries)
	if err != nil {
		return fmt.Errorf("GPU reservations: encode: %w", err)
	}
	path := filepath.Join(s.dir, StateFile)
	tmp, err := os.CreateTemp(s.dir, "."+StateFile+".*")
	if err != nil {
		return fmt.Errorf("GPU reservations: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("GPU reservations: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("GPU reservations: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("GPU reservations: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("GPU reservations: %w", err)
	}
	return nil
}

// ProcStarts returns the start times of the live processes among pids.
func ProcStarts(entries []Entry) map[int]uint64 {
	out := map[int]uint64{}
	for _, e := range entries {
		if e.PID <= 0 {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", e.PID))
		if err != nil {
			continue // gone
		}
		if start, err := ProcStartTime(data); err == nil {
			out[e.PID] = start
		}
	}
	return out
}

// SelfStart returns this process's PID and start time.
func SelfStart() (int, uint64, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("read /proc/self/stat: %w", err)
	}
	start, err := ProcStartTime(data)
	if err != nil {
		return 0, 0, err
	}
	return os.Getpid(), start, nil
}
