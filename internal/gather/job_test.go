package gather

import (
	"slices"
	"testing"

	"github.com/userdocker/userdocker/internal/alloc"
)

func TestJobGPUs(t *testing.T) {
	uuids := []string{"GPU-4d4f434b-0000-4000-8000-000000000007", "GPU-4d4f434b-0000-4000-8000-000000000005"}
	cases := []struct {
		name string
		rec  alloc.Record
		want []string
	}{
		{name: "uuids", rec: alloc.Record{JobID: "7", GPUIndices: []int{0, 2}, GPUUUIDs: uuids}, want: uuids},
		{name: "indices without NVML", rec: alloc.Record{JobID: "7", GPUIndices: []int{1, 3}, GPUIDsAreIndices: true}, want: []string{"1", "3"}},
		{name: "no GPUs", rec: alloc.Record{JobID: "7", GPUUUIDs: []string{}}, want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := jobGPUs(tc.rec); !slices.Equal(got, tc.want) {
				t.Errorf("jobGPUs() = %v; want %v", got, tc.want)
			}
		})
	}
}
