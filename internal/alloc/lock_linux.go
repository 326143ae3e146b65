package alloc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// JobLockPattern names a job's lock in the state directory:
// "job-<id>.lock", an empty root-owned file (0600) whose exclusive flock
// `userdocker run` holds from counting the job's containers until its new
// container exists, so that concurrent runs cannot together exceed
// [slurm] max_containers_per_job. ud-epilog deletes it with the job's
// records.
const JobLockPattern = "job-%s.lock"

// JobLockPath is the path of the lock of job jobID in dir.
func JobLockPath(dir, jobID string) string {
	return filepath.Join(dir, fmt.Sprintf(JobLockPattern, jobID))
}

// jobLockWait bounds how long a run waits for the other runs of its job:
// each holds the lock for one count and one create, a fraction of a
// second, but a job may start a hundred containers at once.
const jobLockWait = 2 * time.Minute

// LockJob takes job jobID's lock in the state directory dir (which must
// be root's and writable by nobody else). Closing the file releases it.
func LockJob(ctx context.Context, dir, jobID string) (*os.File, error) {
	if !ValidJobID(jobID) {
		return nil, fmt.Errorf("lock job: %q is not a job id", jobID)
	}
	f, err := LockStateFile(ctx, dir, fmt.Sprintf(JobLockPattern, jobID), jobLockWait)
	if errors.Is(err, ErrStillLocked) {
		return nil, fmt.Errorf("job %s: %w: another userdocker run of the job is stuck creating its container", jobID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", jobID, err)
	}
	return f, nil
}

// RemoveJobLock deletes job jobID's lock from dir; a missing one is fine.
func RemoveJobLock(dir, jobID string) error {
	if !ValidJobID(jobID) {
		return fmt.Errorf("remove job lock: %q is not a job id", jobID)
	}
	if err := os.Remove(JobLockPath(dir, jobID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ErrStillLocked is LockStateFile's error when the lock stayed taken for
// the whole wait.
var ErrStillLocked = errors.New("still locked")

// LockStateFile takes an exclusive flock on the file name in the state
// directory dir, creating dir (see EnsureStateDir) and the file (root,
// 0600) as needed, and returns the open file: closing it releases the
// lock. It waits up to wait for another holder, polling with a growing
// pause (waiters are many when a job starts many containers at once, and
// a blocking flock cannot be given a deadline), and then fails with an
// error matching ErrStillLocked that names the file.
func LockStateFile(ctx context.Context, dir, name string, wait time.Duration) (*os.File, error) {
	if err := EnsureStateDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%s %w after %s", path, ErrStillLocked, wait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}
