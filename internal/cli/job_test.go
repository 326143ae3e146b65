package cli

import (
	"slices"
	"testing"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/refusal"
)

func TestJobGPUs(t *testing.T) {
	uuids := []string{"GPU-4d4f434b-0000-4000-8000-000000000007", "GPU-4d4f434b-0000-4000-8000-000000000005"}
	cases := []struct {
		name    string
		rec     alloc.Record
		want    []string
		wantMsg string
	}{
		{name: "uuids", rec: alloc.Record{JobID: "7", GPUIndices: []int{0, 2}, GPUUUIDs: uuids}, want: uuids},
		{name: "indices without NVML", rec: alloc.Record{JobID: "7", GPUIndices: []int{1, 3}, GPUIDsAreIndices: true}, want: []string{"1", "3"}},
		{name: "no GPUs", rec: alloc.Record{JobID: "7", GPUUUIDs: []string{}}, want: nil},
		{
			name:    "gpu_error refuses",
			rec:     alloc.Record{JobID: "7", GPUIndices: []int{0, 2}, GPUError: "GRES index 2 out of range:\ngres.conf lists 1 GPU device files"},
			wantMsg: "job 7: your job's GPUs (Slurm GRES 0,2) cannot be given to containers on this node: GRES index 2 out of range: gres.conf lists 1 GPU device files; tell your admin",
		},
		{
			name:    "gpu_error wins over indices",
			rec:     alloc.Record{JobID: "8", GPUIndices: []int{1}, GPUIDsAreIndices: true, GPUError: "list GPUs: boom"},
			wantMsg: "job 8: your job's GPUs (Slurm GRES 1) cannot be given to containers on this node: list GPUs: boom; tell your admin",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jobGPUs(tc.rec)
			if tc.wantMsg != "" {
				rs := refusal.All(err)
				if len(rs) != 1 || rs[0].Msg != tc.wantMsg || rs[0].Rule != "gpus" {
					t.Fatalf("jobGPUs() error = %v, want one gpus refusal %q", err, tc.wantMsg)
				}
				if got != nil {
					t.Errorf("jobGPUs() = %v with a refusal, want no GPUs", got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("jobGPUs() = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
