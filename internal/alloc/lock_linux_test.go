package alloc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLockJobExcludes has many goroutines count and add under the job's
// lock, as concurrent runs count the job's containers and create one:
// with the lock, none overshoots.
func TestLockJobExcludes(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	const n, limit = 16, 5
	var inside, created, overshoot atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := LockJob(context.Background(), dir, "42")
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if inside.Add(1) != 1 {
				overshoot.Add(1)
			}
			if created.Load() < limit {
				time.Sleep(time.Millisecond) // widen the window a race would need
				created.Add(1)
			}
			inside.Add(-1)
		}()
	}
	wg.Wait()
	if overshoot.Load() != 0 || created.Load() != limit {
		t.Errorf("%d times two held the lock at once, %d created; want 0 and %d", overshoot.Load(), created.Load(), limit)
	}
	fi, err := os.Stat(JobLockPath(dir, "42"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, mode %v; want it, 0600", err, fi.Mode())
	}
}

func TestLockStateFileWaitEnds(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	held, err := LockStateFile(context.Background(), dir, "x.lock", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, err = LockStateFile(context.Background(), dir, "x.lock", 20*time.Millisecond)
	if !errors.Is(err, ErrStillLocked) || !strings.Contains(err.Error(), filepath.Join(dir, "x.lock")+" still locked after 20ms") {
		t.Errorf("second lock = %v, want %v naming the file", err, ErrStillLocked)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LockStateFile(ctx, dir, "x.lock", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("lock with a cancelled context = %v, want %v", err, context.Canceled)
	}
	held.Close()
	again, err := LockStateFile(context.Background(), dir, "x.lock", 20*time.Millisecond)
	if err != nil {
		t.Errorf("lock after release: %v", err)
	} else {
		again.Close()
	}
}

func TestLockJobRefuses(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	if _, err := LockJob(context.Background(), dir, "../42"); err == nil || err.Error() != `lock job: "../42" is not a job id` {
		t.Errorf("LockJob(../42) = %v, want a refusal", err)
	}
	os.Chmod(dir, 0o777)
	if _, err := LockJob(context.Background(), dir, "42"); err == nil || !strings.Contains(err.Error(), "writable by group or others (mode 0777)") {
		t.Errorf("LockJob(0777 dir) = %v, want a refusal naming the mode", err)
	}
}

func TestRemoveJobLock(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(JobLockPath(dir, "42"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second finds nothing, and that is fine
		if err := RemoveJobLock(dir, "42"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(JobLockPath(dir, "42")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock still there: %v", err)
	}
	if err := RemoveJobLock(dir, "*"); err == nil {
		t.Error("RemoveJobLock(*) accepted a pattern")
	}
}
