package plan

import (
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// TestJobChecks: each of the job's checks, with a job (or policy) that
// passes and one that breaks one fact, and its refusal's rule and message.
func TestJobChecks(t *testing.T) {
	withOutside := func(mode string) *policy.Policy {
		p := basePolicy()
		p.Slurm.OutsideJob = mode
		return p
	}
	limited := basePolicy()
	limited.Slurm.MaxContainersPerJob = 2
	tests := []struct {
		name string
		err  error
		rule string
		msg  string
	}{
		{name: "outside a job, denied", err: CheckOutsideJob(withOutside("deny")), rule: "job",
			msg: `containers run only inside a Slurm job on this system (slurm.outside_job = "deny"): srun [--gres=gpu:N] userdocker run ...`},
		{name: "outside a job, no GPU", err: CheckOutsideJob(withOutside("no-gpu"))},
		{name: "outside a job, allowed", err: CheckOutsideJob(withOutside("allow"))},

		{name: "GPUs mapped", err: CheckJobGPUs(&Job{ID: "7", GPUIndices: []int{0, 2}})},
		{name: "no job", err: CheckJobGPUs(nil)},
		{name: "gpu_error refuses", err: CheckJobGPUs(&Job{ID: "7", GPUIndices: []int{0, 2}, GPUError: "GRES index 2 out of range:\ngres.conf lists 1 GPU device files"}),
			rule: "gpus", msg: "job 7: your job's GPUs (Slurm GRES 0,2) cannot be given to containers on this node: GRES index 2 out of range: gres.conf lists 1 GPU device files; tell your admin"},
		{name: "gpu_error with one index", err: CheckJobGPUs(&Job{ID: "8", GPUIndices: []int{1}, GPUError: "list GPUs: boom"}),
			rule: "gpus", msg: "job 8: your job's GPUs (Slurm GRES 1) cannot be given to containers on this node: list GPUs: boom; tell your admin"},

		{name: "room for one more", err: CheckJobContainers(limited, &Job{ID: "42", Containers: 1})},
		{name: "outside a job, nothing to count", err: CheckJobContainers(limited, nil)},
		{name: "the job is full", err: CheckJobContainers(limited, &Job{ID: "42", Containers: 2}), rule: "containers-per-job",
			msg: "your job 42 has 2 containers on this node, the most allowed (slurm.max_containers_per_job = 2): remove one first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, tt.err, tt.rule, tt.msg)
		})
	}
}

// checkRefusal fails the test unless err is exactly one refusal of rule
// with msg, or nil when rule is "".
func checkRefusal(t *testing.T, err error, rule, msg string) {
	t.Helper()
	rs := refusal.All(err)
	switch {
	case rule == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case rule != "" && (len(rs) != 1 || rs[0].Rule != rule || rs[0].Msg != msg):
		t.Fatalf("error %v; want one %s refusal %q", err, rule, msg)
	}
}
