//go:build integration

// Package hooks runs the built ud-prolog and ud-epilog binaries as slurmd
// would (as root, the job in the environment) against the real Docker
// daemon. ud-prolog is built twice: as shipped, and with the udmocknvml tag,
// whose 8-GPU mock has NVML index i at minor 7-i and fixed UUIDs.
//
// It needs root and a running dockerd. Without them it skips with the
// reason, except under CI=true, where that is a failure.
package hooks

import (
	"github.com/userdocker/userdocker/test/harness"
	"github.com/userdocker/userdocker/test/testlock"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/label"
)

const testImage = "ud-test/busybox:latest"

var (
	skipReason string
	docker     *client.Client
	binDir     string
	// Built binaries.
	prolog, mockProlog, epilog string
	// emptyConfig stands in for /etc/userdocker/config.toml, so that the
	// machine's own configuration does not decide the test.
	emptyConfig string
)

func TestMain(m *testing.M) {
	if os.Getuid() == 0 {
		if err := testlock.Acquire(); err != nil {
			fmt.Fprintf(os.Stderr, "hooks: %v\n", err)
			os.Exit(1)
		}
	}
	skipReason = setup()
	if skipReason != "" && os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "hooks: CI=true but the test machine is not ready: %s\n", skipReason)
		os.Exit(1)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func setup() string {
	if os.Geteuid() != 0 {
		return "needs root: slurmd runs the hooks as root, and records must be root-owned"
	}
	var err error
	docker, err = client.NewClientWithOpts(client.WithHost("unix:///var/run/docker.sock"), client.WithAPIVersionNegotiation())
	if err != nil {
		return "docker client: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := docker.Ping(ctx); err != nil {
		return "dockerd is not running (scripts/testenv.sh starts it): " + err.Error()
	}
	if err := harness.EnsureBusybox(ctx, testImage); err != nil {
		return "test image " + testImage + ": " + err.Error()
	}
	if binDir, err = os.MkdirTemp("", "ud-hooks-"); err != nil {
		return err.Error()
	}
	prolog, mockProlog, epilog = filepath.Join(binDir, "ud-prolog"), filepath.Join(binDir, "mock", "ud-prolog"), filepath.Join(binDir, "ud-epilog")
	for _, b := range []harness.Build{
		{Out: prolog, Pkg: "cmd/ud-prolog"},
		{Out: mockProlog, Pkg: "cmd/ud-prolog", Tags: "udmocknvml"},
		{Out: epilog, Pkg: "cmd/ud-epilog"},
	} {
		if err := harness.GoBuild(b); err != nil {
			return err.Error()
		}
	}
	emptyConfig = filepath.Join(binDir, "config.toml")
	if err := os.WriteFile(emptyConfig, nil, 0o644); err != nil {
		return err.Error()
	}
	return ""
}

func requireSetup(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// testJobID is a job id no real job on the test machine will have.
func testJobID(offset int) string {
	return strconv.Itoa(3_000_000_000 + (os.Getpid()%100_000)*10 + offset)
}

type result struct {
	code   int
	stderr string
}

// runHook runs a hook binary with exactly env, as slurmd does.
func runHook(t *testing.T, bin string, env map[string]string, args ...string) result {
	t.Helper()
	r := harness.Run(t, harness.WithEnv(exec.Command(bin, args...), env))
	return result{r.Code, r.Stderr}
}

// startContainer creates a container labelled with job and, if start,
// starts it running `sleep 600` as PID 1, which ignores SIGTERM: stopping
// it takes the whole stop timeout and then a SIGKILL, like a stubborn job.
func startContainer(t *testing.T, job string, start bool) string {
	t.Helper()
	return jobContainer(t, job, start, nil)
}

// jobContainer is startContainer with change applied to the container's
// configuration first (nil: none).
func jobContainer(t *testing.T, job string, start bool, change func(*container.Config, *container.HostConfig)) string {
	t.Helper()
	ctx := context.Background()
	cfg := &container.Config{Image: testImage, Cmd: []string{"sleep", "600"}, Labels: map[string]string{label.Job: job}}
	host := &container.HostConfig{}
	if change != nil {
		change(cfg, host)
	}
	resp, err := docker.ContainerCreate(ctx, cfg, host, nil, nil, "")
	if err != nil {
		t.Fatalf("create container: %v", err)
	}
	t.Cleanup(func() {
		docker.ContainerRemove(context.Background(), resp.ID, container.RemoveOptions{Force: true})
	})
	if start {
		if err := docker.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start container: %v", err)
		}
	}
	return resp.ID
}

