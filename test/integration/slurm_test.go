//go:build integration

package integration

// End-to-end tests through the real single-node Slurm of scripts/testenv.sh:
// jobs submitted as the test users, userdocker started inside them with
// srun (through real sudo, as the user), ud-prolog and ud-epilog run by
// slurmd. What the container received is read from outside: docker
// inspect, the container's cgroup, and the stand-in nvidia hook's record of
// the GPUs dockerd handed it.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/slurmhook"
	"github.com/userdocker/userdocker/test/harness"
)

const (
	prologPath = "/usr/local/sbin/ud-prolog"
	epilogPath = "/usr/local/sbin/ud-epilog"
	hookDir    = "/var/lib/userdocker-test/hook"
	// savedProlog keeps the real prolog while a test has the mock one
	// installed; requireSlurm puts it back if a crashed run left it there.
	savedProlog = testDir + "/ud-prolog.saved"
	// holdScript keeps a batch job alive until scancel; the containers the
	// tests start stop at once on SIGTERM, so the epilog is quick.
	holdScript = "sleep 600"
	// quickStop is a container command that exits on SIGTERM at once.
	quickStop = `trap "exit 0" TERM; sleep 600 & wait`
)

var installHooks sync.Once
var installHooksErr string

// requireSlurm skips (fails under CI=true) without Slurm, installs this
// tree's ud-prolog and ud-epilog where slurm.conf names them, and checks
// after the test that the node has not drained.
func requireSlurm(t *testing.T) {
	t.Helper()
	requireSetup(t)
	for _, tool := range []string{"srun", "sbatch", "scontrol", "sinfo", "scancel"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool+" is not installed: run scripts/testenv.sh")
		}
	}
	if out, err := exec.Command("sinfo", "-h", "-o", "%T").Output(); err != nil || strings.TrimSpace(string(out)) == "" {
		missing(t, "Slurm does not answer (sinfo): run scripts/testenv.sh")
	}
	installHooks.Do(func() { installHooksErr = installTreeHooks() })
	if installHooksErr != "" {
		t.Fatal(installHooksErr)
	}
	t.Cleanup(func() { assertNodeHealthy(t) })
}

func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// installTreeHooks builds ud-prolog and ud-epilog from this tree and
// installs them (atomically) where the test slurm.conf runs them, so the
// tests judge the code they sit beside; make install-test-bins does the
// same for make test. A mock prolog left by a crashed run is replaced, and
// slurm.conf and the package a killed TestPackage left are put back and
// removed.
func installTreeHooks() string {
	os.Remove(savedProlog)
	if err := cleanPackageTest(); err != nil {
		return "undo what a killed package test left: " + err.Error()
	}
	dir, err := os.MkdirTemp("", "ud-slurm-hooks-")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(dir)
	for _, h := range []struct{ pkg, dst string }{{"cmd/ud-prolog", prologPath}, {"cmd/ud-epilog", epilogPath}} {
		bin := filepath.Join(dir, filepath.Base(h.pkg))
		if msg := goBuild(bin, "", h.pkg); msg != "" {
			return msg
		}
		if err := installAtomically(bin, h.dst); err != nil {
			return err.Error()
		}
	}
	return ""
}

func goBuild(out, tags, pkg string) string {
	cmd := exec.Command("go", "build", "-tags="+tags, "-o", out, "github.com/userdocker/userdocker/"+pkg)
	cmd.Env = append(os.Environ(), "CGO_CFLAGS=-Wno-deprecated-declarations")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Sprintf("go build %s: %v\n%s", pkg, err, b)
	}
	return ""
}

// installAtomically copies src to dst through a rename, so that slurmd
// never starts a half-written hook.
func installAtomically(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".udtest"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// assertNodeHealthy fails the test if the node drained or went down: a
// failing prolog or epilog drains it. It waits out "completing".
func assertNodeHealthy(t *testing.T) {
	t.Helper()
	state := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		out, _ := exec.Command("sinfo", "-h", "-o", "%T").Output()
		if state = strings.TrimSpace(string(out)); state != "completing" {
			break
		}
	}
	if state != "idle" && state != "mixed" && state != "allocated" {
		reason, _ := exec.Command("sinfo", "-h", "-R").Output()
		t.Errorf("node state %q after the test, want idle, mixed or allocated (reason: %s)", state, strings.TrimSpace(string(reason)))
	}
}

// slurmJob is a batch job held open by `sleep` for userdocker calls with
// srun --jobid.
type slurmJob struct {
	ID   string
	User string
}

