package jobclean

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/plan"
)

// fakeContainer is a container in fakeDocker, with how it misbehaves.
type fakeContainer struct {
	container.Summary
	stopErr       error // returned by ContainerStop
	removeErr     error // returned by ContainerRemove; the container stays
	goneAfterList bool  // removed behind our back right after the first list
}

// fakeDocker is an in-memory dockerd: it filters by label as Docker does
// (unless ignoreFilters), stops and removes, and records calls.
type fakeDocker struct {
	mu            sync.Mutex
	containers    []*fakeContainer
	listErr       error
	ignoreFilters bool
	lists         int
	calls         []string
	stopTimeouts  []int
	// stopGate, if set, is called inside ContainerStop without the lock,
	// e.g. to wait until several stops are in flight.
	stopGate func()
	inFlight int
	maxStops int
}

func (f *fakeDocker) ContainerList(ctx context.Context, opts container.ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.listErr != nil {
		return nil, f.listErr
	}
	if !opts.All {
		return nil, errors.New("fake: the cleanup must list containers in all states")
	}
	var out []container.Summary
	for _, c := range f.containers {
		if f.ignoreFilters || matchesLabels(c.Labels, opts.Filters.Get("label")) {
			out = append(out, c.Summary)
		}
	}
	if f.lists == 1 {
		f.containers = slices.DeleteFunc(f.containers, func(c *fakeContainer) bool { return c.goneAfterList })
	}
	return out, nil
}

func matchesLabels(labels map[string]string, want []string) bool {
	for _, kv := range want {
		k, v, _ := strings.Cut(kv, "=")
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (f *fakeDocker) find(id string) *fakeContainer {
	for _, c := range f.containers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (f *fakeDocker) ContainerStop(ctx context.Context, id string, opts container.StopOptions) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("fake: stop without a deadline")
	}
	f.mu.Lock()
	f.calls = append(f.calls, "stop "+id)
	f.stopTimeouts = append(f.stopTimeouts, *opts.Timeout)
	f.inFlight++
	f.maxStops = max(f.maxStops, f.inFlight)
	gate := f.stopGate
	f.mu.Unlock()
	if gate != nil {
		gate()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	c := f.find(id)
	if c == nil {
		return cerrdefs.ErrNotFound.WithMessage("No such container: " + id)
	}
	if c.stopErr != nil {
		return c.stopErr
	}
	c.State = container.StateExited
	return nil
}

func (f *fakeDocker) ContainerRemove(ctx context.Context, id string, opts container.RemoveOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+id)
	if !opts.Force || !opts.RemoveVolumes {
		return errors.New("fake: the cleanup must force-remove with volumes")
	}
	c := f.find(id)
	if c == nil {
		return cerrdefs.ErrNotFound.WithMessage("No such container: " + id)
	}
	if c.removeErr != nil {
		return c.removeErr
	}
	f.containers = slices.DeleteFunc(f.containers, func(x *fakeContainer) bool { return x == c })
	return nil
}

func ctr(id, job string, state container.ContainerState) *fakeContainer {
	labels := map[string]string{plan.LabelUser: "alice"}
	if job != "" {
		labels[plan.LabelJob] = job
	}
	return &fakeContainer{Summary: container.Summary{
		ID: id + strings.Repeat("0", 64-len(id)), Names: []string{"/alice-" + id}, Labels: labels, State: state,
	}}
}

func ids(cs []*fakeContainer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID[:4])
	}
	return out
}