func jobContainers(t *testing.T, job string) []string {
	t.Helper()
	cs, err := docker.ContainerList(context.Background(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", label.Job+"="+job)),
	})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestEpilogRemovesTheJobsContainers(t *testing.T) {
	requireSetup(t)
	job, other := testJobID(1), testJobID(2)
	mine := []string{startContainer(t, job, true), startContainer(t, job, true), startContainer(t, job, false)}
	theirs := startContainer(t, other, true)
	stateDir := t.TempDir()
	if err := os.WriteFile(alloc.RecordPath(stateDir, job), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLURM_JOB_ID": job}
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	config := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(config, []byte("[audit]\nlog = \""+auditLog+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", config, "--state-dir", stateDir, "--stop-timeout", "1s"}

	start := time.Now()
	r := runHook(t, epilog, env, args...)
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("ud-epilog exited %d:\n%s", r.code, r.stderr)
	}
	if left := jobContainers(t, job); len(left) != 0 {
		t.Errorf("containers of job %s left: %v", job, left)
	}
	// The two running containers ignore SIGTERM; stopped one after the
	// other they would take two stop timeouts.
	if took > 10*time.Second {
		t.Errorf("ud-epilog took %v for two 1s stops in parallel", took)
	}
	for _, id := range mine {
		if !strings.Contains(r.stderr, "ud-epilog: job "+job+": removed container "+id[:12]) {
			t.Errorf("stderr does not report removing %s:\n%s", id[:12], r.stderr)
		}
	}
	if _, err := os.Stat(alloc.RecordPath(stateDir, job)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the job's record is still there: %v", err)
	}
	// The audit record names exactly the containers removed.
	var rec struct {
		Program    string   `json:"program"`
		Job        string   `json:"job"`
		Containers []string `json:"containers"`
	}
	data, err := os.ReadFile(auditLog)
	if err != nil || json.Unmarshal(data, &rec) != nil {
		t.Fatalf("audit record: %v\n%s", err, data)
	}
	slices.Sort(rec.Containers)
	want := slices.Sorted(slices.Values(mine))
	if rec.Program != "ud-epilog" || rec.Job != job || !slices.Equal(rec.Containers, want) {
		t.Errorf("audit record %+v, want ud-epilog, job %s, containers %v", rec, job, want)
	}
	if got := jobContainers(t, other); !slices.Equal(got, []string{theirs}) {
		t.Errorf("job %s's containers = %v, want its one container untouched", other, got)
	}

	r = runHook(t, epilog, env, args...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("second ud-epilog: exit %d, stderr %q; want 0 and nothing to say", r.code, r.stderr)
	}
}

// TestEpilogEndsEveryKindOfContainer gives the epilog one container of
// each kind a user can leave behind that could slow it down or survive
// it, against the real dockerd: paused, restarting in a loop, created and
// never started, --rm ones (which dockerd removes itself once they end:
// "removal already in progress"), one with its own stop signal, one that
// asks for an endless --stop-timeout. All must go, within the budget, and
// the epilog must succeed.
func TestEpilogEndsEveryKindOfContainer(t *testing.T) {
	requireSetup(t)
	job := testJobID(3)
	ignoreTerm := []string{"sh", "-c", "trap '' TERM; sleep 600"}
	kinds := []struct {
		name   string
		start  bool
		change func(*container.Config, *container.HostConfig)
		after  func(t *testing.T, id string)
	}{
		{name: "exited", start: true, change: func(c *container.Config, _ *container.HostConfig) { c.Cmd = []string{"true"} }},
		{name: "created, never started"},
		{name: "paused", start: true, after: func(t *testing.T, id string) {
			if err := docker.ContainerPause(context.Background(), id); err != nil {
				t.Fatalf("pause: %v", err)
			}
		}},
		{name: "restarting", start: true, change: func(c *container.Config, h *container.HostConfig) {
			c.Cmd = []string{"false"}
			h.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyAlways}
		}},
		{name: "--rm, ends on SIGTERM", start: true, change: func(c *container.Config, h *container.HostConfig) {
			c.Cmd = []string{"sh", "-c", `trap "exit 0" TERM; sleep 600 & wait`}
			h.AutoRemove = true
		}},
		{name: "--rm, ignores SIGTERM", start: true, change: func(c *container.Config, h *container.HostConfig) {
			c.Cmd = ignoreTerm
			h.AutoRemove = true
		}},
		{name: "own stop signal", start: true, change: func(c *container.Config, _ *container.HostConfig) {
			c.Cmd = []string{"sh", "-c", `trap "exit 0" USR1; sleep 600 & wait`}
			c.StopSignal = "SIGUSR1"
		}},
		{name: "--stop-timeout=-1, ignores SIGTERM", start: true, change: func(c *container.Config, _ *container.HostConfig) {
			c.Cmd = ignoreTerm
			forever := -1
			c.StopTimeout = &forever
		}},
	}
	for _, k := range kinds {
		id := jobContainer(t, job, k.start, k.change)
		if k.after != nil {
			k.after(t, id)
		}
	}
	stateDir := t.TempDir()
	if err := os.WriteFile(alloc.JobLockPath(stateDir, job), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := runHook(t, epilog, map[string]string{"SLURM_JOB_ID": job}, "--config", emptyConfig, "--state-dir", stateDir, "--stop-timeout", "2s", "--budget", "30s")
	took := time.Since(start)
	t.Logf("ud-epilog took %v:\n%s", took.Round(100*time.Millisecond), r.stderr)
	if r.code != 0 {
		t.Fatalf("ud-epilog exited %d", r.code)
	}
	if left := jobContainers(t, job); len(left) != 0 {
		t.Errorf("containers of job %s left: %v", job, left)
	}
	if took > 30*time.Second {
		t.Errorf("ud-epilog took %v, more than its budget of 30s", took)
	}
	if _, err := os.Stat(alloc.JobLockPath(stateDir, job)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the job's lock is still there: %v", err)
	}
}

func TestEpilogWithoutDaemonFails(t *testing.T) {
	requireSetup(t)
	r := runHook(t, epilog, map[string]string{"SLURM_JOB_ID": testJobID(3)},
		"--config", emptyConfig, "--state-dir", t.TempDir(), "--docker-host", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	if r.code == 0 || !strings.Contains(r.stderr, "ud-epilog: job "+testJobID(3)+": list the job's containers: ") {
		t.Errorf("ud-epilog against no daemon: exit %d, stderr %q; want a failure that says why", r.code, r.stderr)
	}
}

// fakeGPUs makes four NVIDIA-like device files (char 195, minors 0..3) and
// a gres.conf that lists them, as scripts/testenv.sh does under /dev.
func fakeGPUs(t *testing.T) (gresConf string) {
	t.Helper()
	dir := t.TempDir()
	for i := range 4 {
		if err := unix.Mknod(filepath.Join(dir, fmt.Sprintf("nvidia%d", i)), unix.S_IFCHR|0o666, int(unix.Mkdev(195, uint32(i)))); err != nil {
			t.Fatalf("mknod: %v", err)
		}
	}
	gresConf = filepath.Join(dir, "gres.conf")
	text := "# test\nName=gpu File=" + dir + "/nvidia[0-3]\n"
	if err := os.WriteFile(gresConf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return gresConf
}

func prologEnv(job, gpus string) map[string]string {
	return map[string]string{
		"SLURM_JOB_ID": job, "SLURM_JOB_UID": "2001", "SLURM_JOB_GID": "2001",
		"SLURM_JOB_USER": "udtest-alice", "SLURM_JOB_GPUS": gpus, "SLURMD_NODENAME": "vm",
	}
}

func TestPrologMapsGPUsThroughMinors(t *testing.T) {
	requireSetup(t)
	gres := fakeGPUs(t)
	stateDir := filepath.Join(t.TempDir(), "userdocker")
	job := testJobID(4)

	r := runHook(t, mockProlog, prologEnv(job, "0,2"), "--config", emptyConfig, "--state-dir", stateDir, "--gres-conf", gres)
	if r.code != 0 {
		t.Fatalf("ud-prolog (udmocknvml) exited %d:\n%s", r.code, r.stderr)
	}
	rec, err := alloc.ReadRecord(stateDir, job, 2001)
	if err != nil {
		t.Fatalf("ReadRecord: %v", err)
	}
	// GRES 0 → nvidia0 → minor 0 → mock NVML index 7; GRES 2 → minor 2 → index 5.
	want := []string{"GPU-4d4f434b-0000-4000-8000-000000000007", "GPU-4d4f434b-0000-4000-8000-000000000005"}
	if !slices.Equal(rec.GPUUUIDs, want) || rec.GPUIDsAreIndices || rec.GPUError != "" {
		t.Errorf("record GPUs = %v (indices %v, error %q), want %v", rec.GPUUUIDs, rec.GPUIDsAreIndices, rec.GPUError, want)
	}
	if r.stderr != "ud-prolog: built with udmocknvml: GPUs are a mock, for tests only\n" {
		t.Errorf("stderr = %q", r.stderr)
	}

	// An index gres.conf does not have: the job runs, its GPUs are not granted.
	r = runHook(t, mockProlog, prologEnv(job, "1,7"), "--config", emptyConfig, "--state-dir", stateDir, "--gres-conf", gres)
	if r.code != 0 {
		t.Fatalf("ud-prolog exited %d:\n%s", r.code, r.stderr)
	}
	if rec, err = alloc.ReadRecord(stateDir, job, 2001); err != nil || len(rec.GPUUUIDs) != 0 ||
		rec.GPUError != "GRES index 7 out of range: gres.conf lists 4 GPU device files" {
		t.Errorf("record = %+v, %v; want no UUIDs and the reason", rec, err)
	}
	if !strings.Contains(r.stderr, "ud-prolog: job "+job+": removed records of an earlier run") {
		t.Errorf("stderr does not report the earlier record:\n%s", r.stderr)
	}

	// The epilog removes what the prolog wrote.
	r = runHook(t, epilog, map[string]string{"SLURM_JOB_ID": job}, "--config", emptyConfig, "--state-dir", stateDir)
	if r.code != 0 {
		t.Fatalf("ud-epilog exited %d:\n%s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
		t.Errorf("state dir after the epilog: %v", entries)
	}
}

func TestPrologAsShipped(t *testing.T) {
	requireSetup(t)
	gres := fakeGPUs(t)
	stateDir := t.TempDir()
	job := testJobID(5)
	r := runHook(t, prolog, prologEnv(job, "0,2"), "--config", emptyConfig, "--state-dir", stateDir, "--gres-conf", gres)
	if r.code != 0 {
		t.Fatalf("ud-prolog exited %d:\n%s", r.code, r.stderr)
	}
	data, err := os.ReadFile(alloc.RecordPath(stateDir, job))
	if err != nil {
		t.Fatal(err)
	}
	var rec alloc.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/nvidiactl"); err == nil && !rec.GPUIDsAreIndices {
		t.Skipf("this machine has an NVIDIA driver; record: %s", data)
	}
	if !rec.GPUIDsAreIndices || len(rec.GPUUUIDs) != 0 {
		t.Errorf("without NVML the record must hold indices only: %s", data)
	}
	want := "ud-prolog: job " + job + ": NVML not found: no NVIDIA driver on this node; recording GRES indices [0 2], not UUIDs\n"
	if r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}

	// Not run by slurmd: nothing to record, a clear failure.
	r = runHook(t, prolog, map[string]string{}, "--config", emptyConfig, "--state-dir", stateDir)
	if r.code == 0 || r.stderr != "ud-prolog: SLURM_JOB_ID=\"\" is not a Slurm job id (is ud-prolog run by slurmd as Prolog?)\n" {
		t.Errorf("ud-prolog without a job: exit %d, stderr %q", r.code, r.stderr)
	}
}

// driverRoot makes a root directory in which the NVIDIA driver looks
// present (its control device, char 195:255 as the driver makes it), for
// ud-prolog's --driver-root: this machine's own / stays without one.
func driverRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(root, "dev", "nvidiactl"), unix.S_IFCHR|0o666, int(unix.Mkdev(195, 255))); err != nil {
		t.Fatalf("mknod: %v", err)
	}
	return root
}

// TestPrologDriverWithoutNVML: the shipped ud-prolog on a node whose
// NVIDIA driver is there but whose NVML cannot be loaded (this machine
// has no libnvidia-ml) must not record the GRES indices as usable, since
// the GPU runtime would read them as NVML indices and could hand out
// another job's GPU; it records gpu_error and still exits 0, so that the
// node does not drain.
func TestPrologDriverWithoutNVML(t *testing.T) {
	requireSetup(t)
	gres := fakeGPUs(t)
	stateDir := t.TempDir()
	job := testJobID(6)
	root := driverRoot(t)
	r := runHook(t, prolog, prologEnv(job, "0,2"), "--config", emptyConfig, "--state-dir", stateDir, "--gres-conf", gres, "--driver-root", root)
	if r.code != 0 {
		t.Fatalf("ud-prolog exited %d (a failed prolog drains the node):\n%s", r.code, r.stderr)
	}
	rec, err := alloc.ReadRecord(stateDir, job, 2001)
	if err != nil {
		t.Fatalf("ReadRecord: %v", err)
	}
	reason := "NVML cannot be loaded, but this node has an NVIDIA driver (" + root + "/dev/nvidiactl): a GRES index could name another job's GPU"
	if rec.GPUIDsAreIndices || len(rec.GPUUUIDs) != 0 || rec.GPUError != reason || !slices.Equal(rec.GPUIndices, []int{0, 2}) {
		t.Errorf("record: indices %v usable %v, UUIDs %v, gpu_error %q\nwant [0 2] not usable, no UUIDs, %q",
			rec.GPUIndices, rec.GPUIDsAreIndices, rec.GPUUUIDs, rec.GPUError, reason)
	}
	if want := "ud-prolog: job " + job + ": GPUs [0 2] will not be granted to containers: " + reason + "\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}

	// The same prolog with the machine's own root (no driver here)
	// records the indices, as before.
	r = runHook(t, prolog, prologEnv(job, "0,2"), "--config", emptyConfig, "--state-dir", stateDir, "--gres-conf", gres)
	if rec, err = alloc.ReadRecord(stateDir, job, 2001); r.code != 0 || err != nil || !rec.GPUIDsAreIndices || rec.GPUError != "" {
		if _, err := os.Stat("/dev/nvidiactl"); err == nil {
			t.Skip("this machine has an NVIDIA driver")
		}
		t.Errorf("without a driver: exit %d, record %+v, %v; want the indices", r.code, rec, err)
	}
}