// holdJob submits a batch job as user that sleeps until cancelled, waits
// until it runs, and cancels it when the test ends (waiting for the
// epilog, so the next test finds the CPUs free).
func holdJob(t *testing.T, user string, sbatchArgs ...string) slurmJob {
	t.Helper()
	args := append([]string{"--parsable", "--output=/dev/null", "--chdir=/tmp", "--job-name=udtest"}, sbatchArgs...)
	cmd := exec.Command("sbatch", append(args, "--wrap="+holdScript)...)
	harness.AsUser(t, cmd, user)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/home/" + user, "LANG=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch as %s: %v\n%s", user, err, out)
	}
	j := slurmJob{ID: strings.TrimSpace(string(out)), User: user}
	if !alloc.ValidJobID(j.ID) {
		t.Fatalf("sbatch printed %q, not a job id", out)
	}
	t.Cleanup(func() { cancelJob(t, j) })
	start := time.Now()
	waitJobRunning(t, j)
	t.Logf("job %s of %s running after %v", j.ID, user, time.Since(start).Round(100*time.Millisecond))
	return j
}

func jobState(id string) string {
	out, _ := exec.Command("squeue", "-h", "-j", id, "-o", "%T").Output()
	return strings.TrimSpace(string(out))
}

func waitJobRunning(t *testing.T, j slurmJob) {
	t.Helper()
	state := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if state = jobState(j.ID); state == "RUNNING" {
			return
		}
	}
	t.Fatalf("job %s of %s is %q, not running after 60 s", j.ID, j.User, state)
}

// cancelJob ends the job and waits until it has left the node: the
// epilog has then run.
func cancelJob(t *testing.T, j slurmJob) {
	t.Helper()
	exec.Command("scancel", j.ID).Run()
	start := time.Now()
	defer func() { t.Logf("job %s gone %v after scancel", j.ID, time.Since(start).Round(100*time.Millisecond)) }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if s := jobState(j.ID); s == "" || s == "COMPLETED" || s == "CANCELLED" || s == "FAILED" {
			return
		}
	}
	t.Errorf("job %s still %q 60 s after scancel", j.ID, jobState(j.ID))
}

// inJob runs `srun --jobid=J --overlap env VARS sudo -n userdocker ARGS` as
// the job's user. VARS are set right before sudo, inside the job step: the
// place where a user would forge them.
func inJob(t *testing.T, j slurmJob, vars []string, args ...string) result {
	t.Helper()
	return inJobBinary(t, j, testBinary, vars, args...)
}

// inJobBinary is inJob for another userdocker at bin, such as the one
// installed from the package.
func inJobBinary(t *testing.T, j slurmJob, bin string, vars []string, args ...string) result {
	t.Helper()
	argv := append([]string{"env"}, vars...)
	return srunIn(t, j, 2*time.Minute, append(append(argv, "sudo", "-n", bin), args...)...)
}

// srunIn runs argv as a step of job j (`srun --jobid=J --overlap`), as the
// job's user, for at most limit.
func srunIn(t *testing.T, j slurmJob, limit time.Duration, argv ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	argv = append([]string{"--jobid=" + j.ID, "--overlap", "--quiet"}, argv...)
	cmd := exec.CommandContext(ctx, "srun", argv...)
	harness.AsUser(t, cmd, j.User)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/home/" + j.User, "LANG=C"}
	r := harness.Run(t, cmd)
	return result{r.Stdout, withoutSrunLines(r.Stderr), r.Code}
}

