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

// jobInfo is what the edge learned of the caller's job: the facts plan
// judges, and the record and cgroup they came from.
type jobInfo struct {
	job  *plan.Job // nil outside a job
	gpus []string  // the GPUs this process's job step and task may use
	ref  alloc.JobRef
	rec  alloc.Record
}

// jobFacts finds the caller's Slurm job and its GPUs, CPUs and memory. The
// job and its step come from the kernel, its owner and GPUs from
// ud-prolog's record, narrowed to the step's and task's by the kernel's
// devices cgroup (stepGPUAccess); the environment (SLURM_JOB_ID,
// SLURM_STEP_GPUS, CUDA_VISIBLE_DEVICES, NV_GPU) decides nothing.
// Outside a job, and with GPUs the prolog could not map, plan decides.
func jobFacts(env Env) (jobInfo, error) {
	pol := env.Policy
	if pol.GPU.Source == "reserve" {
		return jobInfo{}, nil // workstation mode: no Slurm
	}
	data, err := os.ReadFile(procSelfCgroup)
	if err != nil {
		return jobInfo{}, fmt.Errorf("find your job: %w", err)
	}
	ref, err := alloc.JobFromCgroup(data)
	if errors.Is(err, alloc.ErrNotInJob) {
		if err := plan.CheckOutsideJob(pol); err != nil {
			return jobInfo{}, err
		}
		env.debugf("outside any Slurm job: slurm.outside_job = %q: no GPUs, no job confinement", pol.Slurm.OutsideJob)
		return jobInfo{}, nil
	}
	if err != nil {
		return jobInfo{}, fmt.Errorf("find your job: %w", err)
	}
	rec, err := alloc.ReadRecord(pol.Slurm.StateDir, ref.Key(), env.Who.UID)
	if err != nil {
		return jobInfo{}, fmt.Errorf("job %s: %w", ref.Key(), err)
	}
	lim, err := alloc.JobLimits(data, alloc.DefaultCgroupRoot)
	if err != nil {
		return jobInfo{}, fmt.Errorf("job %s: %w", ref.Key(), err)
	}
	info := jobInfo{ref: ref, rec: rec,
		job: &plan.Job{ID: rec.JobID, CPUs: lim.CPUs, Mems: lim.Mems, MemoryBytes: lim.MemoryBytes, Step: ref.Step}}
	job := info.job
	if pol.GPU.Source == "none" {
		return info, nil
	}
	job.GPUError, job.GPUIndices = rec.GPUError, rec.GPUIndices
	if err := plan.CheckJobGPUs(job); err != nil {
		env.debugf("job %s: ud-prolog recorded gpu_error %q for GRES indices %v: no GPU is granted, run refused", rec.JobID, rec.GPUError, rec.GPUIndices)
		return jobInfo{}, err
	}
	all := jobGPUs(rec)
	if info.gpus, err = plan.StepGPUs(job, all, stepGPUAccess(rec.GPUDevices)); err != nil {
		return jobInfo{}, err
	}
	env.debugf("job %s step %q: GPUs %v of the job's %v, CPUs %q, memory %d bytes", job.ID, job.Step, info.gpus, all, job.CPUs, job.MemoryBytes)
	return info, nil
}

// jobRecord is the caller's job's allocation record and the key it is
// filed under.
type jobRecord struct {
	alloc.Record
	Key string
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
