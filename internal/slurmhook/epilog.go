package slurmhook

// The epilog removes what a Slurm job leaves behind in Docker when it
// ends: every container labelled with the job (DESIGN.md §4). Docker's
// containers live in dockerd's cgroups, so Slurm's own cleanup never
// reaches them; a container that outlives its job keeps the job's GPUs
// busy for whoever gets them next.
//
// The job is over when the epilog runs, and slurmd drains the node if the
// epilog outlives slurm.conf's PrologEpilogTimeout, so the whole cleanup
// runs within a budget, and a container's own shutdown gets one short
// grace period that all of the job's containers share. What costs time is
// dockerd's work per container (the kill, the exit, the shim and network
// teardown, the removal of the writable layer): measured on a 2-vCPU node
// with dockerd 20.10, about 50 ms of it per container, whether killed first
// or removed by force at once, and no faster with more than a handful of
// calls in flight (120 at once were a third slower than 8 at once). So the
// cleanup signals every container first, waits once, and then removes
// them all, a few at a time.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/cgparent"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/ownmount"
)

// Defaults for Options.
const (
	DefaultBudget   = 30 * time.Second
	DefaultParallel = 8
)

// pollEvery is how often the cleanup asks dockerd whether containers have
// ended or gone. A list of a job's containers costs dockerd a few
// milliseconds; a variable so that tests can make it shorter.
var pollEvery = 100 * time.Millisecond

// Options tune RemoveContainers.
type Options struct {
	// StopTimeout is how long the job's running containers, all sent
	// their stop signal at once, may take to end before they are killed
	// ([slurm] stop_timeout). It is one period for all of them, not one
	// per container, and at most half of Budget; 0 kills at once.
	StopTimeout time.Duration
	// Budget bounds the whole cleanup, every call to dockerd included
	// ([slurm] epilog_budget): a daemon that hangs, or a container that
	// will not die, must not keep the epilog past slurmd's
	// PrologEpilogTimeout, which would drain the node with nothing said.
	Budget time.Duration
	// Parallel is how many containers are signalled or removed at once.
	Parallel int
	// Logf receives one line per event, without a newline; nil: no log.
	Logf func(format string, args ...any)
	// Removed is told the ID of each container removed, one call at a
	// time (for the audit record); nil: nobody is told.
	Removed func(id string)
}

// RemoveContainers removes every container whose label.Job label is
// jobID, in any state, with its anonymous volumes, within opts.Budget:
//
//  1. it sends each running container its stop signal, several at once;
//  2. it removes by force, several at once, each container as soon as it
//     has no processes, and the others when they have all had
//     opts.StopTimeout (at most half the budget) since step 1: dockerd
//     kills what still runs with SIGKILL. One that dockerd is removing
//     already (a --rm container that ended) counts once it is gone.
//
// A failure with one container is logged and the others are still tried.
// It then lists the job's containers again: the error names each one left
// that dockerd is not removing, and nil means nothing of the job is left
// but containers without processes that dockerd is still deleting (a big
// writable layer or volume can take longer than the budget; the deletion
// goes on without the epilog). So a second run has nothing to do and
// succeeds.
func RemoveContainers(ctx context.Context, d *engine.Engine, jobID string, opts Options) error {
	if !alloc.ValidJobID(jobID) {
		return fmt.Errorf("%q is not a job id", jobID)
	}
	opts = withDefaults(opts)
	// The last listing, which decides the exit status, gets a slice of
	// the budget of its own, so that it still runs when the work before
	// it used up its share.
	lastList := min(opts.Budget/5, 5*time.Second)
	work, cancel := context.WithTimeout(ctx, opts.Budget-lastList)
	defer cancel()

	cs, err := listJob(work, d, jobID, true)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return nil
	}
	start := time.Now()
	c := &cleanup{d: d, opts: opts}
	removals := make(chan container.Summary, len(cs))
	removed := make(chan struct{})
	go func() {
		c.each(removals, func(s container.Summary) { c.remove(work, s) })
		close(removed)
	}()
	signalled := map[string]bool{}
	grace := graceFor(opts.StopTimeout, opts.Budget)
	if grace > 0 {
		signalled = c.signalAll(work, cs)
	}
	for _, s := range cs {
		if !signalled[s.ID] {
			removals <- s // nothing to wait for
		}
	}
	c.waitEnded(work, jobID, cs, signalled, grace, removals)
	close(removals)
	<-removed

	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), lastList)
	defer lcancel()
	left, err := listJob(lctx, d, jobID, true)
	if err != nil {
		return err
	}
	var stuck []string
	for _, s := range left {
		if s.State == container.StateRemoving {
			opts.Logf("container %s: dockerd is still deleting it; its processes are gone", describe(s))
			continue
		}
		stuck = append(stuck, fmt.Sprintf("%s (%s)", describe(s), s.State))
	}
	if len(stuck) > 0 {
		return fmt.Errorf("%d container(s) of the job still present after cleanup: %s", len(stuck), strings.Join(stuck, ", "))
	}
	opts.Logf("%d container(s) ended and removed in %s", len(cs)-len(left), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// graceFor is how long the cleanup waits for a job's signalled containers
// to end: stopTimeout, but at most half the budget, so that removing them
// always has the other half.
func graceFor(stopTimeout, budget time.Duration) time.Duration {
	return max(0, min(stopTimeout, budget/2))
}

// withDefaults fills in what opts leaves unset, and serialises Logf and
// Removed, which the cleanup calls from several goroutines.
func withDefaults(opts Options) Options {
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var mu sync.Mutex
	opts.Logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logf(format, args...)
	}
	if removed := opts.Removed; removed != nil {
		opts.Removed = func(id string) {
			mu.Lock()
			defer mu.Unlock()
			removed(id)
		}
	}
	return opts
}

