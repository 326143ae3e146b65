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
	"github.com/userdocker/userdocker/internal/label"
)

func init() { pollEvery = time.Millisecond }

// fakeContainer is a container in fakeDocker, with how it behaves.
type fakeContainer struct {
	container.Summary
	stopSignal  string // Config.StopSignal
	ignoresTerm bool   // its stop signal does not end it; only SIGKILL does
	autoRemove  bool   // --rm: once it ends, dockerd removes it itself
	// removingFor is how many inspects an autoRemove container stays in
	// "removing" after it ends; -1: forever (a huge writable layer).
	removingFor int
	removeErr   error // ContainerRemove fails with it; the container stays
	unkillable  bool  // a process in D state: nothing ends it
	hangRemove  bool  // ContainerRemove blocks until its context ends
}

// fakeDocker is an in-memory dockerd: it filters by label and state as
// Docker does (unless ignoreFilters), delivers signals, removes, and
// records calls.
type fakeDocker struct {
	mu            sync.Mutex
	containers    []*fakeContainer
	listErr       error
	ignoreFilters bool
	lists         int
	calls         []string
	// removeGate, if set, is called inside ContainerRemove without the
	// lock, e.g. to wait until several removals are in flight.
	removeGate func()
	inFlight   int
	maxRemoves int
}

func (f *fakeDocker) call(ctx context.Context, what string) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("fake: " + what + " without a deadline")
	}
	f.calls = append(f.calls, what)
	return nil
}

func (f *fakeDocker) ContainerList(ctx context.Context, opts container.ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call(ctx, "list"); err != nil {
		return nil, err
	}
	f.lists++
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []container.Summary
	for _, c := range f.containers {
		if f.ignoreFilters || matchesLabels(c.Labels, opts.Filters.Get("label")) && (opts.All || hasProcesses[c.State]) {
			out = append(out, c.Summary)
		}
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

func notFound(id string) error { return cerrdefs.ErrNotFound.WithMessage("No such container: " + id) }

func (f *fakeDocker) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call(ctx, "inspect "+id[:4]); err != nil {
		return container.InspectResponse{}, err
	}
	c := f.find(id)
	if c == nil {
		return container.InspectResponse{}, notFound(id)
	}
	if c.State == container.StateRemoving && c.removingFor >= 0 {
		if c.removingFor == 0 {
			f.delete(c)
			return container.InspectResponse{}, notFound(id)
		}
		c.removingFor--
	}
	return container.InspectResponse{Config: &container.Config{StopSignal: c.stopSignal}}, nil
}

// end is what happens when a container's processes end.
func (f *fakeDocker) end(c *fakeContainer) {
	c.State = container.StateExited
	if c.autoRemove {
		c.State = container.StateRemoving
	}
}

func (f *fakeDocker) delete(c *fakeContainer) {
	f.containers = slices.DeleteFunc(f.containers, func(x *fakeContainer) bool { return x == c })
}

func (f *fakeDocker) ContainerKill(ctx context.Context, id, signal string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call(ctx, "kill "+id[:4]+" "+signal); err != nil {
		return err
	}
	c := f.find(id)
	switch {
	case c == nil:
		return notFound(id)
	case !hasProcesses[c.State]:
		return cerrdefs.ErrConflict.WithMessage("Container " + id + " is not running")
	case signal == "" || signal == "SIGKILL" || signal == "KILL":
		return errors.New("fake: the cleanup must not kill without a grace period")
	}
	want := c.stopSignal
	if want == "" {
		want = "SIGTERM"
	}
	if signal == want && !c.ignoresTerm && !c.unkillable {
		f.end(c)
	}
	return nil
}

func (f *fakeDocker) ContainerRemove(ctx context.Context, id string, opts container.RemoveOptions) error {
	f.mu.Lock()
	if err := f.call(ctx, "remove "+id[:4]); err != nil {
		f.mu.Unlock()
		return err
	}
	f.inFlight++
	f.maxRemoves = max(f.maxRemoves, f.inFlight)
	gate := f.removeGate
	c := f.find(id)
	f.mu.Unlock()
	if gate != nil {
		gate()
	}
	if c != nil && c.hangRemove {
		<-ctx.Done()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	switch {
	case !opts.Force || !opts.RemoveVolumes:
		return errors.New("fake: the cleanup must force-remove with volumes")
	case c == nil || f.find(id) == nil:
		return notFound(id)
	case c.State == container.StateRemoving:
		return cerrdefs.ErrConflict.WithMessage("removal of container " + id + " is already in progress")
	case c.hangRemove:
		return ctx.Err()
	case c.unkillable:
		return errors.New("Could not kill running container " + id[:4] + ", cannot remove - tried to kill container, but did not receive an exit event")
	case c.removeErr != nil:
		if hasProcesses[c.State] {
			f.end(c)
		}
		return c.removeErr
	}
	f.delete(c)
	return nil
}

func ctr(id, job string, state container.ContainerState) *fakeContainer {
	labels := map[string]string{label.User: "alice"}
	if job != "" {
		labels[label.Job] = job
	}
	return &fakeContainer{Summary: container.Summary{
		ID: id + strings.Repeat("0", 64-len(id)), Names: []string{"/alice-" + id}, Labels: labels, State: state,
	}}
}

// with changes a fakeContainer in place and returns it.
func with(c *fakeContainer, change func(c *fakeContainer)) *fakeContainer {
	change(c)
	return c
}

func ids(cs []*fakeContainer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID[:4])
	}
	return out
}

