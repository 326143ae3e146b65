package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

// procSelfCgroup is where the kernel says which job the caller runs in;
// sudo keeps the caller's cgroup, so this is the caller's job.
const procSelfCgroup = "/proc/self/cgroup"

// jobFacts finds the caller's Slurm job and its GPUs, CPUs and memory. The
// job comes from the kernel, its owner and GPUs from ud-prolog's record; the
// environment (SLURM_JOB_ID, CUDA_VISIBLE_DEVICES, NV_GPU) decides nothing.
func (a *app) jobFacts() (*plan.Job, []string, error) {
	if a.pol.GPU.Source == "reserve" {
		return nil, nil, nil // workstation mode: no Slurm
	}
	data, err := os.ReadFile(procSelfCgroup)
	if err != nil {
		return nil, nil, fmt.Errorf("find your job: %w", err)
	}
	ref, err := alloc.JobFromCgroup(data)
	if errors.Is(err, alloc.ErrNotInJob) {
		return nil, nil, a.outsideJob()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find your job: %w", err)
	}
	rec, err := alloc.ReadRecord(a.pol.Slurm.StateDir, ref.Key(), a.who.UID)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: %w", ref.Key(), err)
	}
	lim, err := alloc.JobLimits(data, alloc.DefaultCgroupRoot)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: %w", ref.Key(), err)
	}
	job := &plan.Job{ID: rec.JobID, CPUs: lim.CPUs, MemoryBytes: lim.MemoryBytes}
	if a.pol.GPU.Source == "none" {
		return job, nil, nil
	}
	gpus, err := jobGPUs(rec)
	if err != nil {
		a.debugf("job %s: ud-prolog recorded gpu_error %q for GRES indices %v: no GPU is granted, run refused", rec.JobID, rec.GPUError, rec.GPUIndices)
		return nil, nil, a.refuse(err)
	}
	a.debugf("job %s: GPUs %v, CPUs %q, memory %d bytes", job.ID, gpus, job.CPUs, job.MemoryBytes)
	return job, gpus, nil
}

// outsideJob applies slurm.outside_job to a call from outside any Slurm job
// (gpu.source "slurm" or "none"):
//
//   - "deny" (the default): run is refused, naming srun;
//   - "no-gpu": the container runs without GPUs (NVIDIA_VISIBLE_DEVICES=void,
//     --gpus refused), without job labels and without job confinement of
//     CPUs or memory: no job means nothing to confine to, and nothing
//     removes the container but its owner;
//   - "allow": the same as "no-gpu". Outside a job there is no allocation
//     to take GPUs from, and userdocker never hands out a GPU that Slurm
//     has not allocated, so "allow" cannot mean more; it is kept because
//     configurations use it.
func (a *app) outsideJob() error {
	if a.pol.Slurm.OutsideJob == "deny" {
		return a.refuse(&refusal.Refusal{Rule: "job", Msg: "containers run only inside a Slurm job on this system (slurm.outside_job = \"deny\"): srun [--gres=gpu:N] userdocker run ..."})
	}
	a.debugf("outside any Slurm job: slurm.outside_job = %q: no GPUs, no job confinement", a.pol.Slurm.OutsideJob)
	return nil
}

// jobGPUs returns the IDs under which a job's GPUs reach Docker: NVML UUIDs,
// or Slurm's GRES indices where the node has no NVML. A record with a
// gpu_error (ud-prolog could not tell which GPUs the indices are) grants
// nothing and refuses the run with the prolog's reason: a job that asked for
// GPUs must not run silently without them, nor with guessed ones.
func jobGPUs(rec alloc.Record) ([]string, error) {
	if rec.GPUError != "" {
		return nil, &refusal.Refusal{Rule: "gpus", Msg: fmt.Sprintf(
			"job %s: your job's GPUs (Slurm GRES %s) cannot be given to containers on this node: %s; tell your admin",
			rec.JobID, joinInts(rec.GPUIndices), strings.Join(strings.Fields(rec.GPUError), " "))}
	}
	if !rec.GPUIDsAreIndices {
		return rec.GPUUUIDs, nil
	}
	var ids []string
	for _, i := range rec.GPUIndices {
		ids = append(ids, strconv.Itoa(i))
	}
	return ids, nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