// withoutSrunLines drops srun's own messages ("srun: error: …: Exited
// with exit code 125"), leaving userdocker's.
func withoutSrunLines(stderr string) string {
	var keep []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if l != "" && !strings.HasPrefix(l, "srun: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// startIn starts a detached container in the job and returns its ID.
func startIn(t *testing.T, j slurmJob, vars []string, runArgs ...string) string {
	t.Helper()
	args := append(append([]string{"run", "-d"}, runArgs...), cudaImage, "sh", "-c", quickStop)
	r := inJob(t, j, vars, args...)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("userdocker run -d in job %s: exit %d, stdout %q, stderr %q", j.ID, r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	return id
}

// humanBytes writes a byte count read from a cgroup file (decimal) as
// userdocker's messages write sizes ("256m").
func humanBytes(t *testing.T, decimal string) string {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(decimal), 10, 64)
	if err != nil {
		t.Fatalf("%q: %v", decimal, err)
	}
	return policy.Bytes(n).String()
}

// jobGPUs reads the job's GPUs from Slurm itself: the GRES indices of
// `scontrol show job -d`, such as "gpu:2(IDX:0-1)".
func jobGPUs(t *testing.T, j slurmJob) []int {
	t.Helper()
	out, err := exec.Command("scontrol", "show", "job", "-d", j.ID).Output()
	if err != nil {
		t.Fatalf("scontrol show job %s: %v", j.ID, err)
	}
	m := regexp.MustCompile(`GRES=gpu(?::[^(]*)?\(IDX:([0-9,-]+)\)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("scontrol show job -d %s names no GPU indices:\n%s", j.ID, out)
	}
	idx, err := slurmhook.ParseGPUIndices(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func joinIndices(idx []int) string {
	s := make([]string, len(idx))
	for i, x := range idx {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// jobCgroupFile reads a file of the job's cgroup v1 directory for one
// controller, e.g. ("cpuset", "cpuset.cpus").
func jobCgroupFile(t *testing.T, j slurmJob, controller, file string) string {
	t.Helper()
	pattern := fmt.Sprintf("/sys/fs/cgroup/%s/slurm*/uid_%s/job_%s/%s", controller, uidOf(t, j.User), j.ID, file)
	var m []string
	// The job's cgroup appears a moment after Slurm calls the job running.
	for deadline := time.Now().Add(10 * time.Second); len(m) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m, _ = filepath.Glob(pattern)
	}
	if len(m) != 1 {
		t.Fatalf("job cgroup file %s: found %v", pattern, m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// containerCPUs reads the cpuset the kernel applies to the container: its
// init process's cpuset cgroup.
func containerCPUs(t *testing.T, id string) string {
	t.Helper()
	pid := docker(t, "inspect", "-f", "{{.State.Pid}}", id)
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && slices.Contains(strings.Split(parts[1], ","), "cpuset") {
			cpus, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuset", parts[2], "cpuset.cpus"))
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimSpace(string(cpus))
		}
	}
	t.Fatalf("container %s (pid %s) has no cpuset cgroup:\n%s", id, pid, b)
	return ""
}

// cpuListOf expands a cpuset list ("0-2,5") into CPU numbers.
func cpuListOf(t *testing.T, list string) []int {
	t.Helper()
	var out []int
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || b < a {
			t.Fatalf("cpuset %q: %q is not a CPU or range", list, part)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
}

// inspected is what the tests read of `docker inspect`.
type inspected struct {
	Name   string
	Image  string // the image's ID
	Config struct {
		Image       string // as the create request named it
		Env         []string
		Labels      map[string]string
		StopTimeout *int
	}
	HostConfig inspectedHost
	Mounts     []struct{ Type, Destination string }
}

// inspectedHost is what the tests read of a HostConfig.
type inspectedHost struct {
	CpusetCpus     string
	Memory         int64
	MemorySwap     int64
	Runtime        string
	DeviceRequests []struct {
		Driver    string
		DeviceIDs []string
	}
	Ulimits []struct {
		Name       string
		Soft, Hard int64
	}
	LogConfig struct {
		Type   string
		Config map[string]string
	}
	RestartPolicy struct {
		Name              string
		MaximumRetryCount int
	}
	Tmpfs map[string]string
}

func inspect(t *testing.T, id string) inspected {
	t.Helper()
	var c inspected
	if err := json.Unmarshal([]byte(docker(t, "inspect", "-f", "{{json .}}", id)), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c inspected) env(key string) string {
	for _, kv := range c.Config.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// hookSaw is the NVIDIA_VISIBLE_DEVICES the stand-in nvidia hook found in
// the container's OCI spec: the GPUs dockerd really handed out.
func hookSaw(t *testing.T, id string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hookDir, id))
	if err != nil {
		t.Fatalf("the nvidia hook recorded nothing for container %s: %v", id, err)
	}
	return strings.TrimSpace(string(b))
}

// checkJobContainer asserts that container id got exactly the job's GPUs
// (wantGPUs, in the job's order), the job's cpuset and memory limit, and
// the job's labels and name.
func checkJobContainer(t *testing.T, j slurmJob, id, wantGPUs string) {
	t.Helper()
	c := inspect(t, id)
	if got := hookSaw(t, id); got != wantGPUs {
		t.Errorf("nvidia hook saw NVIDIA_VISIBLE_DEVICES=%q, want the job's GPUs %q", got, wantGPUs)
	}
	if got := c.env("NVIDIA_VISIBLE_DEVICES"); got != wantGPUs {
		t.Errorf("container env NVIDIA_VISIBLE_DEVICES=%q, want %q", got, wantGPUs)
	}
	if n := len(c.HostConfig.DeviceRequests); n != 1 || strings.Join(c.HostConfig.DeviceRequests[0].DeviceIDs, ",") != wantGPUs {
		t.Errorf("device requests %+v, want one with %s", c.HostConfig.DeviceRequests, wantGPUs)
	}
	cpus := jobCgroupFile(t, j, "cpuset", "cpuset.cpus")
	if c.HostConfig.CpusetCpus != cpus {
		t.Errorf("HostConfig.CpusetCpus %q, want the job's %q", c.HostConfig.CpusetCpus, cpus)
	}
	if got := containerCPUs(t, id); got != cpus {
		t.Errorf("container cgroup cpuset.cpus %q, want the job's %q", got, cpus)
	}
	mem, _ := strconv.ParseInt(jobCgroupFile(t, j, "memory", "memory.limit_in_bytes"), 10, 64)
	if c.HostConfig.Memory != mem || c.HostConfig.MemorySwap != mem {
		t.Errorf("memory %d, swap %d; want the job's limit %d for both", c.HostConfig.Memory, c.HostConfig.MemorySwap, mem)
	}
	if c.Config.Labels["io.userdocker.job"] != j.ID || c.Config.Labels["io.userdocker.uid"] != uidOf(t, j.User) {
		t.Errorf("labels %v, want job %s and uid of %s", c.Config.Labels, j.ID, j.User)
	}
	if prefix := "/" + j.User + "-" + j.ID + "-"; !strings.HasPrefix(c.Name, prefix) {
		t.Errorf("name %q, want %s…", c.Name, prefix)
	}
}

func TestSlurmJobContainerGetsTheJobsGPUsAndCPUs(t *testing.T) {
	requireSlurm(t)
	j := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=200")
	gpus := joinIndices(jobGPUs(t, j))
	id := startIn(t, j, nil)
	checkJobContainer(t, j, id, gpus)

	r := inJob(t, j, nil, "run", "--rm", cudaImage, "sh", "-c", `id -u; echo $NVIDIA_VISIBLE_DEVICES; cat /sys/fs/cgroup/cpuset/cpuset.cpus`)
	want := fmt.Sprintf("%s\n%s\n%s\n", uidOf(t, alice), gpus, jobCgroupFile(t, j, "cpuset", "cpuset.cpus"))
	if r.code != 0 || r.stdout != want {
		t.Errorf("foreground run in the job: exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, want, r.stderr)
	}
}

// TestSlurmUserFlagsOnlyNarrow: --gpus, --cpuset-cpus and --memory may
// take less than the job has, never more.
func TestSlurmUserFlagsOnlyNarrow(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, strings.Replace(baseConfig, `"--group-add"]`, `"--group-add", "--cpuset-cpus", "--memory"]`, 1))
	j := holdJob(t, alice, "--gres=gpu:2", "-c2", "--mem=256")
	idx := jobGPUs(t, j)
	cpus := jobCgroupFile(t, j, "cpuset", "cpuset.cpus")
	mem := jobCgroupFile(t, j, "memory", "memory.limit_in_bytes")
	cpuList := cpuListOf(t, cpus)
	if len(cpuList) < 2 {
		t.Fatalf("job cpuset %q: this test needs a job with 2 CPUs", cpus)
	}
	one := strconv.Itoa(cpuList[len(cpuList)-1])
	wider := cpus + "," + strconv.Itoa(slices.Max(cpuList)+1)

	id := startIn(t, j, nil, "--gpus", "1", "--cpuset-cpus", one, "--memory", "64m")
	c := inspect(t, id)
	if got, want := hookSaw(t, id), strconv.Itoa(idx[0]); got != want {
		t.Errorf("--gpus 1: hook saw %q, want the job's first GPU %q", got, want)
	}
	if c.HostConfig.CpusetCpus != one || containerCPUs(t, id) != one {
		t.Errorf("--cpuset-cpus %s: got %q (cgroup %q)", one, c.HostConfig.CpusetCpus, containerCPUs(t, id))
	}
	if c.HostConfig.Memory != 64<<20 {
		t.Errorf("--memory 64m: got %d bytes", c.HostConfig.Memory)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"more GPUs", []string{"--gpus", "3"}, "userdocker: --gpus 3: only 2 GPU(s) are available to you\n"},
		{"GPU not in the job", []string{"--gpus", "device=GPU-00000000-0000-0000-0000-000000000000"},
			"userdocker: --gpus device=GPU-00000000-0000-0000-0000-000000000000: not one of your GPUs (" + joinIndices(idx) + ")\n"},
		{"more memory", []string{"--memory", "1g"}, "userdocker: -m/--memory 1g is more than your job's memory (" + humanBytes(t, mem) + ")\n"},
		{"other CPUs", []string{"--cpuset-cpus", wider}, fmt.Sprintf("userdocker: --cpuset-cpus %q is outside your job's CPUs %s\n", wider, cpus)},
		{"GPU env", []string{"-e", "NVIDIA_VISIBLE_DEVICES=all"}, "userdocker: -e NVIDIA_VISIBLE_DEVICES is not allowed: userdocker sets it from the GPUs you were granted\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := containersOf(t, alice)
			r := inJob(t, j, nil, append(append([]string{"run", "--rm"}, tc.args...), cudaImage, "true")...)
			if r.code != 125 || r.stderr != tc.want {
				t.Errorf("exit %d, stderr %q; want 125 and %q", r.code, r.stderr, tc.want)
			}
			if after := containersOf(t, alice); len(after) != len(before) {
				t.Errorf("a refused run left containers: %v", after)
			}
		})
	}
}

func TestSlurmTwoUsersGetDisjointGPUs(t *testing.T) {
	requireSlurm(t)
	ja := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	jb := holdJob(t, bob, "--gres=gpu:2", "-c1", "--mem=128")
	ga, gb := joinIndices(jobGPUs(t, ja)), joinIndices(jobGPUs(t, jb))
	ida, idb := startIn(t, ja, nil), startIn(t, jb, nil)
	checkJobContainer(t, ja, ida, ga)
	checkJobContainer(t, jb, idb, gb)
	sa, sb := strings.Split(hookSaw(t, ida), ","), strings.Split(hookSaw(t, idb), ",")
	for _, g := range sa {
		if slices.Contains(sb, g) {
			t.Errorf("GPU %s went to both %s (%v) and %s (%v)", g, alice, sa, bob, sb)
		}
	}
	if a, b := containerCPUs(t, ida), containerCPUs(t, idb); a == b {
		t.Errorf("both containers run on CPUs %q: the two jobs' cpusets must differ", a)
	}
}

// forgedVars point at GPUs and a job that are not the caller's.
func forgedVars(otherJob string) []string {
	return []string{
		"SLURM_JOB_ID=" + otherJob, "SLURM_JOBID=" + otherJob, "SLURM_JOB_GPUS=2,3", "SLURM_STEP_GPUS=2,3",
		"CUDA_VISIBLE_DEVICES=2,3", "NV_GPU=2,3", "NVIDIA_VISIBLE_DEVICES=all",
	}
}

// keepForgedVars makes sudo pass the forged variables on to userdocker, as
// a careless site's env_keep would; userdocker itself must ignore them.
func keepForgedVars(t *testing.T) {
	t.Helper()
	keepSudoEnv(t, "userdocker-test-envkeep", "SLURM_JOB_ID SLURM_JOBID SLURM_JOB_GPUS SLURM_STEP_GPUS CUDA_VISIBLE_DEVICES NV_GPU NVIDIA_VISIBLE_DEVICES")
}

// keepSudoEnv installs /etc/sudoers.d/NAME for the test, checked by visudo
// first: sudo keeps the variables vars (env_keep syntax) for the test
// binary.
func keepSudoEnv(t *testing.T, name, vars string) {
	t.Helper()
	file := "/etc/sudoers.d/" + name
	rule := fmt.Sprintf("Defaults!%s env_keep += \"%s\"\n", testBinary, vars)
	tmp := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(tmp, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("visudo", "-cf", tmp).CombinedOutput(); err != nil {
		t.Fatalf("visudo rejects the env_keep rule: %v\n%s", err, out)
	}
	if err := os.WriteFile(file, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
}

func TestSlurmForgedEnvironmentChangesNothing(t *testing.T) {
	requireSlurm(t)
	ja := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	jb := holdJob(t, bob, "--gres=gpu:2", "-c1", "--mem=128")
	ga := joinIndices(jobGPUs(t, ja))
	check := func(t *testing.T) {
		id := startIn(t, ja, forgedVars(jb.ID))
		checkJobContainer(t, ja, id, ga)

		// Outside any job, a forged job id gets no job and no GPUs
		// (the test policy's slurm.outside_job is "no-gpu").
		r := ud(t, alice, forgedVars(ja.ID), "run", "-d", cudaImage, "sh", "-c", quickStop)
		out := strings.TrimSpace(r.stdout)
		if r.code != 0 || len(out) != 64 {
			t.Fatalf("run outside a job: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", out).Run() })
		c := inspect(t, out)
		if c.env("NVIDIA_VISIBLE_DEVICES") != "void" || len(c.HostConfig.DeviceRequests) != 0 || c.Config.Labels["io.userdocker.job"] != "" {
			t.Errorf("outside a job with forged variables: NVIDIA_VISIBLE_DEVICES=%q, device requests %v, job label %q; want void, none, none",
				c.env("NVIDIA_VISIBLE_DEVICES"), c.HostConfig.DeviceRequests, c.Config.Labels["io.userdocker.job"])
		}
		if _, err := os.Stat(filepath.Join(hookDir, out)); err == nil {
			t.Errorf("the nvidia hook ran for a container that was granted no GPU")
		}
	}
	t.Run("sudo env_reset", check)
	t.Run("sudoers env_keep", func(t *testing.T) {
		keepForgedVars(t)
		check(t)
	})
}

func TestSlurmEpilogRemovesDetachedContainer(t *testing.T) {
	requireSlurm(t)
	j := holdJob(t, alice, "--gres=gpu:1", "-c1", "--mem=128")
	id := startIn(t, j, nil)
	record := alloc.RecordPath(alloc.DefaultStateDir, j.ID)
	if _, err := os.Stat(record); err != nil {
		t.Fatalf("the prolog's record of the running job: %v", err)
	}
	start := time.Now()
	cancelJob(t, j)
	waitFor(t, "the epilog removes the job's container", func() bool {
		return exec.Command("docker", "inspect", id).Run() != nil
	})
	t.Logf("container gone %v after scancel", time.Since(start).Round(100*time.Millisecond))
	if _, err := os.Stat(record); err == nil {
		t.Errorf("record %s is still there after the job ended", record)
	}
}

func TestSlurmRequeuedJobStartsClean(t *testing.T) {
	requireSlurm(t)
	j := holdJob(t, alice, "--requeue", "--gres=gpu:2", "-c1", "--mem=128")
	first := startIn(t, j, nil)
	rec1 := jobRecord(t, j)
	if out, err := exec.Command("scontrol", "requeue", j.ID).CombinedOutput(); err != nil {
		t.Fatalf("scontrol requeue %s: %v\n%s", j.ID, err, out)
	}
	// A requeued job waits two minutes before it may start again, for
	// slurmd's revocation of the first run's credential to lapse. The
	// revocation is checked to the second: once the first run's epilog
	// is done and a second has passed, the job may start at once.
	waitFor(t, "the first run's epilog", func() bool {
		_, err := os.Stat(alloc.RecordPath(alloc.DefaultStateDir, j.ID))
		return jobState(j.ID) == "PENDING" && os.IsNotExist(err)
	})
	time.Sleep(2 * time.Second)
	// A record the first run's epilog failed to delete, naming other GPUs:
	// the second run's prolog must replace it, not trust it.
	stale := rec1
	stale.GPUIndices = []int{3}
	if err := alloc.WriteRecord(alloc.DefaultStateDir, stale); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("scontrol", "update", "JobId="+j.ID, "StartTime=now").CombinedOutput(); err != nil {
		t.Fatalf("scontrol update StartTime=now: %v\n%s", err, out)
	}
	waitJobRunning(t, j)

	if exec.Command("docker", "inspect", first).Run() == nil {
		t.Errorf("container %s of the first run survived the requeue", first)
	}
	var rec2 alloc.Record
	waitFor(t, "a record of the second run, newer than the first run's", func() bool {
		r, err := alloc.ReadRecord(alloc.DefaultStateDir, j.ID, 2001)
		rec2 = r
		return err == nil && r.Created.After(rec1.Created)
	})
	idx := jobGPUs(t, j)
	if !slices.Equal(rec2.GPUIndices, idx) {
		t.Errorf("record of the second run names GPUs %v, Slurm gave %v", rec2.GPUIndices, idx)
	}
	// A parent cgroup the first run's epilog left behind, with looser
	// limits than the job's: the second run's first container must not
	// go below it as it is.
	parent := "/userdocker/" + rec2.Node + "/job_" + j.ID
	if gone, where := cgroupGone(parent); !gone {
		t.Errorf("the first run's parent cgroup %s survived its epilog", where)
	}
	for _, c := range []string{"cpuset", "memory", "pids"} {
		if err := os.MkdirAll(filepath.Join(cgroupRoot, c, parent), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { removeCgroup(parent) })
	for file, v := range map[string]string{"cpuset/cpuset.cpus": "0-1", "cpuset/cpuset.mems": "0", "memory/memory.limit_in_bytes": "1073741824", "pids/pids.max": "max"} {
		c, f, _ := strings.Cut(file, "/")
		if err := os.WriteFile(filepath.Join(cgroupRoot, c, parent, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	id := startIn(t, j, nil)
	checkJobContainer(t, j, id, joinIndices(idx))
	if n := len(jobContainersOf(t, j)); n != 1 {
		t.Errorf("job %s has %d containers after the requeue, want only the new one", j.ID, n)
	}
	if got := cgInt(t, "memory", parent, "memory.limit_in_bytes"); got != 128<<20 {
		t.Errorf("the requeued job's parent has memory limit %d, want the job's %d", got, 128<<20)
	}
	if got := cgRead(t, "pids", parent, "pids.max"); got != "16384" {
		t.Errorf("the requeued job's parent has pids.max %s, want 16384", got)
	}
	if got, want := cgRead(t, "cpuset", parent, "cpuset.cpus"), jobCgroupFile(t, j, "cpuset", "cpuset.cpus"); got != want {
		t.Errorf("the requeued job's parent has cpus %q, want the job's %q", got, want)
	}
}

// jobRecord reads ud-prolog's record of the job, as userdocker would for
// the job's user. A batch job may count as running while its prolog
// (PrologFlags=Alloc) is still writing, so it waits for the record.
func jobRecord(t *testing.T, j slurmJob) alloc.Record {
	t.Helper()
	uid, _ := strconv.ParseUint(uidOf(t, j.User), 10, 32)
	var rec alloc.Record
	var err error
	waitFor(t, "ud-prolog's record of job "+j.ID, func() bool {
		rec, err = alloc.ReadRecord(alloc.DefaultStateDir, j.ID, uint32(uid))
		return err == nil
	})
	return rec
}

func jobContainersOf(t *testing.T, j slurmJob) []string {
	t.Helper()
	return strings.Fields(docker(t, "ps", "-aq", "--filter", "label=io.userdocker.job="+j.ID))
}

// mockUUID is gpu.MockUUID(i), written out: the mock exists only in
// udmocknvml builds. The mock puts NVML index i at minor 7-i, so GRES index
// g (/dev/nvidia<g>, minor g) is NVML index 7-g.
func mockUUID(gres int) string {
	return fmt.Sprintf("GPU-4d4f434b-0000-4000-8000-%012d", 7-gres)
}

// TestSlurmGPUUUIDsEndToEnd runs the whole UUID path with a mock NVML
// prolog: Slurm index → device file → minor → NVML → UUID in the record
// → device request → what the nvidia hook sees.
func TestSlurmGPUUUIDsEndToEnd(t *testing.T) {
	requireSlurm(t)
	useMockProlog(t)

	j := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	var want []string
	for _, g := range jobGPUs(t, j) {
		want = append(want, mockUUID(g))
	}
	rec := jobRecord(t, j)
	if !slices.Equal(rec.GPUUUIDs, want) || rec.GPUIDsAreIndices {
		t.Fatalf("record GPUs %v (indices only: %v), want %v", rec.GPUUUIDs, rec.GPUIDsAreIndices, want)
	}
	id := startIn(t, j, nil)
	checkJobContainer(t, j, id, strings.Join(want, ","))
}

// useMockProlog installs, for the test, a ud-prolog built with the
// udmocknvml NVML mock, so that jobs get GPU UUIDs (mockUUID).
func useMockProlog(t *testing.T) {
	t.Helper()
	mock := filepath.Join(t.TempDir(), "ud-prolog")
	if msg := goBuild(mock, "udmocknvml", "cmd/ud-prolog"); msg != "" {
		t.Fatal(msg)
	}
	if err := installAtomically(prologPath, savedProlog); err != nil {
		t.Fatal(err)
	}
	// The Slurm configuration is shared: put the real prolog back whatever
	// happens (requireSlurm also does, after a crash).
	t.Cleanup(func() {
		if err := os.Rename(savedProlog, prologPath); err != nil {
			t.Errorf("restore %s: %v", prologPath, err)
		}
	})
	if err := installAtomically(mock, prologPath); err != nil {
		t.Fatal(err)
	}
}

// TestSlurmNvidiaRuntimeDelivery: with gpu.delivery = "nvidia-runtime"
// (sites on nvidia-docker2) the job's GPUs reach Docker as runtime
// "nvidia" and NVIDIA_VISIBLE_DEVICES, with no device request. The test
// daemon has no nvidia runtime, so the final request is read with
// --dry-run.
func TestSlurmNvidiaRuntimeDelivery(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, strings.Replace(baseConfig, "[gpu]\nsource = \"slurm\"\n", "[gpu]\nsource = \"slurm\"\ndelivery = \"nvidia-runtime\"\n", 1))
	j := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	gpus := joinIndices(jobGPUs(t, j))
	r := inJob(t, j, nil, "run", "--dry-run", cudaImage, "true")
	if r.code != 0 {
		t.Fatalf("run --dry-run in job %s: exit %d, stderr %q", j.ID, r.code, r.stderr)
	}
	var p struct {
		Config     struct{ Env []string }
		HostConfig inspectedHost `json:"host_config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("--dry-run output is not the plan: %v\n%s", err, r.stdout)
	}
	if p.HostConfig.Runtime != "nvidia" || len(p.HostConfig.DeviceRequests) != 0 || !slices.Contains(p.Config.Env, "NVIDIA_VISIBLE_DEVICES="+gpus) {
		t.Errorf("runtime %q, device requests %v, env %v; want runtime nvidia, none, NVIDIA_VISIBLE_DEVICES=%s",
			p.HostConfig.Runtime, p.HostConfig.DeviceRequests, p.Config.Env, gpus)
	}
}

