package plan

import (
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// The checks of the caller's job that the edge asks for as it learns the
// job, before there is a request to Build: whether a call from outside
// any job may run, whether the job's GPUs can be granted, and whether
// the job has room for one more container.

// CheckOutsideJob applies slurm.outside_job to a call from outside any
// Slurm job (gpu.source "slurm" or "none"):
//
//   - "deny" (the default): the run is refused, naming srun;
//   - "no-gpu": the container runs without GPUs (NVIDIA_VISIBLE_DEVICES=void,
//     --gpus refused), without job labels and without job confinement of
//     CPUs or memory: no job means nothing to confine to, and nothing
//     removes the container but its owner;
//   - "allow": the same as "no-gpu". Outside a job there is no allocation
//     to take GPUs from, and userdocker never hands out a GPU that Slurm
//     has not allocated, so "allow" cannot mean more; it is kept because
//     configurations use it.
func CheckOutsideJob(pol *policy.Policy) error {
	if pol.Slurm.OutsideJob == "deny" {
		return refusal.New("job", "containers run only inside a Slurm job on this system (slurm.outside_job = \"deny\"): srun [--gres=gpu:N] userdocker run ...").By("slurm.outside_job")
	}
	return nil
}

// CheckJobGPUs refuses a run in a job whose GPUs ud-prolog could not map
// (job.GPUError): a job that asked for GPUs must not run silently without
// them, nor with guessed ones. The refusal gives the prolog's reason.
func CheckJobGPUs(job *Job) error {
	if job == nil || job.GPUError == "" {
		return nil
	}
	indices := make([]string, len(job.GPUIndices))
	for i, x := range job.GPUIndices {
		indices[i] = strconv.Itoa(x)
	}
	return refusal.New("gpus", "job %s: your job's GPUs (Slurm GRES %s) cannot be given to containers on this node: %s; tell your admin",
		job.ID, strings.Join(indices, ","), strings.Join(strings.Fields(job.GPUError), " "))
}

// CheckJobContainers refuses one more container for a job that has
// slurm.max_containers_per_job on this node already. Every container of a
// job, in any state, costs ud-epilog time when the job ends, and an epilog
// that overruns slurmd's PrologEpilogTimeout drains the node (DESIGN.md
// §3.11). Build cannot judge it: the count is a fact of the moment of
// creation, which the edge gathers under the job's lock (Job.Containers)
// and holds until the container exists, so concurrent runs cannot
// together pass the limit. Outside a job there is no epilog to protect.
func CheckJobContainers(pol *policy.Policy, job *Job) error {
	limit := pol.Slurm.MaxContainersPerJob
	if job == nil || job.Containers < limit {
		return nil
	}
	return refusal.New("containers-per-job",
		"your job %s has %d containers on this node, the most allowed (slurm.max_containers_per_job = %d): remove one first",
		job.ID, job.Containers, limit).By("slurm.max_containers_per_job")
}
