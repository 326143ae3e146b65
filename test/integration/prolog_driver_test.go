//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/userdocker/userdocker/test/harness"
	"golang.org/x/sys/unix"
)

// TestSlurmDriverWithoutNVMLRefusesGPUs: on a node whose NVIDIA driver is
// there but whose NVML cannot be loaded, the installed ud-prolog records
// gpu_error for a real job instead of its GRES indices, and userdocker,
// through srun and sudo as the job's owner, then refuses to run with the
// job's GPUs and starts nothing. The prolog is run as slurmd runs it, with
// the job's environment, over the record slurmd's own run wrote, with
// --driver-root at a directory where the driver looks present: the
// machine's own / (which other suites see) keeps no driver.
func TestSlurmDriverWithoutNVMLRefusesGPUs(t *testing.T) {
	requireSlurm(t)
	j := holdJob(t, alice, "--gres=gpu:2", "-c1", "--mem=128")
	rec := jobRecord(t, j)
	if !rec.GPUIDsAreIndices {
		t.Skipf("this machine's prolog did not record plain indices (an NVIDIA driver?): %+v", rec)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(root, "dev", "nvidiactl"), unix.S_IFCHR|0o666, int(unix.Mkdev(195, 255))); err != nil {
		t.Fatalf("mknod: %v", err)
	}
	prolog := exec.Command(prologPath, "--driver-root", root)
	prolog.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"SLURM_JOB_ID=" + j.ID, "SLURM_JOB_UID=" + uidOf(t, alice), "SLURM_JOB_GID=" + strconv.FormatUint(uint64(rec.GID), 10),
		"SLURM_JOB_USER=" + alice, "SLURM_JOB_GPUS=" + joinIndices(jobGPUs(t, j)), "SLURMD_NODENAME=" + rec.Node,
	}
	if r := harness.Run(t, prolog); r.Code != 0 {
		t.Fatalf("ud-prolog for job %s: exit %d (a failed prolog drains the node)\n%s", j.ID, r.Code, r.Stderr)
	}
	reason := "NVML cannot be loaded, but this node has an NVIDIA driver (" + root + "/dev/nvidiactl): a GRES index could name another job's GPU"
	got := jobRecord(t, j)
	if got.GPUIDsAreIndices || len(got.GPUUUIDs) != 0 || got.GPUError != reason {
		t.Fatalf("record after the prolog: indices usable %v, UUIDs %v, gpu_error %q; want not usable, none, %q",
			got.GPUIDsAreIndices, got.GPUUUIDs, got.GPUError, reason)
	}

	before := containersOf(t, alice)
	refusal := fmt.Sprintf("userdocker: job %s: your job's GPUs (Slurm GRES %s) cannot be given to containers on this node: %s; tell your admin\n",
		j.ID, joinIndices(got.GPUIndices), reason)
	if r := inJob(t, j, nil, "run", "--rm", cudaImage, "true"); r.code != 125 || withoutSrunLines(r.stderr) != refusal {
		t.Errorf("run in job %s: exit %d, stderr %q; want 125 and %q", j.ID, r.code, r.stderr, refusal)
	}
	if after := containersOf(t, alice); len(after) != len(before) {
		t.Errorf("a refused run left containers: %v", after)
	}
}