// TestSlurmGPUErrorRefusesRun: when ud-prolog could not tell which GPUs a
// job's Slurm indices are, its record carries gpu_error and no UUIDs;
// userdocker must refuse to run rather than start the container without
// GPUs. The record is rewritten here as the prolog writes it in that case
// (gres.conf and the Slurm config are shared and stay as they are).
func TestSlurmGPUErrorRefusesRun(t *testing.T) {
	requireSlurm(t)
	j := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	rec := jobRecord(t, j)
	rec.GPUIDsAreIndices, rec.GPUUUIDs = false, []string{}
	rec.GPUError = "GRES index 1 out of range: gres.conf lists 1 GPU device files"
	if err := alloc.WriteRecord(alloc.DefaultStateDir, rec); err != nil {
		t.Fatal(err)
	}
	before := containersOf(t, alice)
	refusal := fmt.Sprintf("userdocker: job %s: your job's GPUs (Slurm GRES %s) cannot be given to containers on this node: %s; tell your admin\n",
		j.ID, joinIndices(rec.GPUIndices), rec.GPUError)
	if r := inJob(t, j, nil, "run", "--rm", cudaImage, "true"); r.code != 125 || r.stderr != refusal {
		t.Errorf("exit %d, stderr %q; want 125 and %q", r.code, r.stderr, refusal)
	}
	debug := fmt.Sprintf("userdocker: debug: job %s: ud-prolog recorded gpu_error %q for GRES indices %v: no GPU is granted, run refused\n",
		j.ID, rec.GPUError, rec.GPUIndices)
	rule := "userdocker: debug: refused by rule \"gpus\", built into userdocker (no setting changes it)\n"
	if r := inJob(t, j, nil, "--debug", "run", "--rm", cudaImage, "true"); r.code != 125 || !strings.HasSuffix(r.stderr, debug+refusal+rule) {
		t.Errorf("--debug: exit %d, stderr %q; want 125 and, last, %q", r.code, r.stderr, debug+refusal+rule)
	}
	if after := containersOf(t, alice); len(after) != len(before) {
		t.Errorf("a refused run left containers: %v", after)
	}
}

