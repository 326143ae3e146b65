package slurmhook

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/cgparent"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/test/fakedocker"
)

func init() { pollEvery = time.Millisecond }

// ctr is a container of alice's in the given job ("" : none) and state.
func ctr(id, job string, state container.ContainerState) *fakedocker.Container {
	labels := map[string]string{label.User: "alice"}
	if job != "" {
		labels[label.Job] = job
	}
	return &fakedocker.Container{ID: id + strings.Repeat("0", 64-len(id)), Name: "alice-" + id, Labels: labels, State: state}
}

// with changes a container in place and returns it.
func with(c *fakedocker.Container, change func(c *fakedocker.Container)) *fakedocker.Container {
	change(c)
	return c
}

// daemon serves a fake daemon with cs and returns it with an Engine on it.
func daemon(t *testing.T, cs ...*fakedocker.Container) (*fakedocker.Daemon, *engine.Engine) {
	t.Helper()
	d := fakedocker.New()
	for _, c := range cs {
		d.AddContainer(c)
	}
	return d, dial(t, d.Serve(t))
}

func dial(t *testing.T, host string) *engine.Engine {
	t.Helper()
	e, err := engine.New(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// left are the first 4 characters of the IDs of the containers left.
func left(d *fakedocker.Daemon) []string {
	var out []string
	for _, id := range d.ContainerIDs() {
		out = append(out, id[:4])
	}
	return out
}

// kills are the kill calls, as "kill ID SIGNAL", sorted.
func kills(d *fakedocker.Daemon) []string {
	var out []string
	for _, c := range d.CallsOf("ContainerKill") {
		out = append(out, "kill "+c.ID[:4]+" "+c.Query.Get("signal"))
	}
	slices.Sort(out)
	return out
}

// calls are the daemon's calls as the cleanup's steps: "list", "kill
// ID", "inspect ID", "remove ID".
func calls(d *fakedocker.Daemon) []string {
	var out []string
	for _, c := range d.Calls() {
		switch c.Op {
		case "ContainerList":
			out = append(out, "list")
		case "ContainerKill":
			out = append(out, "kill "+c.ID[:4])
		case "ContainerInspect":
			out = append(out, "inspect "+c.ID[:4])
		case "ContainerRemove":
			out = append(out, "remove "+c.ID[:4])
		}
	}
	return out
}

// checkRemovals fails the test unless every removal was by force, with
// the container's anonymous volumes, and no container was sent SIGKILL
// without a grace period.
func checkRemovals(t *testing.T, d *fakedocker.Daemon) {
	t.Helper()
	for _, c := range d.CallsOf("ContainerRemove") {
		if c.Query.Get("force") != "1" || c.Query.Get("v") != "1" {
			t.Errorf("%s: the cleanup must force-remove with volumes", c)
		}
	}
	for _, c := range d.CallsOf("ContainerKill") {
		if sig := c.Query.Get("signal"); sig == "" || sig == "KILL" || sig == "SIGKILL" {
			t.Errorf("%s: the cleanup must not kill without a grace period", c)
		}
	}
}

// noDaemon is a docker_host where no daemon listens.
const noDaemon = "unix:///nonexistent/userdocker-test/docker.sock"

func TestRemoveContainers(t *testing.T) {
	tests := []struct {
		name       string
		containers func() []*fakedocker.Container
		setup      func(d *fakedocker.Daemon)
		budget     time.Duration // 0: 5s
		wantErr    string
		wantLeft   []string // IDs (first 4 characters) still in the fake
		wantLog    []string // sorted; the closing summary line is left out
		wantKills  []string // sorted
	}{
		{
			name:       "nothing to do",
			containers: func() []*fakedocker.Container { return []*fakedocker.Container{ctr("b001", "7", "running")} },
			wantLeft:   []string{"b001"},
		},
		{
			name: "every state; other jobs untouched",
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					ctr("a001", "42", container.StateRunning),
					ctr("a002", "42", container.StateExited),
					ctr("a003", "42", container.StateCreated),
					ctr("a004", "42", container.StatePaused),
					ctr("a005", "42", container.StateRestarting),
					ctr("a006", "42", container.StateDead),
					ctr("b001", "421", container.StateRunning),
					ctr("c001", "", container.StateRunning),
				}
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
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					with(ctr("a001", "42", container.StateRunning), func(c *fakedocker.Container) {
						c.Config = &container.Config{StopSignal: "SIGINT"}
					}),
				}
			},
			wantLog:   []string{"removed container a00100000000 alice-a001"},
			wantKills: []string{"kill a001 SIGINT"},
		},
		{
			name: "containers that ignore SIGTERM are removed by force after the grace period",
			containers: func() []*fakedocker.Container {
				var cs []*fakedocker.Container
				for i := range 3 {
					cs = append(cs, with(ctr(fmt.Sprintf("a%03d", i), "42", container.StateRunning), func(c *fakedocker.Container) { c.IgnoresTerm = true }))
				}
				return cs
			},
			wantLog: []string{
				"removed container a00000000000 alice-a000", "removed container a00100000000 alice-a001", "removed container a00200000000 alice-a002",
			},
			wantKills: []string{"kill a000 SIGTERM", "kill a001 SIGTERM", "kill a002 SIGTERM"},
		},
		{
			name: "a daemon that ignores the filter still only loses the job's containers",
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					ctr("a001", "42", container.StateExited), ctr("b001", "421", container.StateExited), ctr("c001", "", container.StateExited),
				}
			},
			setup:    func(d *fakedocker.Daemon) { d.IgnoreFilters = true },
			wantLeft: []string{"b001", "c001"},
			wantLog:  []string{"removed container a00100000000 alice-a001"},
		},
		{
			name: "--rm container that dockerd removes itself once it ends: 409, then gone",
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					with(ctr("a001", "42", container.StateRunning), func(c *fakedocker.Container) { c.AutoRemove, c.RemovingFor = true, 3 }),
				}
			},
			wantKills: []string{"kill a001 SIGTERM"},
		},
		{
			name: "dockerd still deleting a container without processes when the budget ends: not a failure",
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					with(ctr("a001", "42", container.StateRunning), func(c *fakedocker.Container) { c.AutoRemove, c.RemovingFor = true, -1 }),
					ctr("a002", "42", container.StateRunning),
				}
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
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					ctr("a001", "42", container.StateRunning),
					with(ctr("a002", "42", container.StateRunning), func(c *fakedocker.Container) { c.Unkillable = true }),
					ctr("a003", "42", container.StateRunning),
				}
			},
			budget:   300 * time.Millisecond,
			wantErr:  "1 container(s) of the job still present after cleanup: a00200000000 alice-a002 (running)",
			wantLeft: []string{"a002"},
			wantLog: []string{
				"remove container a00200000000: Error response from daemon: Could not kill running container a002" + strings.Repeat("0", 60) +
					", cannot remove - tried to kill container, but did not receive an exit event (alice-a002)",
				"removed container a00100000000 alice-a001", "removed container a00300000000 alice-a003",
			},
			wantKills: []string{"kill a001 SIGTERM", "kill a002 SIGTERM", "kill a003 SIGTERM"},
		},
		{
			name: "a container whose removal failed is left: failure",
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					with(ctr("a001", "42", container.StateExited), func(c *fakedocker.Container) { c.RemoveError = "device or resource busy" }),
				}
			},
			wantErr:  "1 container(s) of the job still present after cleanup: a00100000000 alice-a001 (exited)",
			wantLeft: []string{"a001"},
			wantLog:  []string{"remove container a00100000000: Error response from daemon: device or resource busy (alice-a001)"},
		},
		{
			name: "a removal that hangs ends with the budget, and the container is named",
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{
					with(ctr("a001", "42", container.StateExited), func(c *fakedocker.Container) { c.HangRemove = true }),
				}
			},
			budget:   200 * time.Millisecond,
			wantErr:  "1 container(s) of the job still present after cleanup: a00100000000 alice-a001 (exited)",
			wantLeft: []string{"a001"},
			wantLog:  []string{"remove container a00100000000: context deadline exceeded (alice-a001)"},
		},
		{
			name: "a daemon that answers nothing: the cleanup ends with its budget",
			containers: func() []*fakedocker.Container {
				return []*fakedocker.Container{ctr("a001", "42", container.StateRunning)}
			},
			setup:    func(d *fakedocker.Daemon) { d.On("ContainerList", fakedocker.NoAnswer) },
			budget:   200 * time.Millisecond,
			wantErr:  "list the job's containers: list containers: context deadline exceeded",
			wantLeft: []string{"a001"},
		},
		{
			name:       "the daemon refuses the list",
			containers: func() []*fakedocker.Container { return nil },
			setup:      func(d *fakedocker.Daemon) { d.On("ContainerList", fakedocker.Fail(500, "boom")) },
			wantErr:    "list the job's containers: list containers: Error response from daemon: boom",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, e := daemon(t, tc.containers()...)
			if tc.setup != nil {
				tc.setup(d)
			}
			budget := tc.budget
			if budget == 0 {
				budget = 5 * time.Second
			}
			var mu sync.Mutex
			var log []string
			err := RemoveContainers(context.Background(), e, "42", Options{
				StopTimeout: 50 * time.Millisecond,
				Budget:      budget,
				Logf: func(format string, args ...any) {
					mu.Lock()
					defer mu.Unlock()
					log = append(log, fmt.Sprintf(format, args...))
				},
			})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("RemoveContainers() = %v, want %q", err, tc.wantErr)
			}
			if got := left(d); !slices.Equal(got, tc.wantLeft) {
				t.Errorf("containers left = %v, want %v", got, tc.wantLeft)
			}
			log = slices.DeleteFunc(log, func(l string) bool { return strings.Contains(l, "ended and removed in") })
			slices.Sort(log)
			if !slices.Equal(log, tc.wantLog) {
				t.Errorf("log =\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(tc.wantLog, "\n"))
			}
			if got := kills(d); !slices.Equal(got, tc.wantKills) {
				t.Errorf("kills = %v, want %v", got, tc.wantKills)
			}
			checkRemovals(t, d)
		})
	}
}