func TestRemoveContainers(t *testing.T) {
	tests := []struct {
		name     string
		fake     func() *fakeDocker
		wantErr  string
		wantLeft []string // IDs (first 4 characters) still in the fake
		wantLog  []string
		wantStop int // number of ContainerStop calls
	}{
		{
			name:     "nothing to do",
			fake:     func() *fakeDocker { return &fakeDocker{containers: []*fakeContainer{ctr("b001", "7", "running")}} },
			wantLeft: []string{"b001"},
		},
		{
			name: "every state; other jobs untouched",
			fake: func() *fakeDocker {
				return &fakeDocker{containers: []*fakeContainer{
					ctr("a001", "42", container.StateRunning),
					ctr("a002", "42", container.StateExited),
					ctr("a003", "42", container.StateCreated),
					ctr("a004", "42", container.StatePaused),
					ctr("b001", "421", container.StateRunning),
					ctr("c001", "", container.StateRunning),
				}}
			},
			wantLeft: []string{"b001", "c001"},
			wantLog: []string{
				"removed container a00100000000 alice-a001", "removed container a00200000000 alice-a002",
				"removed container a00300000000 alice-a003", "removed container a00400000000 alice-a004",
			},
			wantStop: 2,
		},
		{
			name: "a daemon that ignores the filter still only loses the job's containers",
			fake: func() *fakeDocker {
				return &fakeDocker{ignoreFilters: true, containers: []*fakeContainer{
					ctr("a001", "42", container.StateExited), ctr("b001", "421", container.StateExited), ctr("c001", "", container.StateExited),
				}}
			},
			wantLeft: []string{"b001", "c001"},
			wantLog:  []string{"removed container a00100000000 alice-a001"},
		},
		{
			name: "stuck container fails the cleanup, the others still go",
			fake: func() *fakeDocker {
				stuck := ctr("a002", "42", container.StateRunning)
				stuck.stopErr = errors.New("cannot kill container: tried to kill container, but did not receive an exit event")
				stuck.removeErr = errors.New("could not kill running container, cannot remove")
				return &fakeDocker{containers: []*fakeContainer{
					ctr("a001", "42", container.StateRunning), stuck, ctr("a003", "42", container.StateRunning),
				}}
			},
			wantErr:  "1 container(s) of the job still present after cleanup: a00200000000 alice-a002 (running)",
			wantLeft: []string{"a002"},
			wantLog: []string{
				"remove container a00200000000 alice-a002: could not kill running container, cannot remove",
				"removed container a00100000000 alice-a001", "removed container a00300000000 alice-a003",
				"stop container a00200000000 alice-a002: cannot kill container: tried to kill container, but did not receive an exit event; removing it by force",
			},
			wantStop: 3,
		},
		{
			name: "stop fails, force remove works",
			fake: func() *fakeDocker {
				c := ctr("a001", "42", container.StateRunning)
				c.stopErr = context.DeadlineExceeded
				return &fakeDocker{containers: []*fakeContainer{c}}
			},
			wantLog: []string{
				"removed container a00100000000 alice-a001",
				"stop container a00100000000 alice-a001: context deadline exceeded; removing it by force",
			},
			wantStop: 1,
		},
		{
			name: "already gone (a --rm container that ended meanwhile)",
			fake: func() *fakeDocker {
				c := ctr("a001", "42", container.StateRunning)
				c.goneAfterList = true
				return &fakeDocker{containers: []*fakeContainer{c}}
			},
			wantStop: 1,
		},
		{
			name:    "daemon unreachable",
			fake:    func() *fakeDocker { return &fakeDocker{listErr: errors.New("Cannot connect to the Docker daemon")} },
			wantErr: "list the job's containers: Cannot connect to the Docker daemon",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake()
			var log []string
			err := RemoveContainers(context.Background(), f, "42", Options{
				StopTimeout: 1500 * time.Millisecond,
				Logf:        func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) },
			})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("RemoveContainers() = %v, want %q", err, tc.wantErr)
			}
			if left := ids(f.containers); !slices.Equal(left, tc.wantLeft) {
				t.Errorf("containers left = %v, want %v", left, tc.wantLeft)
			}
			slices.Sort(log)
			if !slices.Equal(log, tc.wantLog) {
				t.Errorf("log =\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(tc.wantLog, "\n"))
			}
			if len(f.stopTimeouts) != tc.wantStop {
				t.Errorf("%d stops, want %d (calls %v)", len(f.stopTimeouts), tc.wantStop, f.calls)
			}
			for _, s := range f.stopTimeouts {
				if s != 2 {
					t.Errorf("stop timeout %ds, want 1.5s rounded up to 2s", s)
				}
			}
		})
	}
}

