// Package jobclean removes what a Slurm job leaves behind in Docker when it
// ends: every container labelled with the job. It is ud-epilog's logic
// (DESIGN.md §4). Docker's containers live in dockerd's cgroups, so Slurm's
// own cleanup never reaches them; a container that outlives its job keeps
// the job's GPUs busy for whoever gets them next.
package jobclean

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/plan"
)

// Docker is the part of the Docker client the cleanup uses;
// *client.Client implements it.
type Docker interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerStop(ctx context.Context, containerID string, options container.StopOptions) error
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
}

// Defaults for Options.
const (
	DefaultCallGrace = 30 * time.Second
	DefaultParallel  = 8
)

// Options tune RemoveContainers.
type Options struct {
	// StopTimeout is how long a container may take to stop after SIGTERM
	// before Docker kills it ([slurm] stop_timeout).
	StopTimeout time.Duration
	// CallGrace bounds every Docker call beyond StopTimeout: dockerd can
	// hang on a container whose processes do not die, and the epilog must
	// end (slurmd's PrologEpilogTimeout would kill it, with less to say).
	CallGrace time.Duration
	// Parallel is how many containers are stopped at once.
	Parallel int
	// Logf receives one line per event, without a newline; nil: no log.
	Logf func(format string, args ...any)
	// Removed is told the ID of each container removed, one call at a
	// time (for the audit record); nil: nobody is told.
	Removed func(id string)
}

// RemoveContainers stops (with opts.StopTimeout) and then force-removes,
// with their anonymous volumes, every container whose plan.LabelJob label
// is jobID, in any state, several at once. A failure with one container
// is logged and the others are still tried. It then lists the job's
// containers again: the error says what is left, and nil means nothing
// is, so a second run has nothing to do and succeeds.
func RemoveContainers(ctx context.Context, d Docker, jobID string, opts Options) error {
	if !alloc.ValidJobID(jobID) {
		return fmt.Errorf("%q is not a job id", jobID)
	}
	if opts.CallGrace <= 0 {
		opts.CallGrace = DefaultCallGrace
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

	cs, err := listJob(ctx, d, jobID, opts.CallGrace)
	if err != nil {
		return err
	}
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			removeOne(ctx, d, c, opts)
		}()
	}
	wg.Wait()

	left, err := listJob(ctx, d, jobID, opts.CallGrace)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		desc := make([]string, len(left))
		for i, c := range left {
			desc[i] = fmt.Sprintf("%s (%s)", describe(c), c.State)
		}
		return fmt.Errorf("%d container(s) of the job still present after cleanup: %s", len(left), strings.Join(desc, ", "))
	}
	return nil
}

// listJob lists the job's containers in every state. Docker's label filter
// matches the value exactly; the labels are checked again here anyway, so
// that only the job's own containers are ever touched.
func listJob(ctx context.Context, d Docker, jobID string, grace time.Duration) ([]container.Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	all, err := d.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", plan.LabelJob+"="+jobID)),
	})
	if err != nil {
		return nil, fmt.Errorf("list the job's containers: %w", err)
	}
	var cs []container.Summary
	for _, c := range all {
		if c.Labels[plan.LabelJob] == jobID {
			cs = append(cs, c)
		}
	}
	return cs, nil
}

// stoppable are the states in which a container has processes to stop.
var stoppable = map[container.ContainerState]bool{
	container.StateRunning:    true,
	container.StatePaused:     true,
	container.StateRestarting: true,
}

func removeOne(ctx context.Context, d Docker, c container.Summary, opts Options) {
	name := describe(c)
	if stoppable[c.State] {
		secs := int(math.Ceil(opts.StopTimeout.Seconds()))
		sctx, cancel := context.WithTimeout(ctx, opts.StopTimeout+opts.CallGrace)
		err := d.ContainerStop(sctx, c.ID, container.StopOptions{Timeout: &secs})
		cancel()
		if err != nil && !cerrdefs.IsNotFound(err) {
			opts.Logf("stop container %s: %v; removing it by force", name, err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, opts.CallGrace)
	defer cancel()
	err := d.ContainerRemove(rctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	switch {
	case err == nil:
		opts.Logf("removed container %s", name)
		if opts.Removed != nil {
			opts.Removed(c.ID)
		}
	case cerrdefs.IsNotFound(err):
		// Gone already (a --rm container that ended meanwhile).
	default:
		opts.Logf("remove container %s: %v", name, err)
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
}

// Epilog is ud-epilog: for the job slurmd names in env (SLURM_JOB_ID), it
// deletes the job's allocation records first, so that no new container
// can be started for the job from here on, then removes the job's
// containers. It fails only when something of the job is left: a record
// or a container. Log lines read "ud-epilog: job <id>: …"; the returned
// error starts with "job <id>: " when the job id is known.
func Epilog(ctx context.Context, env map[string]string, d Docker, cfg EpilogConfig) error {
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
	err := errors.Join(recErr, RemoveContainers(ctx, d, jobID, cfg.Options))
	if err != nil {
		return fmt.Errorf("job %s: %w", jobID, err)
	}
	return nil
}