// Without a daemon at all, the cleanup says so, naming it.
func TestRemoveContainersNoDaemon(t *testing.T) {
	err := RemoveContainers(context.Background(), dial(t, noDaemon), "42", Options{Budget: time.Second})
	if want := "list the job's containers: cannot reach the Docker daemon at " + noDaemon + ": is dockerd running?"; err == nil || err.Error() != want {
		t.Fatalf("RemoveContainers() = %v, want %q", err, want)
	}
}

// The grace period is one for the whole job: every container is sent its
// stop signal before any is removed, so ten containers that ignore SIGTERM
// cost one grace period, not ten.
func TestRemoveContainersSignalsAllBeforeRemovingAny(t *testing.T) {
	var cs []*fakedocker.Container
	for i := range 10 {
		cs = append(cs, with(ctr(fmt.Sprintf("a%03d", i), "42", container.StateRunning), func(c *fakedocker.Container) { c.IgnoresTerm = true }))
	}
	d, e := daemon(t, cs...)
	if err := RemoveContainers(context.Background(), e, "42", Options{StopTimeout: 10 * time.Millisecond, Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	steps := calls(d)
	lastKill, firstRemove := -1, -1
	for i, c := range steps {
		if strings.HasPrefix(c, "kill ") {
			lastKill = i
		}
		if strings.HasPrefix(c, "remove ") && firstRemove < 0 {
			firstRemove = i
		}
	}
	if lastKill < 0 || firstRemove < lastKill {
		t.Errorf("calls %v: want every kill before the first remove", steps)
	}
	if n := len(kills(d)); n != 10 {
		t.Errorf("%d containers signalled, want 10", n)
	}
}

// A container that ends on its stop signal is removed while the cleanup
// still waits for one that does not: removals overlap the grace period.
func TestRemoveContainersRemovesWhileWaiting(t *testing.T) {
	d, e := daemon(t,
		ctr("a001", "42", container.StateRunning),
		with(ctr("a002", "42", container.StateRunning), func(c *fakedocker.Container) { c.IgnoresTerm = true }),
	)
	if err := RemoveContainers(context.Background(), e, "42", Options{StopTimeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	steps := calls(d)
	removeA001, lastPoll := slices.Index(steps, "remove a001"), -1
	for i, c := range steps[:len(steps)-1] { // the last list is the final check
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
	d, e := daemon(t, ctr("a001", "42", container.StateRunning))
	if err := RemoveContainers(context.Background(), e, "42", Options{StopTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if k := kills(d); len(k) != 0 || len(left(d)) != 0 {
		t.Errorf("kills %v, left %v; want no kill and nothing left", k, left(d))
	}
	checkRemovals(t, d)
}

// TestRemoveContainersParallel holds every removal until all of them are
// in flight: it only finishes if they run at once.
func TestRemoveContainersParallel(t *testing.T) {
	const n = 5
	var cs []*fakedocker.Container
	for i := range n {
		cs = append(cs, ctr(fmt.Sprintf("a%03d", i), "42", container.StateExited))
	}
	d, e := daemon(t, cs...)
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	d.Before("ContainerRemove", func(fakedocker.Call) {
		arrived.Done()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
	})
	if err := RemoveContainers(context.Background(), e, "42", Options{Parallel: n}); err != nil {
		t.Fatal(err)
	}
	if most := d.MostInFlight("ContainerRemove"); most != n {
		t.Errorf("at most %d removals ran at once, want all %d", most, n)
	}
	if len(left(d)) != 0 {
		t.Errorf("left: %v", left(d))
	}
}

func TestRemoveContainersBoundedParallelism(t *testing.T) {
	var cs []*fakedocker.Container
	for i := range 8 {
		cs = append(cs, ctr(fmt.Sprintf("a%03d", i), "42", container.StateExited))
	}
	d, e := daemon(t, cs...)
	d.Before("ContainerRemove", func(fakedocker.Call) { time.Sleep(5 * time.Millisecond) })
	if err := RemoveContainers(context.Background(), e, "42", Options{Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	if most := d.MostInFlight("ContainerRemove"); most > 2 {
		t.Errorf("%d removals at once, want at most 2", most)
	}
}

func TestRemoveContainersRefusesBadJobID(t *testing.T) {
	d, e := daemon(t)
	err := RemoveContainers(context.Background(), e, "", Options{})
	if err == nil || err.Error() != `"" is not a job id` || len(d.Calls()) != 0 {
		t.Errorf("RemoveContainers(\"\") = %v after calls %v; want a refusal before any call", err, d.Calls())
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
	d, e := daemon(t, ctr("a001", "42", container.StateRunning), ctr("b001", "43", container.StateRunning))
	env := map[string]string{"SLURM_JOB_ID": "42", "SLURM_JOB_SLUID": "sEKNKTV3WPV500"}
	var log bytes.Buffer
	cfg := EpilogConfig{StateDir: dir, Options: Options{StopTimeout: time.Second}, Log: &log}

	if err := Epilog(context.Background(), env, e, cfg); err != nil {
		t.Fatalf("Epilog: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "ud-epilog: job 42: removed container a00100000000 alice-a001" ||
		!strings.HasPrefix(lines[1], "ud-epilog: job 42: 1 container(s) ended and removed in ") {
		t.Errorf("log = %q, want the removal and the summary", log.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if want := []string{alloc.RecordPath(dir, "43"), alloc.JobLockPath(dir, "43")}; !slices.Equal(files, want) {
		t.Errorf("files left = %v, want only job 43's %v", files, want)
	}
	if got := left(d); !slices.Equal(got, []string{"b001"}) {
		t.Errorf("containers left = %v, want job 43's", got)
	}

	log.Reset()
	if err := Epilog(context.Background(), env, e, cfg); err != nil || log.Len() != 0 {
		t.Errorf("second Epilog = %v, log %q; want nothing to do", err, log.String())
	}
}

func TestEpilogFailures(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		host    func(t *testing.T) string
		wantErr string
	}{
		{
			name:    "no job",
			env:     map[string]string{},
			host:    func(t *testing.T) string { return fakedocker.New().Serve(t) },
			wantErr: `SLURM_JOB_ID="" is not a Slurm job id (is ud-epilog run by slurmd as Epilog?)`,
		},
		{
			name: "container left",
			env:  map[string]string{"SLURM_JOB_ID": "42"},
			host: func(t *testing.T) string {
				d := fakedocker.New()
				d.AddContainer(with(ctr("a001", "42", container.StateExited), func(c *fakedocker.Container) { c.RemoveError = "device or resource busy" }))
				return d.Serve(t)
			},
			wantErr: "job 42: 1 container(s) of the job still present after cleanup: a00100000000 alice-a001 (exited)",
		},
		{
			name:    "daemon down",
			env:     map[string]string{"SLURM_JOB_ID": "42"},
			host:    func(*testing.T) string { return noDaemon },
			wantErr: "job 42: list the job's containers: cannot reach the Docker daemon at " + noDaemon + ": is dockerd running?",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Epilog(context.Background(), tc.env, dial(t, tc.host(t)), EpilogConfig{StateDir: t.TempDir()})
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Epilog() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// The epilog's audit record lists the containers it removed, and only those.
func TestRemoveContainersReportsRemoved(t *testing.T) {
	_, e := daemon(t,
		ctr("a001", "42", container.StateRunning),
		ctr("a002", "42", container.StateExited),
		with(ctr("a003", "42", container.StateRunning), func(c *fakedocker.Container) { c.AutoRemove, c.RemovingFor = true, 0 }),
		ctr("b001", "421", container.StateRunning),
	)
	var removed []string
	opts := Options{StopTimeout: time.Second, Removed: func(id string) { removed = append(removed, id[:4]) }}
	if err := RemoveContainers(context.Background(), e, "42", opts); err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{"a001", "a002"}) {
		t.Fatalf("removed %v, want [a001 a002] (a003 removed itself)", removed)
	}
}

// TestEpilogRemovesTheJobsParentCgroup: after the job's containers, the
// epilog reads what they used together from the job's parent cgroup on
// this node (named with SLURMD_NODENAME, as the prolog named the node)
// and removes it from every hierarchy; another node's parent of the same
// job, and a job without one, are left alone, and neither is an error.
func TestEpilogRemovesTheJobsParentCgroup(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"memory/memory.use_hierarchy":                           "1\n",
		"cpuset/cpuset.cpus":                                    "0-3\n",
		"pids/userdocker/vm2/job_42/pids.max":                   "max\n",
		"memory/userdocker/vm/job_42/memory.max_usage_in_bytes": "268435456\n",
		"cpuacct/userdocker/vm/job_42/cpuacct.usage":            "1234567890\n",
		"devices/userdocker/vm/job_42/a001/cgroup.procs":        "",
		"unified/userdocker/vm/job_42/cgroup.procs":             "",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, e := daemon(t)
	env := map[string]string{"SLURM_JOB_ID": "42", "SLURMD_NODENAME": "vm"}
	var used []cgparent.Usage
	var log bytes.Buffer
	cfg := EpilogConfig{StateDir: t.TempDir(), Log: &log, CgroupRoot: root, Used: func(u cgparent.Usage) { used = append(used, u) }}
	if err := Epilog(context.Background(), env, e, cfg); err != nil {
		t.Fatalf("Epilog: %v", err)
	}
	want := cgparent.Usage{PeakMemoryBytes: 256 << 20, PeakKnown: true, CPU: 1234567890, CPUKnown: true}
	if len(used) != 1 || used[0] != want {
		t.Errorf("usage told %+v, want %+v", used, want)
	}
	for _, h := range []string{"memory", "cpuacct", "devices", "unified"} {
		if _, err := os.Stat(filepath.Join(root, h, "userdocker/vm/job_42")); err == nil {
			t.Errorf("%s/userdocker/vm/job_42 is still there", h)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "pids/userdocker/vm2/job_42")); err != nil {
		t.Errorf("the other node's parent: %v", err)
	}
	if !strings.Contains(log.String(), "ud-epilog: job 42: removed cgroup /userdocker/vm/job_42 (peak memory 268435456 bytes, 1.235 CPU seconds)") {
		t.Errorf("log %q does not say what was removed", log.String())
	}
	log.Reset()
	used = nil
	if err := Epilog(context.Background(), env, e, cfg); err != nil || len(used) != 0 || log.Len() != 0 {
		t.Errorf("again: %v, usage %v, log %q; want nothing to do", err, used, log.String())
	}
}