// listJob lists the job's containers: in every state with all, else those
// with processes (running, paused, restarting); only the job's own are
// ever touched (engine.Labelled checks every label again).
func listJob(ctx context.Context, d *engine.Engine, jobID string, all bool) ([]container.Summary, error) {
	list, err := d.Labelled(ctx, label.Job, jobID, all)
	if err != nil {
		return nil, fmt.Errorf("list the job's containers: %w", err)
	}
	return list, nil
}

// cleanup is one run of RemoveContainers.
type cleanup struct {
	d    *engine.Engine
	opts Options
}

// each calls f for every container it receives, opts.Parallel at a time,
// until cs is closed and every call has returned.
func (c *cleanup) each(cs <-chan container.Summary, f func(container.Summary)) {
	var wg sync.WaitGroup
	for range c.opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range cs {
				f(s)
			}
		}()
	}
	wg.Wait()
}

// feed returns a closed channel holding cs, for each.
func feed(cs []container.Summary) <-chan container.Summary {
	ch := make(chan container.Summary, len(cs))
	for _, s := range cs {
		ch <- s
	}
	close(ch)
	return ch
}

// hasProcesses are the states in which a container has processes to end.
// A paused container is sent its stop signal too: dockerd then thaws it,
// so that the signal arrives.
var hasProcesses = map[container.ContainerState]bool{
	container.StateRunning:    true,
	container.StatePaused:     true,
	container.StateRestarting: true,
}

// signalAll sends each container with processes its stop signal (the
// image's or --stop-signal, else SIGTERM), as `docker stop` would, and
// returns the IDs of those signalled. The stop signal also tells dockerd
// not to restart the container, whatever its restart policy.
func (c *cleanup) signalAll(ctx context.Context, cs []container.Summary) map[string]bool {
	var mu sync.Mutex
	signalled := map[string]bool{}
	var running []container.Summary
	for _, s := range cs {
		if hasProcesses[s.State] {
			running = append(running, s)
		}
	}
	c.each(feed(running), func(s container.Summary) {
		sig := "SIGTERM"
		info, err := c.d.Inspect(ctx, s.ID)
		switch {
		case cerrdefs.IsNotFound(err):
			return
		case err != nil:
			c.failed(s, err, "; sending SIGTERM")
		case info.Config != nil && info.Config.StopSignal != "":
			sig = info.Config.StopSignal
		}
		err = c.d.Kill(ctx, s.ID, sig)
		switch {
		case err == nil:
			mu.Lock()
			signalled[s.ID] = true
			mu.Unlock()
		case cerrdefs.IsNotFound(err), cerrdefs.IsConflict(err):
			// Gone, or no longer running (dockerd's "is not running").
		default:
			c.failed(s, err, "; killing it")
		}
	})
	return signalled
}

