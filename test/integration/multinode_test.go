//go:build integration

package integration

// Multi-node jobs through the two-node Slurm of scripts/testenv.sh (vm and
// vm2, each with its own slurmd, dockerd and /run/userdocker), as the test
// users, through real sudo: a container per node with that node's GPU, the
// epilog on every node, one node failing alone, and what MPI/NCCL-ready
// containers may get where the policy offers it (host network and IPC,
// RDMA devices, the launcher's variables, a task's own GPU).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/alloc"
)

// multinodeConfig is the base policy with what multi-node jobs need: the
// host's network and IPC, and the launcher's variables.
var multinodeConfig = strings.Replace(baseConfig, "publish = ['^127\\.0\\.0\\.1::[0-9]+$']\n",
	"publish = ['^127\\.0\\.0\\.1::[0-9]+$']\nhost_namespaces = [\"network\", \"ipc\"]\npass_env = [\"SLURM_*\", \"PMIX_*\"]\n", 1)

// multiJob holds a batch job of alice on both nodes, one GPU each.
func multiJob(t *testing.T, extra ...string) slurmJob {
	t.Helper()
	requireSlurm(t)
	requireNode2(t)
	withMultiPartition(t)
	return holdJob(t, alice, append([]string{"-p", multiPartition, "-N2", "--ntasks-per-node=1", "--gres=gpu:1", "-c1", "--mem=128"}, extra...)...)
}

// stateDirOf is a node's /run/userdocker as the host sees it.
func stateDirOf(node string) string {
	if node == node2 {
		return node2StateDir
	}
	return alloc.DefaultStateDir
}

// nodeRecord reads ud-prolog's record of job j on node.
func nodeRecord(t *testing.T, j slurmJob, node string) alloc.Record {
	t.Helper()
	uid, _ := strconv.ParseUint(uidOf(t, j.User), 10, 32)
	var rec alloc.Record
	var err error
	waitFor(t, "ud-prolog's record of job "+j.ID+" on "+node, func() bool {
		rec, err = alloc.ReadRecord(stateDirOf(node), j.ID, uint32(uid))
		return err == nil
	})
	return rec
}

// jobContainersOn lists the containers of job j on node's dockerd.
func jobContainersOn(t *testing.T, node string, j slurmJob) []string {
	t.Helper()
	return strings.Fields(dockerOn(t, node, "ps", "-aq", "--no-trunc", "--filter", "label=io.userdocker.job="+j.ID))
}

// inspectOn is inspect on node's dockerd.
func inspectOn(t *testing.T, node, id string) inspected {
	t.Helper()
	var c inspected
	if err := json.Unmarshal([]byte(dockerOn(t, node, "inspect", "-f", "{{json .}}", id)), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// nodeState is a node's state and reason as slurmctld has them
// ("IDLE", "IDLE+DRAIN", …).
func nodeState(t *testing.T, node string) (state, reason string) {
	t.Helper()
	out, err := exec.Command("scontrol", "show", "node", "-o", node).Output()
	if err != nil {
		t.Fatalf("scontrol show node %s: %v", node, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "State="); ok {
			state = v
		}
	}
	if _, r, ok := strings.Cut(string(out), " Reason="); ok {
		reason = strings.TrimSpace(r)
	}
	return state, reason
}

// waitNodeIdle waits until node neither drains, completes a job nor is
// still to answer slurmctld (for a moment after a resume).
func waitNodeIdle(t *testing.T, node string) {
	t.Helper()
	state := ""
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if state, _ = nodeState(t, node); !strings.Contains(state, "DRAIN") && !strings.Contains(state, "COMPLETING") && !strings.Contains(state, "NOT_RESPONDING") {
			return
		}
	}
	_, reason := nodeState(t, node)
	t.Errorf("node %s is %s (reason %q), want it back in service", node, state, reason)
}

// udOnNodes runs `sudo -n userdocker ARGS` in a step of j: on both nodes
// (nodes empty) or on the one named, one task per node, each output line
// prefixed with its task's number ("0: …", srun --label).
func udOnNodes(t *testing.T, j slurmJob, node string, args ...string) result {
	t.Helper()
	where := []string{"-N2", "--ntasks-per-node=1", "--label"}
	if node != "" {
		where = []string{"-N1", "-n1", "-w", node, "--label"}
	}
	return srunIn(t, j, 2*time.Minute, append(append(where, "sudo", "-n", testBinary), args...)...)
}

// byTask splits srun --label output into each task's lines.
func byTask(out string) map[string][]string {
	m := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if task, line, ok := strings.Cut(l, ": "); ok {
			task = strings.TrimSpace(task)
			m[task] = append(m[task], line)
		}
	}
	return m
}

