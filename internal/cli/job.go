package cli

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
		if a.pol.Slurm.OutsideJob == "deny" {
			return nil, nil, a.refuse(&plan.Refusal{Rule: "job", Msg: "containers run only inside a Slurm job on this system: srun [--gres=gpu:N] userdocker run ..."})
		}
		a.debugf("outside any Slurm job: slurm.outside_job = %q, no GPUs", a.pol.Slurm.OutsideJob)
		return nil, nil, nil
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
	gpus := rec.GPUUUIDs
	if rec.GPUIDsAreIndices {
		gpus = nil
		for _, i := range rec.GPUIndices {
			gpus = append(gpus, strconv.Itoa(i))
		}
	}
	a.debugf("job %s: GPUs %v, CPUs %q, memory %d bytes", job.ID, gpus, job.CPUs, job.MemoryBytes)
	return job, gpus, nil
}
