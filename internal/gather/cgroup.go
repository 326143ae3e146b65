package gather

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/userdocker/userdocker/internal/cgparent"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
)

// parentCgroup names the parent cgroup of the run's container (plan
// checks that the container goes there): in a job, the job's on the node
// ud-prolog recorded; outside one, the caller's on this host.
func parentCgroup(env Env, rec *jobRecord) (*plan.Cgroup, error) {
	var path string
	var err error
	if rec != nil {
		path, err = cgparent.JobPath(rec.Node, rec.JobID)
	} else {
		var host string
		hostname := env.Hostname
		if hostname == nil {
			hostname = os.Hostname
		}
		if host, err = cgparent.HostName(hostname); err == nil {
			path, err = cgparent.UserPath(host, env.Who.UID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the cgroup of your containers: %w", err)
	}
	return &plan.Cgroup{Parent: path}, nil
}

// userLock is the lock under which a caller's parent cgroup outside a
// job is made: one per caller, as the job's lock is one per job.
func userLock(uid uint32) string { return "user-" + strconv.FormatUint(uint64(uid), 10) + ".lock" }

// userLockWait is how long a run outside a job waits for another run of
// the same caller to make their container, as a run in a job does.
const userLockWait = 2 * time.Minute

// AskDaemonCgroups asks dockerd, while the run goes on, how it makes its
// containers' cgroups (engine.CgroupDriver), for TakeJobSlot to judge:
// the answer costs dockerd 10-20 ms (its Info gathers much else), which
// the run's image inspections before the slot then hide, instead of
// adding to the run and to the time the job's lock is held.
func (r *Run) AskDaemonCgroups(ctx context.Context, eng *engine.Engine) {
	done := make(chan struct{})
	var driver, version string
	var err error
	go func() {
		defer close(done)
		driver, version, err = eng.CgroupDriver(ctx)
	}()
	r.daemonCgroups = func() (string, string, error) {
		<-done
		return driver, version, err
	}
}

// prepareParent makes the run's parent cgroup, or finds it, gives it the
// limits it must hold for all the containers below it (the job's, or the
// caller's [limits]), reads them back and lets plan judge them. It runs
// under the job's (or the caller's) lock, right before the container is
// made: so that concurrent first runs make one parent, and no container
// goes where a failed write left looser limits. First it refuses a
// daemon that would not put the container there (plan.CheckCgroupDriver).
func (r *Run) prepareParent(ctx context.Context, eng *engine.Engine, debugf func(string, ...any)) error {
	c := r.Facts.Cgroup
	if c == nil {
		return errors.New("the cgroup of your containers is not known")
	}
	if r.cgroupRoot == "" {
		return fmt.Errorf("cgroup %s: where the cgroups are mounted is not known: no container runs without its limits", c.Parent)
	}
	tree, err := cgparent.Open(r.cgroupRoot)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w: no container runs without its limits", c.Parent, err)
	}
	if r.daemonCgroups == nil {
		r.AskDaemonCgroups(ctx, eng)
	}
	driver, version, err := r.daemonCgroups()
	if err != nil {
		return err
	}
	if err := plan.CheckCgroupDriver(driver, version, tree.Version); err != nil {
		return err
	}
	want := plan.WantParent(r.Policy, r.Facts.Job)
	got, err := tree.Ensure(c.Parent, want)
	if err != nil {
		return fmt.Errorf("%w: no container runs without its limits", err)
	}
	if debugf != nil {
		debugf("cgroup %s (v%d): cpus %q mems %q memory %d swap %d pids %d nano-cpus %d", c.Parent, tree.Version,
			got.CPUs, got.Mems, got.MemoryBytes, got.SwapBytes, got.Pids, got.NanoCPUs)
	}
	return plan.CheckParentCgroup(r.Policy, r.Facts.Job, *c, got)
}
