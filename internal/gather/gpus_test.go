package gather

import (
	"slices"
	"testing"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/runflags"
)

// TestReservedGPUsThroughSelectGPUs: in workstation mode the edge reserves
// exactly what --gpus asked for; after rewriteDeviceIDs, plan.SelectGPUs
// grants exactly the reservation, whichever way the GPUs were named.
func TestReservedGPUsThroughSelectGPUs(t *testing.T) {
	const a, b = "GPU-4d4f434b-0000-4000-8000-000000000003", "MIG-aaaaaaaa-0000-4000-8000-000000000000"
	tests := []struct {
		name     string
		gpus     string
		reserved []string
	}{
		{"count", "2", []string{a, b}},
		{"NVML index and MIG name, quoted as docker wants", `"device=3,0:1"`, []string{a, b}},
		{"UUID", "device=" + a, []string{a}},
		{"no --gpus: the default", "", []string{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"ud-test/busybox"}
			if tt.gpus != "" {
				args = append([]string{"--gpus", tt.gpus}, args...)
			}
			req, err := runflags.Parse(args, runflags.Layers{})
			if err != nil {
				t.Fatal(err)
			}
			rewriteDeviceIDs(req, tt.reserved)
			got, err := plan.SelectGPUs(tt.reserved, req)
			if err != nil || !slices.Equal(got, tt.reserved) {
				t.Errorf("SelectGPUs = %v, %v; want exactly the reservation %v", got, err, tt.reserved)
			}
		})
	}
}
