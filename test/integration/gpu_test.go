//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userdocker/userdocker/test/harness"
)

// The GPU tests run a build of userdocker with the udmocknvml tag: its NVML
// is go-nvml's 8-GPU DGX A100 mock (NVML index i has minor 7-i and UUID
// nvmlUUID(i); see internal/gpu/nvml_mock.go). It has its own path, sudoers
// rule and config, so it can never be mistaken for the production build.
const (
	mockBinary  = testDir + "/userdocker-mocknvml"
	mockConfig  = testConfDir + "/mocknvml.toml"
	mockSudoers = "/etc/sudoers.d/userdocker-test-mocknvml"
	reserveDir  = "/run/userdocker-test-reserve"
)

// nvmlUUID is gpu.MockUUID, restated: the test checks the binary from the
// outside.
func nvmlUUID(i int) string { return fmt.Sprintf("GPU-4d4f434b-0000-4000-8000-%012d", i) }

// reserveConfig is workstation mode: no Slurm, userdocker reserves GPUs.
const reserveConfig = `
docker_host = "unix:///var/run/docker.sock"
subcommands = ["run", "ps", "stop", "rm"]

[run]
images = ['^ud-test/(busybox|cuda):']
pull = "never"

[run.args]
allowed = ["-d", "--rm", "-e"]

[gpu]
source = "reserve"
default_count = 1
max_count = 2
exclusive = true

[slurm]
state_dir = "` + reserveDir + `"

[audit]
log = "/var/log/userdocker-test-audit.log"
`

var (
	mockOnce   sync.Once
	mockReason string
)

// requireMockBinary builds and installs the udmocknvml binary once.
func requireMockBinary(t *testing.T) {
	t.Helper()
	requireSetup(t)
	mockOnce.Do(func() {
		if err := harness.GoBuild(harness.Build{Out: mockBinary, Pkg: "cmd/userdocker", Tags: "udmocknvml",
			LDFlags: "-X github.com/userdocker/userdocker/internal/policy.DefaultPath=" + mockConfig}); err != nil {
			mockReason = err.Error()
			return
		}
		rule := fmt.Sprintf("# userdocker GPU tests (NVML mock build)\n%s, %s ALL=(root) NOPASSWD: %s\n", alice, bob, mockBinary)
		if err := os.WriteFile(mockSudoers, []byte(rule), 0o440); err != nil {
			mockReason = err.Error()
		}
	})
	if mockReason != "" {
		t.Fatal(mockReason)
	}
	if err := exec.Command("docker", "image", "inspect", cudaImage).Run(); err != nil {
		t.Fatalf("test image %s is missing: run scripts/testenv.sh", cudaImage)
	}
	writeMockConfig(t, reserveConfig)
	removeGPUContainers(t)
	t.Cleanup(func() { removeGPUContainers(t) })
}

// removeGPUContainers removes every container holding GPUs (the mock's
// UUIDs are the same in every test) and the reservations.
func removeGPUContainers(t *testing.T) {
	t.Helper()
	if ids := gpuContainers(t); len(ids) > 0 {
		docker(t, append([]string{"rm", "-f"}, ids...)...)
	}
	for _, u := range []string{alice, bob} {
		if ids := containersOf(t, u); len(ids) > 0 {
			docker(t, append([]string{"rm", "-f"}, ids...)...)
		}
	}
	os.RemoveAll(reserveDir)
}