// TestOutsideJob: what slurm.outside_job gives a call from outside any
// Slurm job, through real sudo as alice.
func TestOutsideJob(t *testing.T) {
	requireSetup(t)
	for _, tc := range []struct {
		setting string
		args    []string
		code    int
		stdout  string
		stderr  string
	}{
		{"deny", []string{"run", "--rm", cudaImage, "true"}, 125, "",
			`userdocker: containers run only inside a Slurm job on this system (slurm.outside_job = "deny"): srun [--gres=gpu:N] userdocker run ...` + "\n"},
		{"no-gpu", []string{"run", "--rm", cudaImage, "sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES"}, 0, "void\n", ""},
		{"no-gpu", []string{"run", "--rm", "--gpus", "1", cudaImage, "true"}, 125, "",
			"userdocker: --gpus 1: no GPUs are available to you here (ask Slurm for them: srun --gres=gpu:N)\n"},
		{"allow", []string{"run", "--rm", cudaImage, "sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES"}, 0, "void\n", ""},
		{"allow", []string{"run", "--rm", "--gpus", "all", cudaImage, "true"}, 125, "",
			"userdocker: --gpus all: no GPUs are available to you here (ask Slurm for them: srun --gres=gpu:N)\n"},
	} {
		t.Run(tc.setting+" "+strings.Join(tc.args[2:], " "), func(t *testing.T) {
			writeConfig(t, strings.Replace(baseConfig, `outside_job = "no-gpu"`, `outside_job = "`+tc.setting+`"`, 1))
			r := ud(t, alice, []string{"SLURM_JOB_ID=1"}, tc.args...)
			if r.code != tc.code || r.stdout != tc.stdout || r.stderr != tc.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// -it works inside an interactive job step too: srun --pty gives the step
// a terminal, sudo and userdocker pass it on, and the container's exit
// status becomes the step's.
func TestSlurmInteractiveStepWithTTY(t *testing.T) {
	requireSetup(t)
	requireSlurm(t)
	code, screen := commandUnderPTY(t, alice, []string{"tty; echo in-$NVIDIA_VISIBLE_DEVICES; exit 6\r"},
		"srun", "--pty", "-c1", "--mem=100", "sudo", "-n", testBinary, "run", "--rm", "-it", testImage, "sh")
	if code != 6 {
		t.Fatalf("exit %d, want 6; screen:\n%s", code, screen)
	}
	if !strings.Contains(screen, "/dev/pts/") || !strings.Contains(screen, "in-void") {
		t.Fatalf("want a terminal in the container and no GPUs; screen:\n%s", screen)
	}
	assertNodeHealthy(t)
}