// callsLike returns the calls that start with prefix.
func (f *fakeDocker) callsLike(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func TestRemoveContainers(t *testing.T) {
	tests := []struct {
		name      string
		fake      func() *fakeDocker
		budget    time.Duration // 0: 5s
		wantErr   string
		wantLeft  []string // IDs (first 4 characters) still in the fake
		wantLog   []string // sorted; the closing summary line is left out
		wantKills []string // sorted
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
					ctr("a005", "42", container.StateRestarting),
					ctr("a006", "42", container.StateDead),
					ctr("b001", "421", container.StateRunning),
					ctr("c001", "", container.StateRunning),
				}}
			},
			wantLeft: []string{"b001", "c001"},
			wantLog: []string{
				"removed container a00100000000 alice-a001", "removed container a00200000000 alice-a002",
				"removed container a00300000000 alice-a003", "removed container a00400000000 alice-a004",
				"removed container a00500000000 alice-a005", "removed container a00600000000 alice-a006",
			},
			wantKills: []string{"kill a001 SIGTERM", "kill a004 SIGTERM", "kill a005 SIGTERM"},
		},
		{
			name: "the container's own stop signal, as docker stop sends it",
			fake: func() *fakeDocker {
				return &fakeDocker{containers: []*fakeContainer{
					with(ctr("a001", "42", container.StateRunning), func(c *fakeContainer) { c.stopSignal = "SIGINT" }),
				}}
			},
			wantLog:   []string{"removed container a00100000000 alice-a001"},
			wantKills: []string{"kill a001 SIGINT"},
		},
		{
			name: "containers that ignore SIGTERM are removed by force after the grace period",
			fake: func() *fakeDocker {
				f := &fakeDocker{}
				for i := range 3 {
					f.containers = append(f.containers, with(ctr(fmt.Sprintf("a%03d", i), "42", container.StateRunning), func(c *fakeContainer) { c.ignoresTerm = true }))
				}
				return f
			},
			wantLog: []string{
				"removed container a00000000000 alice-a000", "removed container a00100000000 alice-a001", "removed container a00200000000 alice-a002",
			},
			wantKills: []string{"kill a000 SIGTERM", "kill a001 SIGTERM", "kill a002 SIGTERM"},
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
			name: "--rm container that dockerd removes itself once it ends: 409, then gone",
			fake: func() *fakeDocker {
				return &fakeDocker{containers: []*fakeContainer{
					with(ctr("a001", "42", container.StateRunning), func(c *fakeContainer) { c.autoRemove, c.removingFor = true, 3 }),
				}}
			},
			wantKills: []string{"kill a001 SIGTERM"},
		},
		{
			name: "dockerd still deleting a container without processes when the budget ends: not a failure",
			fake: func() *fakeDocker {
				return &fakeDocker{containers: []*fakeContainer{
					with(ctr("a001", "42", container.StateRunning), func(c *fakeContainer) { c.autoRemove, c.removingFor = true, -1 }),
					ctr("a002", "42", container.StateRunning),
				}}
			},
			budget:   300 * time.Millisecond,
			wantLeft: []string{"a001"},
			wantLog: []string{
				"container a00100000000 alice-a001: dockerd is still deleting it; its processes are gone",
				"container a00100000000 alice-a001: dockerd was removing it already, and it is not gone: context deadline exceeded",
				"removed container a00200000000 alice-a002",
			},
			wantKills: []string{"kill a001 SIGTERM", "kill a002 SIGTERM"},
		},
		{
			name: "stuck container fails the cleanup, the others still go",
			fake: func() *fakeDocker {
				return &fakeDocker{containers: []*fakeContainer{
					ctr("a001", "42", container.StateRunning),
					with(ctr("a002", "42", container.StateRunning), func(c *fakeContainer) { c.unkillable = true }),
					ctr("a003", "42", container.StateRunning),
				}}
			},
			budget:   300 * time.Millisecond,
			wantErr:  "1 container(s) of the job still present after cleanup: a00200000000 alice-a002 (running)",
			wantLeft: []string{"a002"},
			wantLog: []string{
				"remove container a00200000000 alice-a002: Could not kill running container a002, cannot remove - tried to kill container, but did not receive an exit event",
				"removed container a00100000000 alice-a001", "removed container a00300000000 alice-a003",
			},
			wantKills: []string{"kill a001 SIGTERM", "kill a002 SIGTERM", "kill a003 SIGTERM"},
		},
		{
			name: "a container whose removal failed is left: failure",
			fake: func() *fakeDocker {
				return &fakeDocker{containers: []*fakeContainer{
					with(ctr("a001", "42", container.StateExited), func(c *fakeContainer) { c.removeErr = errors.New("device or resource busy") }),
				}}
			},
			wantErr:  "1 container(s) of the job still present after cleanup: a00100000000 alice-a001 (exited)",
			wantLeft: []string{"a001"},
			wantLog:  []string{"remove container a00100000000 alice-a001: device or resource busy"},
		},
		{
			name: "a removal that hangs ends with the budget, and the container is named",
			fake: func() *fakeDocker {
				return &fakeDocker{containers: []*fakeContainer{
					with(ctr("a001", "42", container.StateExited), func(c *fakeContainer) { c.hangRemove = true }),
				}}
			},
			budget:   200 * time.Millisecond,
			wantErr:  "1 container(s) of the job still present after cleanup: a00100000000 alice-a001 (exited)",
			wantLeft: []string{"a001"},
			wantLog:  []string{"remove container a00100000000 alice-a001: context deadline exceeded"},
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
			budget := tc.budget
			if budget == 0 {
				budget = 5 * time.Second
			}
			var log []string
			err := RemoveContainers(context.Background(), f, "42", Options{
				StopTimeout: 50 * time.Millisecond,
				Budget:      budget,
				Logf:        func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) },
			})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("RemoveContainers() = %v, want %q", err, tc.wantErr)
			}
			if left := ids(f.containers); !slices.Equal(left, tc.wantLeft) {
				t.Errorf("containers left = %v, want %v", left, tc.wantLeft)
			}
			log = slices.DeleteFunc(log, func(l string) bool { return strings.Contains(l, "ended and removed in") })
			slices.Sort(log)
			if !slices.Equal(log, tc.wantLog) {
				t.Errorf("log =\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(tc.wantLog, "\n"))
			}
			if kills := f.callsLike("kill "); !slices.Equal(kills, tc.wantKills) {
				t.Errorf("kills = %v, want %v", kills, tc.wantKills)
			}
		})
	}
}