// gpuContainers are the containers whose io.userdocker.gpus label names
// GPUs (every userdocker container has the label, empty without GPUs).
func gpuContainers(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, l := range strings.Split(docker(t, "ps", "-a", "--no-trunc", "--filter", "label=io.userdocker.gpus", "--format", `{{.ID}} {{.Label "io.userdocker.gpus"}}`), "\n") {
		if id, gpus, _ := strings.Cut(l, " "); gpus != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

func writeMockConfig(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(mockConfig, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func udMock(t *testing.T, who string, env []string, args ...string) result {
	t.Helper()
	return udBinary(t, mockBinary, who, env, args...)
}

// TestReserveConcurrentRunsNeverShareGPUs starts 16 detached reserve-mode
// runs at once, each asking for one GPU of the 8: eight get one each, all
// different (as the hook saw them), and eight are refused.
func TestReserveConcurrentRunsNeverShareGPUs(t *testing.T) {
	requireMockBinary(t)
	const n = 16
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		who := []string{alice, bob}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = udMock(t, who, nil, "run", "-d", "--gpus", "1", testImage, "sleep", "300")
		}()
	}
	close(start)
	wg.Wait()

	var granted []string
	refusal := "userdocker: --gpus 1: only 0 of this node's 8 GPU(s) are free; see 'userdocker ps --gpu-free'\n"
	refused := 0
	for i, r := range results {
		switch r.code {
		case 0:
			id := strings.TrimSpace(r.stdout)
			granted = append(granted, hookSaw(t, id))
		case 125:
			if r.stderr != refusal {
				t.Errorf("run %d refused with %q, want %q", i, r.stderr, refusal)
			}
			refused++
		default:
			t.Errorf("run %d: exit %d, stderr %q", i, r.code, r.stderr)
		}
	}
	if len(granted) != 8 || refused != 8 {
		t.Fatalf("%d runs got a GPU and %d were refused, want 8 and 8; containers holding GPUs:\n%s", len(granted), refused,
			docker(t, "ps", "-a", "--filter", "label=io.userdocker.gpus", "--format", "{{.ID}} {{.State}} {{.Labels}}"))
	}
	slices.Sort(granted)
	var want []string
	for i := range 8 {
		want = append(want, nvmlUUID(i))
	}
	if !slices.Equal(granted, want) {
		t.Errorf("GPUs the daemon handed out:\n%v\nwant each of the 8 exactly once:\n%v", granted, want)
	}

	// Containers that go away give their GPUs back: the next run
	// reclaims the stale reservations.
	bobs := containersOf(t, bob)
	if len(bobs) < 2 {
		bobs = containersOf(t, alice) // the runs were alternated; one of them has two
	}
	docker(t, append([]string{"rm", "-f"}, bobs...)...)
	r := udMock(t, alice, nil, "ps", "--gpu-free")
	if r.code != 0 || strings.Count(r.stdout, "GPU-4d4f434b") != len(bobs) {
		t.Errorf("ps --gpu-free after %d containers went: exit %d\n%s%s\nwant their GPUs free", len(bobs), r.code, r.stdout, r.stderr)
	}
	r = udMock(t, alice, nil, "run", "-d", "--gpus", "2", testImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("run --gpus 2 after bob's containers went: exit %d, %s", r.code, r.stderr)
	}
	if v := hookSaw(t, strings.TrimSpace(r.stdout)); strings.Count(v, ",") != 1 {
		t.Errorf("run --gpus 2 got %q, want two GPUs", v)
	}
}

// TestReserveImageEnvCannotClaimOrHideGPUs runs ud-test/cuda, whose image
// has ENV NVIDIA_VISIBLE_DEVICES=all: the daemon hands over exactly the
// reserved GPU, and the reservation holds whatever the container's
// environment says.
func TestReserveImageEnvCannotClaimOrHideGPUs(t *testing.T) {
	requireMockBinary(t)
	r := udMock(t, alice, nil, "run", "-d", "--gpus", "device=3", cudaImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("run --gpus device=3: exit %d, %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	if got := hookSaw(t, id); got != nvmlUUID(3) {
		t.Errorf("the daemon handed over %q, want only NVML GPU 3 (%s)", got, nvmlUUID(3))
	}
	r = udMock(t, bob, nil, "run", "-d", "--gpus", "device="+nvmlUUID(3), testImage, "true")
	want := "userdocker: --gpus device=" + nvmlUUID(3) + ": GPU 3 is in use (container " + id[:12] + ", reserved by " + alice + ")\n"
	if r.code != 125 || r.stderr != want {
		t.Errorf("bob asking for alice's GPU: exit %d, %q; want 125, %q", r.code, r.stderr, want)
	}
	r = udMock(t, alice, nil, "ps", "--gpu-mine")
	if r.code != 0 || !strings.Contains(r.stdout, "3     "+nvmlUUID(3)) {
		t.Errorf("ps --gpu-mine: exit %d\n%s%s\nwant GPU 3", r.code, r.stdout, r.stderr)
	}

	// No GPU asked for (default_count = 0): the image's "all" is replaced
	// by void, so the NVIDIA runtime hands over nothing.
	writeMockConfig(t, strings.Replace(reserveConfig, "default_count = 1", "default_count = 0", 1))
	r = udMock(t, alice, nil, "run", "-d", cudaImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("run without --gpus: exit %d, %s", r.code, r.stderr)
	}
	id = strings.TrimSpace(r.stdout)
	env := docker(t, "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", id)
	if !strings.Contains(env, "NVIDIA_VISIBLE_DEVICES=void\n") || strings.Contains(env, "NVIDIA_VISIBLE_DEVICES=all") {
		t.Errorf("container environment without GPUs:\n%s\nwant NVIDIA_VISIBLE_DEVICES=void and no =all", env)
	}
	if _, err := os.Stat(filepath.Join(hookDir, id)); err == nil {
		t.Errorf("the GPU hook ran for a container without GPUs")
	}
}

// TestReserveRefusals: what workstation mode refuses, through sudo as a
// real user.
func TestReserveRefusals(t *testing.T) {
	requireMockBinary(t)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"over max_count", nil, []string{"--gpus", "3"},
			"userdocker: --gpus 3: at most 2 GPU(s) per container on this system (gpu.max_count)\n"},
		{"all", nil, []string{"--gpus", "all"},
			"userdocker: --gpus all: GPUs are reserved by number here: ask for at most 2, e.g. --gpus 1\n"},
		{"no such GPU", nil, []string{"--gpus", "device=8"},
			"userdocker: --gpus device=8: there is no GPU \"8\" on this node\n"},
		{"the user's NVIDIA_VISIBLE_DEVICES", nil, []string{"--gpus", "1", "-e", "NVIDIA_VISIBLE_DEVICES=all"},
			"userdocker: -e NVIDIA_VISIBLE_DEVICES is not allowed: userdocker sets it from the GPUs you were granted\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"run", "-d"}, tt.args...), testImage, "sleep", "300")
			r := udMock(t, alice, tt.env, args...)
			if r.code != 125 || r.stderr != tt.want {
				t.Errorf("exit %d, %q; want 125, %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestReserveIgnoresNVGPUWithoutEnvKeep: NV_GPU can only ask where the
// site's sudoers keeps it; ours does not, so sudo drops it and the run gets
// the default (the first free GPU), not GPU 5.
func TestReserveIgnoresNVGPUWithoutEnvKeep(t *testing.T) {
	requireMockBinary(t)
	r := udMock(t, alice, []string{"NV_GPU=5"}, "run", "-d", testImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("run: exit %d, %s", r.code, r.stderr)
	}
	if v := hookSaw(t, strings.TrimSpace(r.stdout)); v != nvmlUUID(0) {
		t.Errorf("with a forged NV_GPU=5 the daemon handed over %q, want the default %s", v, nvmlUUID(0))
	}
}

// TestReserveAttachedRunReleases: an attached run gives its GPUs back when
// it ends.
func TestReserveAttachedRunReleases(t *testing.T) {
	requireMockBinary(t)
	r := udMock(t, alice, nil, "run", "--rm", "--gpus", "2", testImage, "true")
	if r.code != 0 {
		t.Fatalf("run --rm --gpus 2: exit %d, %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(reserveDir, "gpu-reservations.json"))
	if err != nil || strings.Contains(string(data), "uuid") {
		t.Errorf("reservations after the attached run ended: %s %v; want none", data, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r = udMock(t, bob, nil, "ps", "--gpu-free")
		if strings.Count(r.stdout, "GPU-4d4f434b") == 8 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.code != 0 || strings.Count(r.stdout, "GPU-4d4f434b") != 8 {
		t.Errorf("ps --gpu-free: exit %d\n%s%s\nwant all 8 GPUs", r.code, r.stdout, r.stderr)
	}
}

// TestGPUCommandsWithoutNVML: the production build on this machine, which
// has no NVIDIA driver, says so in one line, for the GPU views and for a
// workstation-mode run.
func TestGPUCommandsWithoutNVML(t *testing.T) {
	requireSetup(t)
	for _, view := range []string{"--gpu-used", "--gpu-free", "--gpu-mine"} {
		r := ud(t, alice, nil, "ps", view)
		want := "userdocker: ps " + view + ": NVML not found: no NVIDIA driver on this node\n"
		if r.code != 125 || r.stderr != want {
			t.Errorf("ps %s: exit %d, %q; want 125, %q", view, r.code, r.stderr, want)
		}
	}
	writeConfig(t, reserveConfig)
	t.Cleanup(func() { os.RemoveAll(reserveDir) })
	r := ud(t, alice, nil, "run", "--rm", "--gpus", "1", testImage, "true")
	want := "userdocker: --gpus 1: NVML not found: no NVIDIA driver on this node\n"
	if r.code != 125 || r.stderr != want {
		t.Errorf("run --gpus 1 in reserve mode: exit %d, %q; want 125, %q", r.code, r.stderr, want)
	}
}

// mockProcessesFile is gpu.MockProcessesFile: compute processes for the
// udmocknvml build's GPUs, "<nvml-index> <pid> <used-MiB>" per line.
const mockProcessesFile = "/run/userdocker-mocknvml/processes"

// TestGPUViewsMapProcessesToContainers puts a compute process of alice's
// container (its real PID, whose real cgroup names the container) and a
// host process on the mock's GPUs, and reads the tables as bob and alice.
func TestGPUViewsMapProcessesToContainers(t *testing.T) {
	requireMockBinary(t)
	r := udMock(t, alice, nil, "run", "-d", "--gpus", "device=2", testImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("run: exit %d, %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	pid := docker(t, "inspect", "-f", "{{.State.Pid}}", id)
	if err := os.MkdirAll(filepath.Dir(mockProcessesFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mockProcessesFile, []byte("2 "+pid+" 1536\n5 1 100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(mockProcessesFile) })

	tests := []struct {
		who, view string
		want      [][]string
	}{
		{bob, "--gpu-used", [][]string{
			{"GPU", "UUID", "MEMORY", "USED", "CONTAINER", "USER", "JOB"},
			{"2", nvmlUUID(2), "1536MiB", id[:12], alice, "-"},
			{"5", nvmlUUID(5), "100MiB", "host", "-", "-"},
		}},
		{alice, "--gpu-mine", [][]string{
			{"GPU", "UUID", "MEMORY", "USED", "CONTAINER", "USER", "JOB"},
			{"2", nvmlUUID(2), "1536MiB", id[:12], alice, "-"},
		}},
		{bob, "--gpu-mine", [][]string{
			{"GPU", "UUID", "MEMORY", "USED", "CONTAINER", "USER", "JOB"},
		}},
	}
	for _, tt := range tests {
		r := udMock(t, tt.who, nil, "ps", tt.view)
		var got [][]string
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			got = append(got, strings.Fields(l))
		}
		if r.code != 0 || !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("ps %s as %s: exit %d, %s\n%s\nwant %q", tt.view, tt.who, r.code, r.stderr, r.stdout, tt.want)
		}
	}
	r = udMock(t, bob, nil, "ps", "--gpu-free")
	for _, busy := range []int{2, 5} {
		if strings.Contains(r.stdout, nvmlUUID(busy)) {
			t.Errorf("ps --gpu-free lists GPU %d, which runs a process:\n%s", busy, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "GPU-4d4f434b"); r.code != 0 || n != 6 {
		t.Errorf("ps --gpu-free: exit %d, %d GPUs, want 6:\n%s%s", r.code, n, r.stdout, r.stderr)
	}
	// A process on a GPU is as good as a reservation: nobody gets GPU 5.
	r = udMock(t, bob, nil, "run", "-d", "--gpus", "device=5", testImage, "true")
	if want := "userdocker: --gpus device=5: GPU 5 is in use (process 1)\n"; r.code != 125 || r.stderr != want {
		t.Errorf("run --gpus device=5: exit %d, %q; want 125, %q", r.code, r.stderr, want)
	}
}

// TestReserveReclaimsStale: a reservation whose process died before it
// made a container, and one whose container has exited, are reclaimed by
// the next run.
func TestReserveReclaimsStale(t *testing.T) {
	requireMockBinary(t)
	r := udMock(t, bob, nil, "run", "-d", "--gpus", "device=1", testImage, "true")
	if r.code != 0 {
		t.Fatalf("run: exit %d, %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	docker(t, "wait", id)
	// A run that died between reserving GPU 0 and creating its container.
	dead := `{"version": 1, "reservations": [{"uuid": "` + nvmlUUID(0) + `", "uid": 2002, "user": "` + bob + `",
	  "token": "t", "pid": 999999999, "pid_start": 1, "container": "", "created": "` + time.Now().UTC().Format(time.RFC3339) + `"}]}`
	state := filepath.Join(reserveDir, "gpu-reservations.json")
	data, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(data), id) {
		t.Fatalf("reservations: %s %v; want bob's container %s", data, err, id[:12])
	}
	if err := os.WriteFile(state, []byte(dead), 0o644); err != nil {
		t.Fatal(err)
	}
	r = udMock(t, alice, nil, "run", "-d", "--gpus", "2", testImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("run --gpus 2: exit %d, %s", r.code, r.stderr)
	}
	if got, want := hookSaw(t, strings.TrimSpace(r.stdout)), nvmlUUID(0)+","+nvmlUUID(1); got != want {
		t.Errorf("alice got %q, want the reclaimed %q", got, want)
	}
}
