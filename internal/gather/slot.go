package gather

import (
	"context"
	"os"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/plan"
)

// Slot is room for one more container in the caller's job: the job's
// lock, held from counting the job's containers until the new one exists.
// A nil Slot (outside a job) holds nothing.
type Slot struct {
	lock *os.File
}

// TakeJobSlot takes the job's lock, counts the job's containers on this
// node and lets plan.CheckJobContainers judge the count. Outside a job
// there is nothing to count (nil Slot). Pull the image before, not under
// the lock, so that one run's pull does not hold up the others.
func (r *Run) TakeJobSlot(ctx context.Context, eng *engine.Engine, debugf func(format string, args ...any)) (*Slot, error) {
	job := r.Facts.Job
	if job == nil {
		return nil, nil
	}
	lock, err := alloc.LockJob(ctx, r.Policy.Slurm.StateDir, job.ID)
	if err != nil {
		return nil, err
	}
	slot := &Slot{lock: lock}
	list, err := eng.Labelled(ctx, label.Job, job.ID, true)
	if err != nil {
		slot.Release()
		return nil, err
	}
	counted := *job
	counted.Containers = len(list)
	if debugf != nil {
		debugf("job %s: %d containers on this node (slurm.max_containers_per_job = %d)", job.ID, counted.Containers, r.Policy.Slurm.MaxContainersPerJob)
	}
	if err := plan.CheckJobContainers(r.Policy, &counted); err != nil {
		slot.Release()
		return nil, err
	}
	return slot, nil
}

// Release lets the job's next run count; it may be called again.
func (s *Slot) Release() {
	if s != nil && s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}