// TestMultinodeContainerPerNode: srun -N2 starts a container on each node's
// dockerd, with that node's GPU, labelled with the job and named uniquely;
// ps on a node lists that node's; scancel removes both and both records,
// and neither node drains.
func TestMultinodeContainerPerNode(t *testing.T) {
	j := multiJob(t)
	host := hostNode(t)
	nodes := []string{host, node2}

	// Foreground, --rm: each task's container says what it got.
	r := udOnNodes(t, j, "", "run", "--rm", cudaImage, "sh", "-c", `echo "$NVIDIA_VISIBLE_DEVICES"`)
	got := byTask(r.stdout)
	for i, node := range nodes {
		want := joinIndices(nodeRecord(t, j, node).GPUIndices)
		if task := strconv.Itoa(i); r.code != 0 || !slices.Equal(got[task], []string{want}) {
			t.Errorf("run --rm on %s (task %s): exit %d, printed %q, want its node's GPU %q (stderr %q)", node, task, r.code, got[task], want, r.stderr)
		}
	}

	r = udOnNodes(t, j, "", "run", "-d", cudaImage, "sh", "-c", quickStop)
	if r.code != 0 || len(byTask(r.stdout)) != 2 {
		t.Fatalf("run -d on both nodes: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	names := map[string]string{}
	for _, node := range nodes {
		ids := jobContainersOn(t, node, j)
		if len(ids) != 1 {
			t.Fatalf("%s's dockerd holds %d containers of job %s, want 1: %v", node, len(ids), j.ID, ids)
		}
		t.Cleanup(func() { exec.Command("docker", "-H", dockerHostOf(node), "rm", "-f", ids[0]).Run() })
		c := inspectOn(t, node, ids[0])
		want := joinIndices(nodeRecord(t, j, node).GPUIndices)
		if saw := hookSaw(t, ids[0]); saw != want {
			t.Errorf("on %s the nvidia hook saw GPUs %q, want the node's %q", node, saw, want)
		}
		if c.Config.Labels["io.userdocker.job"] != j.ID || c.Config.Labels["io.userdocker.uid"] != uidOf(t, alice) {
			t.Errorf("on %s: labels %v, want job %s and alice's uid", node, c.Config.Labels, j.ID)
		}
		if !strings.HasPrefix(c.Name, "/"+alice+"-"+j.ID+"-") {
			t.Errorf("on %s: name %q, want %s-%s-…", node, c.Name, alice, j.ID)
		}
		names[node] = strings.TrimPrefix(c.Name, "/")
	}
	if names[host] == names[node2] {
		t.Errorf("both nodes' containers are named %q", names[host])
	}

	for _, node := range nodes {
		other := host
		if node == host {
			other = node2
		}
		r := udOnNodes(t, j, node, "ps")
		if r.code != 0 || !strings.Contains(r.stdout, names[node]) || strings.Contains(r.stdout, names[other]) {
			t.Errorf("ps on %s: exit %d, want %s and not %s listed:\n%s%s", node, r.code, names[node], names[other], r.stdout, r.stderr)
		}
	}

	cancelJob(t, j)
	for _, node := range nodes {
		waitFor(t, "the epilog on "+node+" removes the job's container", func() bool { return len(jobContainersOn(t, node, j)) == 0 })
		if _, err := os.Stat(alloc.RecordPath(stateDirOf(node), j.ID)); !os.IsNotExist(err) {
			t.Errorf("%s: record of job %s still there after the job (%v)", node, j.ID, err)
		}
		waitNodeIdle(t, node)
	}
}

// dockerHostOf is the -H value for node's dockerd, from the host.
func dockerHostOf(node string) string {
	if node == node2 {
		return "unix://" + node2Socket
	}
	return "unix:///var/run/docker.sock"
}

// breakNode2Docker makes vm2's dockerd unreachable to vm2's processes (a
// regular file bound over its socket in vm2's mount namespace: clients get
// "connection refused", as from a crashed daemon), while the daemon and its
// containers keep running and the host still reaches it at node2Socket.
// It returns the repair; the test's end repairs too.
func breakNode2Docker(t *testing.T) (repair func()) {
	t.Helper()
	plug := filepath.Join(t.TempDir(), "not-a-socket")
	if err := os.WriteFile(plug, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := onNode2(t, true, "mount", "--bind", plug, "/run/docker.sock"); err != nil {
		t.Fatalf("bind over vm2's /run/docker.sock: %v\n%s", err, out)
	}
	repair = func() {
		if _, err := onNode2(t, true, "mountpoint", "-q", "/run/docker.sock"); err == nil {
			if out, err := onNode2(t, true, "umount", "/run/docker.sock"); err != nil {
				t.Errorf("umount vm2's /run/docker.sock: %v\n%s", err, out)
			}
		}
	}
	t.Cleanup(repair)
	return repair
}

// TestMultinodeNodeFault: vm2's dockerd becomes unreachable mid-job. run
// there fails in one line, vm goes on; at the job's end vm2's epilog fails
// and Slurm drains vm2 alone; once the daemon answers again, the recovery
// of contrib/slurm/README.md removes the container and the node resumes.
func TestMultinodeNodeFault(t *testing.T) {
	j := multiJob(t)
	host := hostNode(t)
	t.Cleanup(func() { // whatever happens, vm2 ends the test in service
		for _, id := range jobContainersOn(t, node2, j) {
			dockerOn(t, node2, "rm", "-f", id)
		}
		if state, _ := nodeState(t, node2); strings.Contains(state, "DRAIN") {
			exec.Command("scontrol", "update", "nodename="+node2, "state=resume").Run()
		}
		waitNodeIdle(t, node2)
	})
	r := udOnNodes(t, j, "", "run", "-d", cudaImage, "sh", "-c", quickStop)
	if r.code != 0 || len(jobContainersOn(t, host, j)) != 1 || len(jobContainersOn(t, node2, j)) != 1 {
		t.Fatalf("run -d on both nodes: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	stranded := jobContainersOn(t, node2, j)[0]

	repair := breakNode2Docker(t)
	r = udOnNodes(t, j, node2, "run", "--rm", cudaImage, "true")
	const unreachable = "userdocker: cannot reach the Docker daemon"
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); r.code != 125 || len(lines) != 1 || !strings.Contains(lines[0], unreachable) {
		t.Errorf("run on vm2 with its dockerd unreachable: exit %d, stderr %q; want 125 and one line %q…", r.code, r.stderr, unreachable)
	}
	if r := udOnNodes(t, j, host, "run", "--rm", cudaImage, "true"); r.code != 0 {
		t.Errorf("run on %s while vm2's dockerd is unreachable: exit %d, stderr %q", host, r.code, r.stderr)
	}

	logPath := "/var/log/slurm/slurmd-" + node2 + ".log"
	mark, _ := os.Stat(logPath)
	exec.Command("scancel", j.ID).Run()
	state := ""
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && !strings.Contains(state, "DRAIN"); time.Sleep(300 * time.Millisecond) {
		state, _ = nodeState(t, node2)
	}
	state, reason := nodeState(t, node2)
	if !strings.Contains(state, "DRAIN") || !strings.Contains(reason, "Epilog error") {
		t.Errorf("vm2 after the failed epilog: state %s, reason %q; want drained for \"Epilog error\"", state, reason)
	}
	if data, err := os.ReadFile(logPath); err != nil || mark == nil || !strings.Contains(string(data[mark.Size():]), "ud-epilog: job "+j.ID+": ") ||
		!strings.Contains(string(data[mark.Size():]), "cannot reach the Docker daemon") {
		t.Errorf("%s does not say why the epilog of job %s failed (%v)", logPath, j.ID, err)
	}
	waitFor(t, "the epilog on "+host+" removes its container", func() bool { return len(jobContainersOn(t, host, j)) == 0 })
	if state, reason := nodeState(t, host); strings.Contains(state, "DRAIN") {
		t.Errorf("%s drained too (%s, %q): only vm2 failed", host, state, reason)
	}
	if got := jobContainersOn(t, node2, j); !slices.Equal(got, []string{stranded}) {
		t.Errorf("vm2's dockerd holds %v after the failed epilog, want the stranded %s", got, stranded)
	}

	// The recovery of contrib/slurm/README.md, "A node fails".
	repair()
	out, err := onNode2(t, true, "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SLURM_JOB_ID="+j.ID, epilogPath)
	if err != nil {
		t.Fatalf("SLURM_JOB_ID=%s ud-epilog on vm2: %v\n%s", j.ID, err, out)
	}
	if got := jobContainersOn(t, node2, j); len(got) != 0 {
		t.Errorf("vm2 still holds %v after the recovery epilog:\n%s", got, out)
	}
	if out, err := exec.Command("scontrol", "update", "nodename="+node2, "state=resume").CombinedOutput(); err != nil {
		t.Fatalf("scontrol update nodename=%s state=resume: %v\n%s", node2, err, out)
	}
	waitNodeIdle(t, node2)
}

// TestMultinodeGPUErrorOnOneNode: a prolog that finds an NVIDIA driver but
// cannot load NVML on vm2 records gpu_error there; run is refused on vm2
// only, and neither node drains.
func TestMultinodeGPUErrorOnOneNode(t *testing.T) {
	requireSlurm(t)
	requireNode2(t)
	// /proc/driver/nvidia, a driver marker, in vm2's mount namespace only.
	if out, err := onNode2(t, true, "sh", "-ec", "mount -t tmpfs -o size=16k,mode=0755 udtest-nvml /proc/driver && mkdir /proc/driver/nvidia"); err != nil {
		t.Fatalf("a driver marker on vm2: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := onNode2(t, true, "umount", "/proc/driver"); err != nil {
			t.Errorf("umount /proc/driver on vm2: %v\n%s", err, out)
		}
	})
	j := multiJob(t)
	host := hostNode(t)
	if rec := nodeRecord(t, j, host); rec.GPUError != "" || len(rec.GPUIndices) != 1 {
		t.Errorf("%s's record: gpu_error %q, GPUs %v; want one GPU, no error", host, rec.GPUError, rec.GPUIndices)
	}
	rec := nodeRecord(t, j, node2)
	if !strings.Contains(rec.GPUError, "NVML cannot be loaded, but this node has an NVIDIA driver") {
		t.Errorf("vm2's record: gpu_error %q, want NVML's failure", rec.GPUError)
	}
	if r := udOnNodes(t, j, host, "run", "--rm", cudaImage, "true"); r.code != 0 {
		t.Errorf("run on %s: exit %d, stderr %q", host, r.code, r.stderr)
	}
	r := udOnNodes(t, j, node2, "run", "--rm", cudaImage, "true")
	if r.code != 125 || !strings.Contains(r.stderr, "NVML cannot be loaded") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("run on vm2: exit %d, stderr %q; want 125 and one line with the record's gpu_error", r.code, r.stderr)
	}
	if n := len(jobContainersOn(t, node2, j)); n != 0 {
		t.Errorf("a refused run left %d containers on vm2", n)
	}
	cancelJob(t, j)
	waitNodeIdle(t, host)
	waitNodeIdle(t, node2)
}

// keepLauncherVars makes sudo keep the launcher's variables for the test
// binary, as contrib/slurm/sudoers.userdocker's commented line does, plus
// what a forger would add: the GPU variables.
func keepLauncherVars(t *testing.T) {
	t.Helper()
	keepSudoEnv(t, "userdocker-test-launcher", "SLURM_* PMIX_* OMPI_* NCCL_* UCX_* CUDA_VISIBLE_DEVICES")
}

// TestMultinodeHostNamespaces: with run.host_namespaces, a container in a
// job may share the node's network and IPC namespaces and is still alice
// without capabilities; outside a job, and for the other namespaces, the
// answer stays no.
func TestMultinodeHostNamespaces(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, multinodeConfig)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--network=host"}, "userdocker: --network=host is allowed only inside a Slurm job on this system: srun ... userdocker run --network=host ...\n"},
		{[]string{"--ipc=host"}, "userdocker: --ipc=host is allowed only inside a Slurm job on this system: srun ... userdocker run --ipc=host ...\n"},
	} {
		before := containersOf(t, alice)
		if r := ud(t, alice, nil, append(append([]string{"run", "--rm"}, tc.args...), testImage, "true")...); r.code != 125 || r.stderr != tc.want {
			t.Errorf("outside a job, %v: exit %d, stderr %q; want 125 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if after := containersOf(t, alice); len(after) != len(before) {
			t.Errorf("a refused run left containers: %v", after)
		}
	}

	j := holdJob(t, alice, "--gres=gpu:1", "-c1", "--mem=128")
	nsOf := func(kind string) string {
		l, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	r := inJob(t, j, nil, "run", "--rm", "--network=host", "--ipc=host", testImage, "sh", "-c",
		`for ns in net ipc pid uts; do readlink /proc/self/ns/$ns; done; id -u; grep ^CapEff /proc/self/status; grep ^NoNewPrivs /proc/self/status`)
	want := strings.Join([]string{nsOf("net"), nsOf("ipc")}, "\n")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 7 || strings.Join(lines[:2], "\n") != want || lines[2] == nsOf("pid") || lines[3] == nsOf("uts") ||
		lines[4] != uidOf(t, alice) || lines[5] != "CapEff:\t0000000000000000" || lines[6] != "NoNewPrivs:\t1" {
		t.Errorf("--network=host --ipc=host in a job: exit %d, stdout %q (stderr %q); want the node's net and ipc namespaces %q, its own pid and uts, uid %s, no capabilities, no new privileges",
			r.code, r.stdout, r.stderr, want, uidOf(t, alice))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pid=host"}, "userdocker: --pid is not allowed on this system\n"},
		{[]string{"--uts=host"}, "userdocker: --uts is not allowed on this system\n"},
		{[]string{"--userns=host"}, "userdocker: --userns is not allowed on this system\n"},
		{[]string{"--cgroupns=host"}, "userdocker: --cgroupns is not allowed on this system\n"},
		{[]string{"--ipc=container:" + alice}, "userdocker: --ipc is not allowed on this system\n"},
		{[]string{"--network=host", "-p", "127.0.0.1::80"}, "-p and -P do not go with --network=host"},
		{[]string{"--network=host", "--cap-add=NET_RAW"}, "--cap-add is not allowed on this system"},
	} {
		before := containersOf(t, alice)
		r := inJob(t, j, nil, append(append([]string{"run", "--rm"}, tc.args...), testImage, "true")...)
		if r.code != 125 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("in a job, %v: exit %d, stderr %q; want 125 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if after := containersOf(t, alice); len(after) != len(before) {
			t.Errorf("a refused run left containers: %v", after)
		}
	}
}

// TestMultinodeForgedLauncherEnv: the launcher's variables reach the
// container as data, and forging them (another job, another user, other
// GPUs) changes no grant, label, name or limit.
func TestMultinodeForgedLauncherEnv(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, multinodeConfig)
	keepLauncherVars(t)
	ja := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	jb := holdJob(t, bob, "--gres=gpu:2", "-c1", "--mem=128")
	ga, gb := jobGPUs(t, ja), jobGPUs(t, jb)
	forged := []string{"SLURM_JOB_ID=" + jb.ID, "SLURM_JOBID=" + jb.ID, "SLURM_JOB_UID=" + uidOf(t, bob), "SLURM_JOB_USER=" + bob,
		"SLURM_STEP_GPUS=" + joinIndices(gb), "SLURM_JOB_GPUS=" + joinIndices(gb), "CUDA_VISIBLE_DEVICES=" + joinIndices(gb),
		"PMIX_RANK=7", "SLURM_PROCID=7"}
	id := startIn(t, ja, forged)
	checkJobContainer(t, ja, id, joinIndices(ga))
	c := inspect(t, id)
	for _, kv := range []string{"SLURM_JOB_ID=" + jb.ID, "SLURM_JOB_UID=" + uidOf(t, bob), "PMIX_RANK=7", "SLURM_PROCID=7"} {
		if !slices.Contains(c.Config.Env, kv) {
			t.Errorf("container env lacks %s (run.pass_env copies the launcher's variables as they are): %v", kv, c.Config.Env)
		}
	}
	for _, kv := range c.Config.Env {
		if strings.HasPrefix(kv, "CUDA_VISIBLE_DEVICES=") || strings.HasPrefix(kv, "SUDO_") {
			t.Errorf("container env has %s, which run.pass_env does not name", kv)
		}
	}
	if n := len(jobContainersOf(t, jb)); n != 0 {
		t.Errorf("bob's job %s has %d containers after alice forged its id", jb.ID, n)
	}
}

// TestMultinodeTaskGPUs: in a 4-GPU job, srun -n4 --gpus-per-task=1 gives
// each task's container its own GPU, even with every task claiming GPU 3 in
// Slurm's and CUDA's variables; a step without GPUs gets none.
func TestMultinodeTaskGPUs(t *testing.T) {
	requireSlurm(t)
	keepLauncherVars(t)
	j := holdJob(t, alice, "-n4", "-O", "--gres=gpu:4", "--mem=256")
	all := jobGPUs(t, j)
	r := srunIn(t, j, 2*time.Minute, "-n4", "-O", "--gpus-per-task=1", "env", "SLURM_STEP_GPUS=3", "CUDA_VISIBLE_DEVICES=3",
		"sudo", "-n", testBinary, "run", "-d", cudaImage, "sh", "-c", quickStop)
	ids := strings.Fields(r.stdout)
	for _, id := range ids {
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	}
	if r.code != 0 || len(ids) != 4 {
		t.Fatalf("srun -n4 --gpus-per-task=1 run -d: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var saw []int
	for _, id := range ids {
		g, err := strconv.Atoi(hookSaw(t, id))
		if err != nil {
			t.Fatalf("container %s got GPUs %q, want one", id, hookSaw(t, id))
		}
		saw = append(saw, g)
	}
	slices.Sort(saw)
	if !slices.Equal(saw, all) {
		t.Errorf("the four tasks' containers got GPUs %v, want each one of the job's %v", saw, all)
	}

	r = srunIn(t, j, time.Minute, "--gres=none", "sudo", "-n", testBinary, "run", "--rm", cudaImage, "sh", "-c", `echo "$NVIDIA_VISIBLE_DEVICES"`)
	if r.code != 0 || r.stdout != "void\n" {
		t.Errorf("srun --gres=none: exit %d, stdout %q, stderr %q; want void", r.code, r.stdout, r.stderr)
	}
	r = srunIn(t, j, time.Minute, "--gres=none", "sudo", "-n", testBinary, "run", "--rm", "--gpus", "1", cudaImage, "true")
	if r.code != 125 || !strings.Contains(r.stderr, "this job step may use none of your job's GPUs") {
		t.Errorf("srun --gres=none, --gpus 1: exit %d, stderr %q; want 125, no GPUs in this step", r.code, r.stderr)
	}
}

// TestMultinodeDevices: run.devices gives a job's containers the listed
// character devices, rw, and nothing else: not another device, a symlink,
// a GPU, mknod rights, or anything outside a job.
func TestMultinodeDevices(t *testing.T) {
	requireSlurm(t)
	const dir = "/dev/udtest-ib"
	os.RemoveAll(dir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []struct {
		name         string
		major, minor string
	}{{"uverbs0", "231", "192"}, {"uverbs1", "231", "193"}, {"rdma_cm", "10", "58"}} {
		if out, err := exec.Command("mknod", "-m", "0666", filepath.Join(dir, d.name), "c", d.major, d.minor).CombinedOutput(); err != nil {
			t.Fatalf("mknod %s: %v\n%s", d.name, err, out)
		}
	}
	if err := os.Symlink("/dev/null", filepath.Join(dir, "uverbs9")); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, strings.Replace(baseConfig, "[gpu]", "[run.devices]\nalways = [\""+dir+"/rdma_cm\"]\navailable = [\""+dir+"/uverbs*\"]\n\n[gpu]", 1))

	if r := ud(t, alice, nil, "run", "--rm", "--device", dir+"/uverbs0", testImage, "true"); r.code != 125 ||
		r.stderr != "userdocker: --device is allowed only inside a Slurm job on this system\n" {
		t.Errorf("--device outside a job: exit %d, stderr %q", r.code, r.stderr)
	}
	j := holdJob(t, alice, "--gres=gpu:1", "-c1", "--mem=128")
	r := inJob(t, j, nil, "run", "--rm", "--device", dir+"/uverbs1", testImage, "sh", "-c", "ls "+dir)
	if r.code != 0 || r.stdout != "rdma_cm\nuverbs1\n" {
		t.Errorf("--device %s/uverbs1: exit %d, the container's %s holds %q (stderr %q); want rdma_cm (always) and uverbs1", dir, r.code, dir, r.stdout, r.stderr)
	}
	id := startIn(t, j, nil, "--device", dir+"/uverbs0:r")
	if got := docker(t, "inspect", "-f", `{{range .HostConfig.Devices}}{{.PathOnHost}}:{{.PathInContainer}}:{{.CgroupPermissions}} {{end}}`, id); got != dir+"/rdma_cm:"+dir+"/rdma_cm:rw "+dir+"/uverbs0:"+dir+"/uverbs0:r" {
		t.Errorf("HostConfig.Devices %q, want rdma_cm rw and uverbs0 r", got)
	}
	for _, tc := range []struct {
		device, want string
	}{
		{"/dev/null", "--device /dev/null is not allowed on this system (available: " + dir + "/uverbs*)"},
		{"/dev/nvidia0", "--device /dev/nvidia0 is not allowed on this system"},
		{dir + "/uverbs9", "--device " + dir + "/uverbs9 is a symbolic link"},
		{dir + "/uverbs*", dir + "/uverbs9 is a symbolic link"},
		{dir + "/uverbs0:rwm", "only r and w are allowed on this system, not m (mknod)"},
		{dir + "/uverbs0:/dev/uverbs0", "a device keeps its path in the container"},
	} {
		before := containersOf(t, alice)
		r := inJob(t, j, nil, "run", "--rm", "--device", tc.device, testImage, "true")
		if r.code != 125 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("--device %s: exit %d, stderr %q; want 125 and %q", tc.device, r.code, r.stderr, tc.want)
		}
		if after := containersOf(t, alice); len(after) != len(before) {
			t.Errorf("a refused run left containers: %v", after)
		}
	}
}

// TestMultinodeHostNetworkTCP: a container on each node of one job, both
// on their node's network: rank 0 listens, rank 1 connects, and each reads
// the other's line with its own SLURM_PROCID (run.pass_env).
func TestMultinodeHostNetworkTCP(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, multinodeConfig)
	keepLauncherVars(t)
	j := multiJob(t)
	port := strconv.Itoa(20000 + os.Getpid()%10000)
	// SLURM_NODEID 0 is vm (10.89.0.1), 1 is vm2 (10.89.0.2), as vm2
	// and the host reach each other (docs/testing.md).
	script := `if [ "$SLURM_PROCID" = 0 ]; then
  echo "from rank $SLURM_PROCID" | nc -l -p ` + port + `
else
  i=0; until echo "from rank $SLURM_PROCID" | nc ` + node1Addr + ` ` + port + ` 2>/dev/null; do i=$((i+1)); [ $i -lt 150 ] || exit 1; sleep 0.2; done
fi`
	r := udOnNodes(t, j, "", "run", "--rm", "--network=host", testImage, "sh", "-c", script)
	got := byTask(r.stdout)
	if r.code != 0 || !slices.Equal(got["0"], []string{"from rank 1"}) || !slices.Equal(got["1"], []string{"from rank 0"}) {
		t.Errorf("rank 0 listening on %s, rank 1 connecting from %s: exit %d, each read %v (stderr %q); want the other's rank", hostNode(t), node2, r.code, got, r.stderr)
	}
}

// TestMultinodePMIxDirectory: with run.pmix = "mount", a container on the
// host network gets its job step's PMIx server directory, read-write, at
// the same path: <SlurmdSpoolDir>/pmix.<job>.<step>, with the spool
// directory from slurm.conf (%n: this node) and job and step from the
// cgroup. The directories are made by the test where slurmstepd's pmix
// plugin would make them (its steps run without --mpi=pmix; the real
// server is TestMultinodePMIxClient's), one per step the test runs: steps
// count from 0 in a job.
func TestMultinodePMIxDirectory(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, strings.Replace(multinodeConfig, "host_namespaces =", "pmix = \"mount\"\nhost_namespaces =", 1))
	keepLauncherVars(t)
	j := holdJob(t, alice, "--gres=gpu:1", "-c1", "--mem=128")
	spool := "/var/spool/slurmd/" + hostNode(t)
	dir := func(step int) string { return fmt.Sprintf("%s/pmix.%s.%d", spool, j.ID, step) }
	owners := []string{alice, alice, bob, alice}
	for step, owner := range owners {
		if err := os.Mkdir(dir(step), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir(step)) })
		if out, err := exec.Command("chown", owner+":", dir(step)).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v\n%s", dir(step), err, out)
		}
	}
	probe := func(step int) []string {
		return []string{testImage, "sh", "-c", "if [ -d " + dir(step) + " ]; then touch " + dir(step) + "/from-container && echo mounted; else echo absent; fi"}
	}
	for step, tc := range []struct {
		name string
		vars []string
		args []string
		want string
	}{
		{"on the host network", nil, []string{"--network=host"}, "mounted"},
		{"off the host network", nil, nil, "absent"},
		{"another user's directory", nil, []string{"--network=host"}, "absent"},
		{"the server's variable names another directory", []string{"PMIX_SERVER_TMPDIR=/tmp/"}, []string{"--network=host"}, "absent"},
	} {
		r := inJob(t, j, tc.vars, append(append([]string{"run", "--rm"}, tc.args...), probe(step)...)...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != tc.want {
			t.Errorf("step %d, %s: exit %d, stdout %q (stderr %q), want %s", step, tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
		fi, err := os.Stat(dir(step) + "/from-container")
		if written := err == nil; written != (tc.want == "mounted") {
			t.Errorf("step %d, %s: a file the container wrote into the directory is there: %v", step, tc.name, written)
		} else if written && fmt.Sprint(fi.Sys().(*syscall.Stat_t).Uid) != uidOf(t, alice) {
			t.Errorf("step %d: the container's file belongs to uid %d, want alice's", step, fi.Sys().(*syscall.Stat_t).Uid)
		}
	}
}

// TestMultinodeTaskGPUsTwoNodes: two tasks per node, one GPU per task: on
// each node the two containers get that node's two GPUs, one each.
func TestMultinodeTaskGPUsTwoNodes(t *testing.T) {
	requireSlurm(t)
	requireNode2(t)
	withMultiPartition(t)
	j := holdJob(t, alice, "-p", multiPartition, "-N2", "--ntasks-per-node=2", "-O", "--gres=gpu:2", "--mem=128")
	r := srunIn(t, j, 2*time.Minute, "-N2", "--ntasks-per-node=2", "-O", "--gpus-per-task=1",
		"sudo", "-n", testBinary, "run", "-d", cudaImage, "sh", "-c", quickStop)
	if r.code != 0 || len(strings.Fields(r.stdout)) != 4 {
		t.Fatalf("srun -N2 --ntasks-per-node=2 --gpus-per-task=1 run -d: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, node := range []string{hostNode(t), node2} {
		ids := jobContainersOn(t, node, j)
		for _, id := range ids {
			t.Cleanup(func() { exec.Command("docker", "-H", dockerHostOf(node), "rm", "-f", id).Run() })
		}
		var saw []string
		for _, id := range ids {
			saw = append(saw, hookSaw(t, id))
		}
		slices.Sort(saw)
		want := strings.Split(joinIndices(nodeRecord(t, j, node).GPUIndices), ",")
		if !slices.Equal(saw, want) {
			t.Errorf("on %s the two tasks' containers got GPUs %v, want one each of the node's %v", node, saw, want)
		}
	}
}

// pmixImage is a PMIx client FROM scratch (test/pmixping, built by
// scripts/testenv-pmix.sh): it initializes with its step's PMIx server,
// fences with the other ranks and prints its rank and the job's size.
const pmixImage = "ud-test/pmixping:latest"

// TestMultinodePMIxClient: `srun -n2 --mpi=pmix sudo userdocker run
// --network=host` with run.pmix = "mount": the PMIx client in each
// container reaches Slurm's PMIx server (libpmix-dev, scripts/testenv.sh),
// learns its rank and the step's size and meets the other rank in a fence,
// and libpmix uses the server's shared-memory data store in the mounted
// directory without a complaint. With run.pmix = "off" libpmix cannot lock
// that store (it says so and falls back to asking the server); off the
// host network the client cannot reach the server at all.
func TestMultinodePMIxClient(t *testing.T) {
	requireSlurm(t)
	if err := exec.Command("docker", "image", "inspect", pmixImage).Run(); err != nil {
		missing(t, pmixImage+" is not built: run scripts/testenv.sh")
	}
	keepLauncherVars(t)
	j := holdJob(t, alice, "-n2", "-c1", "--mem=128")
	config := strings.Replace(multinodeConfig, "'^ud-test/(busybox|cuda):'", "'^ud-test/(busybox|cuda|pmixping):'", 1)
	run := func(mode string, args ...string) result {
		writeConfig(t, strings.Replace(config, "host_namespaces =", "pmix = \""+mode+"\"\nhost_namespaces =", 1))
		return srunIn(t, j, 2*time.Minute, append(append([]string{"-n2", "--mpi=pmix", "--kill-on-bad-exit=0",
			"sudo", "-n", testBinary, "run", "--rm"}, args...), pmixImage)...)
	}
	ranks := []string{"pmixping: rank=0 size=2", "pmixping: rank=1 size=2"}
	sorted := func(out string) []string {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		slices.Sort(lines)
		return lines
	}
	// libpmix: "[vm:00001] PMIX ERROR: ERROR in file …/gds_ds12_lock_pthread.c at line 169"
	const storeError = "/gds_ds12_lock_pthread.c at line"

	r := run("mount", "--network=host")
	if r.code != 0 || !slices.Equal(sorted(r.stdout), ranks) || r.stderr != "" {
		t.Errorf("run.pmix = mount: exit %d, stdout %q, stderr %q; want exit 0, %q and nothing on stderr", r.code, r.stdout, r.stderr, ranks)
	}
	r = run("off", "--network=host")
	if r.code != 0 || !slices.Equal(sorted(r.stdout), ranks) || strings.Count(r.stderr, storeError) != 2 {
		t.Errorf("run.pmix = off: exit %d, stdout %q, stderr %q; want each rank's %q and a line %q from each", r.code, r.stdout, r.stderr, ranks, storeError)
	}
	r = run("mount")
	if r.code == 0 || r.stdout != "" || strings.Count(r.stderr, "pmixping: PMIx_Init: UNREACHABLE\n") != 2 {
		t.Errorf("run.pmix = mount, off the host network: exit %d, stdout %q, stderr %q; want each rank's PMIx_Init to fail UNREACHABLE", r.code, r.stdout, r.stderr)
	}
}