// waitEnded hands each signalled container to removals once it has no
// processes left, and those still running when grace has passed: the
// removal by force kills them. Removals so overlap with the wait.
func (c *cleanup) waitEnded(ctx context.Context, jobID string, cs []container.Summary, signalled map[string]bool, grace time.Duration, removals chan<- container.Summary) {
	waiting := slices.DeleteFunc(slices.Clone(cs), func(s container.Summary) bool { return !signalled[s.ID] })
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	for len(waiting) > 0 {
		alive, err := listJob(ctx, c.d, jobID, false)
		if err == nil {
			waiting = slices.DeleteFunc(waiting, func(s container.Summary) bool {
				ended := !slices.ContainsFunc(alive, func(a container.Summary) bool { return a.ID == s.ID })
				if ended {
					removals <- s
				}
				return ended
			})
		}
		if len(waiting) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			for _, s := range waiting {
				removals <- s
			}
			return
		case <-time.After(pollEvery):
		}
	}
}

// remove removes one container by force, with its anonymous volumes.
func (c *cleanup) remove(ctx context.Context, s container.Summary) {
	err := c.d.Remove(ctx, s.ID, true, true)
	switch {
	case err == nil:
		c.opts.Logf("removed container %s", describe(s))
		if c.opts.Removed != nil {
			c.opts.Removed(s.ID)
		}
	case cerrdefs.IsNotFound(err):
		// Gone already (a --rm container that ended meanwhile).
	case cerrdefs.IsConflict(err):
		// "removal of container … is already in progress": dockerd
		// removes a --rm container that ended. Done once it is gone.
		if err := c.waitGone(ctx, s.ID); err != nil {
			c.opts.Logf("container %s: dockerd was removing it already, and it is not gone: %v", describe(s), err)
		}
	default:
		c.failed(s, err)
	}
}

// failed logs what went wrong with container s: err, which names the call
// and the container's ID, then s's name and what happens next (then).
func (c *cleanup) failed(s container.Summary, err error, then ...string) {
	msg := err.Error()
	if len(s.Names) > 0 {
		msg += " (" + strings.TrimPrefix(s.Names[0], "/") + ")"
	}
	c.opts.Logf("%s%s", msg, strings.Join(then, ""))
}

