package gather

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/plan"
)

// Slot is room for one more container: the lock of the caller's job (or,
// outside a job, of the caller), held from counting the job's containers
// and making their parent cgroup until the new container exists.
type Slot struct {
	lock *os.File
}

// TakeJobSlot takes the job's lock, sees that the job has not begun to
// end (ud-epilog deletes the job's record first), counts the job's
// containers on this node and lets plan.CheckJobContainers judge the
// count; then it makes the parent cgroup of the job's containers, or
// finds it, with the job's limits (prepareParent). Outside a job it takes
// the caller's lock and makes the caller's parent cgroup. Pull the image
// before, not under the lock, so that one run's pull does not hold up
// the others.
func (r *Run) TakeJobSlot(ctx context.Context, eng *engine.Engine, debugf func(format string, args ...any)) (*Slot, error) {
	job := r.Facts.Job
	dir := r.Policy.Slurm.StateDir
	var lock *os.File
	var err error
	if job == nil {
		lock, err = alloc.LockStateFile(ctx, dir, userLock(r.Facts.Caller.UID), userLockWait)
	} else {
		lock, err = alloc.LockJob(ctx, dir, job.ID)
	}
	if err != nil {
		return nil, err
	}
	slot := &Slot{lock: lock}
	if job != nil {
		err = r.countJob(ctx, eng, debugf)
	}
	if err == nil {
		err = r.prepareParent(ctx, eng, debugf)
	}
	if err != nil {
		slot.Release()
		return nil, err
	}
	return slot, nil
}

// countJob checks, under the job's lock, that the job's record is still
// there (else the epilog has begun: a parent cgroup made now would
// outlive it) and that the job has room for one more container.
func (r *Run) countJob(ctx context.Context, eng *engine.Engine, debugf func(format string, args ...any)) error {
	job := r.Facts.Job
	if r.rec != nil {
		if _, err := os.Stat(alloc.RecordPath(r.Policy.Slurm.StateDir, r.rec.Key)); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("job %s is ending: no new container starts in it", job.ID)
		}
	}
	list, err := eng.Labelled(ctx, label.Job, job.ID, true)
	if err != nil {
		return err
	}
	counted := *job
	counted.Containers = len(list)
	if debugf != nil {
		debugf("job %s: %d containers on this node (slurm.max_containers_per_job = %d)", job.ID, counted.Containers, r.Policy.Slurm.MaxContainersPerJob)
	}
	return plan.CheckJobContainers(r.Policy, &counted)
}

// Release lets the job's next run count; it may be called again.
func (s *Slot) Release() {
	if s != nil && s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}