// The grace period is one for the whole job: every container is sent its
// stop signal before any is removed, so ten containers that ignore SIGTERM
// cost one grace period, not ten.
func TestRemoveContainersSignalsAllBeforeRemovingAny(t *testing.T) {
	f := &fakeDocker{}
	for i := range 10 {
		f.containers = append(f.containers, with(ctr(fmt.Sprintf("a%03d", i), "42", container.StateRunning), func(c *fakeContainer) { c.ignoresTerm = true }))
	}
	if err := RemoveContainers(context.Background(), f, "42", Options{StopTimeout: 10 * time.Millisecond, Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	lastKill, firstRemove := -1, -1
	for i, c := range f.calls {
		if strings.HasPrefix(c, "kill ") {
			lastKill = i
		}
		if strings.HasPrefix(c, "remove ") && firstRemove < 0 {
			firstRemove = i
		}
	}
	if lastKill < 0 || firstRemove < lastKill {
		t.Errorf("calls %v: want every kill before the first remove", f.calls)
	}
	if n := len(f.callsLike("kill ")); n != 10 {
		t.Errorf("%d containers signalled, want 10", n)
	}
}

// A container that ends on its stop signal is removed while the cleanup
// still waits for one that does not: removals overlap the grace period.
func TestRemoveContainersRemovesWhileWaiting(t *testing.T) {
	f := &fakeDocker{containers: []*fakeContainer{
		ctr("a001", "42", container.StateRunning),
		with(ctr("a002", "42", container.StateRunning), func(c *fakeContainer) { c.ignoresTerm = true }),
	}}
	if err := RemoveContainers(context.Background(), f, "42", Options{StopTimeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	removeA001, lastPoll := slices.Index(f.calls, "remove a001"), -1
	for i, c := range f.calls[:len(f.calls)-1] { // the last list is the final check
		if c == "list" {
			lastPoll = i
		}
	}
	if removeA001 < 0 || removeA001 > lastPoll {
		t.Errorf("a001 removed at call %d, the wait's last poll was call %d: want the removal during the wait", removeA001, lastPoll)
	}
}

func TestGraceFor(t *testing.T) {
	tests := []struct{ stop, budget, want time.Duration }{
		{5 * time.Second, 30 * time.Second, 5 * time.Second},
		{time.Minute, 30 * time.Second, 15 * time.Second},
		{0, 30 * time.Second, 0},
	}
	for _, tc := range tests {
		if got := graceFor(tc.stop, tc.budget); got != tc.want {
			t.Errorf("graceFor(%v, %v) = %v, want %v", tc.stop, tc.budget, got, tc.want)
		}
	}
}

// Without a grace period nothing is signalled: removal by force kills.
func TestRemoveContainersNoGrace(t *testing.T) {
	f := &fakeDocker{containers: []*fakeContainer{ctr("a001", "42", container.StateRunning)}}
	if err := RemoveContainers(context.Background(), f, "42", Options{StopTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if kills := f.callsLike("kill "); len(kills) != 0 || len(f.containers) != 0 {
		t.Errorf("kills %v, left %v; want no kill and nothing left", kills, ids(f.containers))
	}
}

// TestRemoveContainersParallel holds every removal until all of them are
// in flight: it only finishes if they run at once.
func TestRemoveContainersParallel(t *testing.T) {
	const n = 5
	f := &fakeDocker{}
	for i := range n {
		f.containers = append(f.containers, ctr(fmt.Sprintf("a%03d", i), "42", container.StateExited))
	}
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	f.removeGate = func() {
		arrived.Done()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
	}
	if err := RemoveContainers(context.Background(), f, "42", Options{Parallel: n}); err != nil {
		t.Fatal(err)
	}
	if f.maxRemoves != n {
		t.Errorf("at most %d removals ran at once, want all %d", f.maxRemoves, n)
	}
	if len(f.containers) != 0 {
		t.Errorf("left: %v", ids(f.containers))
	}
}

func TestRemoveContainersBoundedParallelism(t *testing.T) {
	f := &fakeDocker{removeGate: func() { time.Sleep(5 * time.Millisecond) }}
	for i := range 8 {
		f.containers = append(f.containers, ctr(fmt.Sprintf("a%03d", i), "42", container.StateExited))
	}
	if err := RemoveContainers(context.Background(), f, "42", Options{Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	if f.maxRemoves > 2 {
		t.Errorf("%d removals at once, want at most 2", f.maxRemoves)
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
	for _, k := range []string{"42", "43"} {
		if err := os.WriteFile(alloc.JobLockPath(dir, k), nil, 0o600); err != nil {
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
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "ud-epilog: job 42: removed container a00100000000 alice-a001" ||
		!strings.HasPrefix(lines[1], "ud-epilog: job 42: 1 container(s) ended and removed in ") {
		t.Errorf("log = %q, want the removal and the summary", log.String())
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if want := []string{alloc.RecordPath(dir, "43"), alloc.JobLockPath(dir, "43")}; !slices.Equal(left, want) {
		t.Errorf("files left = %v, want only job 43's %v", left, want)
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
	stuck := ctr("a001", "42", container.StateExited)
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
		with(ctr("a003", "42", container.StateRunning), func(c *fakeContainer) { c.autoRemove, c.removingFor = true, 0 }),
		ctr("b001", "421", container.StateRunning),
	}}
	var removed []string
	opts := Options{StopTimeout: time.Second, Removed: func(id string) { removed = append(removed, id[:4]) }}
	if err := RemoveContainers(context.Background(), f, "42", opts); err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{"a001", "a002"}) {
		t.Fatalf("removed %v, want [a001 a002] (a003 removed itself)", removed)
	}
}