// waitGone polls until dockerd no longer knows the container, or ctx ends.
func (c *cleanup) waitGone(ctx context.Context, id string) error {
	for {
		_, err := c.d.Inspect(ctx, id)
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// describe names a container for the log: short ID and name.
func describe(c container.Summary) string {
	id := c.ID
	if len(id) > 12 {
		id = id[:12]
	}
	if len(c.Names) > 0 {
		return id + " " + strings.TrimPrefix(c.Names[0], "/")
	}
	return id
}

// EpilogConfig is how ud-epilog runs.
type EpilogConfig struct {
	StateDir string
	Options
	Log io.Writer
	// CgroupRoot is where the cgroup hierarchies are mounted
	// (alloc.DefaultCgroupRoot); "": the job's parent cgroup is not
	// looked for.
	CgroupRoot string
	// Used is told what the job's containers used together, read from
	// their parent cgroup before it is removed; nil: nobody is told.
	Used func(cgparent.Usage)
}

// epilogLockWait bounds how long the epilog waits for a run of the job
// that holds the job's lock (it makes a container, a fraction of a
// second): within the budget, and then it goes on without the lock.
func epilogLockWait(budget time.Duration) time.Duration {
	return min(budget/10, 3*time.Second)
}

// Epilog is ud-epilog: for the job slurmd names in env (SLURM_JOB_ID), it
// deletes the job's allocation records first, so that no new container
// can be started for the job from here on; then, under the job's lock
// (a run that is making a container finishes, and every later run finds
// the record gone), it removes the job's containers, reads what they
// used together from the job's parent cgroup on this node and removes
// that (removeParent), and then the job's lock. It fails only when
// something of the job is left: a record or a container. Log lines read
// "ud-epilog: job <id>: …"; the returned error starts with "job <id>: "
// when the job id is known.
func Epilog(ctx context.Context, env map[string]string, d *engine.Engine, cfg EpilogConfig) error {
	jobID := env["SLURM_JOB_ID"]
	if !alloc.ValidJobID(jobID) {
		return fmt.Errorf("SLURM_JOB_ID=%q is not a Slurm job id (is ud-epilog run by slurmd as Epilog?)", jobID)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	cfg.Options.Logf = func(format string, args ...any) {
		fmt.Fprintf(cfg.Log, "ud-epilog: job %s: %s\n", jobID, fmt.Sprintf(format, args...))
	}
	_, recErr := alloc.RemoveJobRecords(cfg.StateDir, jobID, env["SLURM_JOB_SLUID"])
	if recErr != nil {
		recErr = fmt.Errorf("remove allocation records: %w", recErr)
	}
	// The wait for the lock comes out of the budget.
	opts, start := cfg.Options, time.Now()
	budget := withDefaults(opts).Budget
	lock, err := alloc.LockStateFile(ctx, cfg.StateDir, fmt.Sprintf(alloc.JobLockPattern, jobID), epilogLockWait(budget))
	if err != nil {
		opts.Logf("going on without the job's lock: %v", err)
	}
	opts.Budget = budget - time.Since(start)
	ctrErr := RemoveContainers(ctx, d, jobID, opts)
	removeParent(env, jobID, cfg, ctrErr == nil)
	if lock != nil {
		lock.Close()
	}
	// The staging directories of the removed containers' own mounts
	// (and any other run's leftovers): a leak, not a hole (only root
	// reaches them), so it is logged but keeps no node from its next
	// job; the next run's sweep tries again. It has what the removal
	// leaves of the budget.
	sweepCtx, cancel := context.WithDeadline(ctx, start.Add(budget))
	if err := ownmount.SweepDaemon(sweepCtx, d, cfg.StateDir); err != nil {
		opts.Logf("staging sweep: %v", err)
	}
	cancel()
	lockErr := alloc.RemoveJobLock(cfg.StateDir, jobID)
	if lockErr != nil {
		lockErr = fmt.Errorf("remove the job's lock: %w", lockErr)
	}
	if err := errors.Join(recErr, ctrErr, lockErr); err != nil {
		return fmt.Errorf("job %s: %w", jobID, err)
	}
	return nil
}

// removeParent removes the parent cgroup of the job's containers on this
// node, /userdocker/<node>/job_<id> (named as ud-prolog named the node in
// the record), after telling cfg.Used what they used together. A node
// where the job made none has nothing to remove. It never fails the
// epilog: a parent that still holds processes belongs to a container
// RemoveContainers reports; an empty one left behind holds nothing, and
// the job's next run on the node (a requeue) gives it its limits again.
//
// With retry (every container is gone), a parent that still lists a
// process is tried again for about a second: the kernel may take a
// moment to let go of the last container's processes after dockerd
// reports it removed.
func removeParent(env map[string]string, jobID string, cfg EpilogConfig, retry bool) {
	logf := cfg.Options.Logf
	root := cfg.CgroupRoot
	if root == "" {
		return
	}
	path, err := cgparent.JobPath(alloc.NodeName(env["SLURMD_NODENAME"], os.Hostname), jobID)
	if err != nil {
		logf("the job's cgroup: %v", err)
		return
	}
	tree, err := cgparent.Open(root)
	if err != nil {
		logf("cgroup %s not looked for: %v", path, err)
		return
	}
	used, exists, err := tree.Usage(path)
	if !exists {
		return
	}
	if err != nil {
		logf("cgroup %s: what the containers used: %v", path, err)
	} else if cfg.Used != nil {
		cfg.Used(used)
	}
	for pause := 20 * time.Millisecond; ; pause *= 2 {
		if _, err = tree.Remove(path); err == nil || !retry || pause > 500*time.Millisecond {
			break
		}
		time.Sleep(pause)
	}
	if err != nil {
		logf("%v", err)
		return
	}
	logf("removed cgroup %s (peak memory %d bytes, %.3f CPU seconds)", path, used.PeakMemoryBytes, used.CPU.Seconds())
}