// TestRemoveContainersParallel holds every stop until all of them are in
// flight: it only finishes quickly if the stops run at once.
func TestRemoveContainersParallel(t *testing.T) {
	const n = 5
	f := &fakeDocker{}
	for i := range n {
		f.containers = append(f.containers, ctr(fmt.Sprintf("a%03d", i), "42", container.StateRunning))
	}
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	f.stopGate = func() {
		arrived.Done()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
	}
	start := time.Now()
	if err := RemoveContainers(context.Background(), f, "42", Options{StopTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if f.maxStops != n || time.Since(start) > 4*time.Second {
		t.Errorf("at most %d stops ran at once (took %v), want all %d", f.maxStops, time.Since(start), n)
	}
	if len(f.containers) != 0 {
		t.Errorf("left: %v", ids(f.containers))
	}
}

func TestRemoveContainersBoundedParallelism(t *testing.T) {
	f := &fakeDocker{stopGate: func() { time.Sleep(10 * time.Millisecond) }}
	for i := range 6 {
		f.containers = append(f.containers, ctr(fmt.Sprintf("a%03d", i), "42", container.StateRunning))
	}
	if err := RemoveContainers(context.Background(), f, "42", Options{Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	if f.maxStops > 2 {
		t.Errorf("%d stops at once, want at most 2", f.maxStops)
	}
}

func TestRemoveContainersRefusesBadJobID(t *testing.T) {
	f := &fakeDocker{}
	err := RemoveContainers(context.Background(), f, "", Options{})
	if err == nil || err.Error() != `"" is not a job id` || f.lists != 0 {
		t.Errorf("RemoveContainers(\"\") = %v after %d lists; want a refusal before any call", err, f.lists)
	}
}

func TestEpilog(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"42", "sEKNKTV3WPV500", "43"} {
		if err := os.WriteFile(alloc.RecordPath(dir, k), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeDocker{containers: []*fakeContainer{ctr("a001", "42", container.StateRunning), ctr("b001", "43", container.StateRunning)}}
	env := map[string]string{"SLURM_JOB_ID": "42", "SLURM_JOB_SLUID": "sEKNKTV3WPV500"}
	var log bytes.Buffer
	cfg := EpilogConfig{StateDir: dir, Options: Options{StopTimeout: time.Second}, Log: &log}

	if err := Epilog(context.Background(), env, f, cfg); err != nil {
		t.Fatalf("Epilog: %v", err)
	}
	if want := "ud-epilog: job 42: removed container a00100000000 alice-a001\n"; log.String() != want {
		t.Errorf("log = %q, want %q", log.String(), want)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if !slices.Equal(left, []string{alloc.RecordPath(dir, "43")}) {
		t.Errorf("records left = %v, want only job 43's", left)
	}
	if got := ids(f.containers); !slices.Equal(got, []string{"b001"}) {
		t.Errorf("containers left = %v, want job 43's", got)
	}

	log.Reset()
	if err := Epilog(context.Background(), env, f, cfg); err != nil || log.Len() != 0 {
		t.Errorf("second Epilog = %v, log %q; want nothing to do", err, log.String())
	}
}

func TestEpilogFailures(t *testing.T) {
	stuck := ctr("a001", "42", container.StateRunning)
	stuck.removeErr = errors.New("device or resource busy")
	tests := []struct {
		name    string
		env     map[string]string
		fake    *fakeDocker
		wantErr string
	}{
		{
			name:    "no job",
			env:     map[string]string{},
			fake:    &fakeDocker{},
			wantErr: `SLURM_JOB_ID="" is not a Slurm job id (is ud-epilog run by slurmd as Epilog?)`,
		},
		{
			name:    "container left",
			env:     map[string]string{"SLURM_JOB_ID": "42"},
			fake:    &fakeDocker{containers: []*fakeContainer{stuck}},
			wantErr: "job 42: 1 container(s) of the job still present after cleanup: a00100000000 alice-a001 (exited)",
		},
		{
			name:    "daemon down",
			env:     map[string]string{"SLURM_JOB_ID": "42"},
			fake:    &fakeDocker{listErr: errors.New("connection refused")},
			wantErr: "job 42: list the job's containers: connection refused",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Epilog(context.Background(), tc.env, tc.fake, EpilogConfig{StateDir: t.TempDir()})
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Epilog() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// The epilog's audit record lists the containers it removed, and only those.
func TestRemoveContainersReportsRemoved(t *testing.T) {
	f := &fakeDocker{containers: []*fakeContainer{
		ctr("a001", "42", container.StateRunning),
		ctr("a002", "42", container.StateExited),
		ctr("b001", "421", container.StateRunning),
	}}
	var removed []string
	opts := Options{StopTimeout: time.Second, Removed: func(id string) { removed = append(removed, id[:4]) }}
	if err := RemoveContainers(context.Background(), f, "42", opts); err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{"a001", "a002"}) {
		t.Fatalf("removed %v, want [a001 a002]", removed)
	}
}
