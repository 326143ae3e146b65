package gather

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/plan"
)

// procSelfCgroup is where the kernel says which job the caller runs in;
// sudo keeps the caller's cgroup, so this is the caller's job.
const procSelfCgroup = "/proc/self/cgroup"

// jobFacts finds the caller's Slurm job and its GPUs, CPUs and memory. The
// job comes from the kernel, its owner and GPUs from ud-prolog's record; the
// environment (SLURM_JOB_ID, CUDA_VISIBLE_DEVICES, NV_GPU) decides nothing.
// Outside a job, and with GPUs the prolog could not map, plan decides.
func jobFacts(env Env) (*plan.Job, []string, error) {
	pol := env.Policy
	if pol.GPU.Source == "reserve" {
		return nil, nil, nil // workstation mode: no Slurm
	}
	data, err := os.ReadFile(procSelfCgroup)
	if err != nil {
		return nil, nil, fmt.Errorf("find your job: %w", err)
	}
	ref, err := alloc.JobFromCgroup(data)
	if errors.Is(err, alloc.ErrNotInJob) {
		if err := plan.CheckOutsideJob(pol); err != nil {
			return nil, nil, err
		}
		env.debugf("outside any Slurm job: slurm.outside_job = %q: no GPUs, no job confinement", pol.Slurm.OutsideJob)
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find your job: %w", err)
	}
	rec, err := alloc.ReadRecord(pol.Slurm.StateDir, ref.Key(), env.Who.UID)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: %w", ref.Key(), err)
	}
	lim, err := alloc.JobLimits(data, alloc.DefaultCgroupRoot)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: %w", ref.Key(), err)
	}
	job := &plan.Job{ID: rec.JobID, CPUs: lim.CPUs, MemoryBytes: lim.MemoryBytes}
	if pol.GPU.Source == "none" {
		return job, nil, nil
	}
	job.GPUError, job.GPUIndices = rec.GPUError, rec.GPUIndices
	if err := plan.CheckJobGPUs(job); err != nil {
		env.debugf("job %s: ud-prolog recorded gpu_error %q for GRES indices %v: no GPU is granted, run refused", rec.JobID, rec.GPUError, rec.GPUIndices)
		return nil, nil, err
	}
	gpus := jobGPUs(rec)
	env.debugf("job %s: GPUs %v, CPUs %q, memory %d bytes", job.ID, gpus, job.CPUs, job.MemoryBytes)
	return job, gpus, nil
}

// jobGPUs returns the IDs under which a job's GPUs reach Docker: NVML
// UUIDs, or Slurm's GRES indices where the node has no NVML.
func jobGPUs(rec alloc.Record) []string {
	if !rec.GPUIDsAreIndices {
		return rec.GPUUUIDs
	}
	var ids []string
	for _, i := range rec.GPUIndices {
		ids = append(ids, strconv.Itoa(i))
	}
	return ids
}
