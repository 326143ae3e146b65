package plan

import (
	"fmt"

	"github.com/userdocker/userdocker/internal/refusal"
)

// GPUAccess is what the kernel says about one of a job's GPUs for the
// calling process: whether the devices cgroup of its job step, and of its
// task where Slurm confines tasks, lets it open the GPU's device files.
// userdocker asks from its own process, which sudo leaves in the
// caller's cgroup (access(2), which the devices controller answers on
// cgroup v1, and the step's and task's BPF device programs on v2).
type GPUAccess struct {
	// Files are the GPU's device files, as ud-prolog recorded them.
	Files []string
	// Denied: the kernel refused one of Files to this process (EPERM).
	Denied bool
	// Err is why a file could not be asked about (missing, not a
	// character device), nil when each could.
	Err error
}

// StepGPUs narrows a job's GPUs (ids, in the record's order) to those the
// caller's step and task may use (access, one per GPU, in the same
// order): srun --gpus-per-task=1 gives each task one of the job's GPUs,
// srun --gres=gpu:1 a step one, srun --gres=none none. The record stays
// the only source of what may be granted; the kernel's answer can only
// take from it. Slurm's step and task variables (SLURM_STEP_GPUS,
// CUDA_VISIBLE_DEVICES) are not asked: under ConstrainDevices they count
// from 0 in every task, and the caller can write them.
//
// Without access (a record of an older prolog, or none of its GPUs'
// files known) every GPU of the job stays. A GPU whose files cannot be
// asked about refuses the run: its node is not as ud-prolog recorded it.
func StepGPUs(job *Job, ids []string, access []GPUAccess) ([]string, error) {
	if len(access) == 0 {
		return ids, nil
	}
	if len(access) != len(ids) {
		return nil, fmt.Errorf("job %s: the record names device files for %d GPUs, and %d GPUs", job.ID, len(access), len(ids))
	}
	var out []string
	for i, a := range access {
		if a.Err != nil {
			return nil, refusal.New("gpus", "job %s: your job's GPU %s cannot be checked on this node: %v; tell your admin", job.ID, ids[i], a.Err)
		}
		if !a.Denied {
			out = append(out, ids[i])
		}
	}
	return out, nil
}

// stepWithoutGPUs reports whether f's job has GPUs of which the caller's
// step or task may use none.
func stepWithoutGPUs(f Facts) bool {
	return f.Job != nil && len(f.Job.GPUIndices) > 0 && f.Job.GPUError == "" && len(f.GPUs) == 0
}
