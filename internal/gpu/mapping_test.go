package gpu

import (
	"slices"
	"testing"
)

func TestMapSlurmIndices(t *testing.T) {
	// NVML index i has minor 7-i, as on a machine where NVML orders GPUs
	// by PCI bus and the driver numbered the device files the other way.
	s := newMock(t, reversed)
	devs, err := openMock(t, s).Devices()
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	uuid := func(nvmlIndex int) string { return mockDevice(s, nvmlIndex).UUID }

	four := []string{"/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia2", "/dev/nvidia3"}
	identity := map[string]int{"/dev/nvidia0": 0, "/dev/nvidia1": 1, "/dev/nvidia2": 2, "/dev/nvidia3": 3}

	tests := []struct {
		name    string
		files   []string
		minors  map[string]int
		devices []Device
		indices []int
		want    []string
		wantErr string
	}{
		{
			name:  "GRES index goes through the minor, not the NVML index",
			files: four, minors: identity, devices: devs,
			indices: []int{0, 2},
			want:    []string{uuid(7), uuid(5)},
		},
		{
			name:  "order of indices is kept",
			files: four, minors: identity, devices: devs,
			indices: []int{3, 1},
			want:    []string{uuid(4), uuid(6)},
		},
		{
			name:   "gres.conf order differs from file names",
			files:  []string{"/dev/nvidia3", "/dev/nvidia2", "/dev/nvidia1", "/dev/nvidia0"},
			minors: identity, devices: devs,
			indices: []int{0},
			want:    []string{uuid(4)},
		},
		{
			name:    "symlinked file with another minor",
			files:   []string{"/dev/gpu-a", "/dev/gpu-b"},
			minors:  map[string]int{"/dev/gpu-a": 6, "/dev/gpu-b": 0},
			devices: devs,
			indices: []int{1, 0},
			want:    []string{uuid(7), uuid(1)},
		},
		{
			name: "no GPUs", files: four, minors: identity, devices: devs,
			indices: nil, want: []string{},
		},
		{
			name: "index past the end of gres.conf", files: four, minors: identity, devices: devs,
			indices: []int{4},
			wantErr: "GRES index 4 out of range: gres.conf lists 4 GPU device files",
		},
		{
			name: "negative index", files: four, minors: identity, devices: devs,
			indices: []int{-1},
			wantErr: "GRES index -1 out of range: gres.conf lists 4 GPU device files",
		},
		{
			name: "empty gres.conf", files: nil, minors: identity, devices: devs,
			indices: []int{0},
			wantErr: "GRES index 0 out of range: gres.conf lists 0 GPU device files",
		},
		{
			name: "index twice", files: four, minors: identity, devices: devs,
			indices: []int{1, 1},
			wantErr: "GRES index 1 listed twice",
		},
		{
			name: "file not stat'ed", files: four, minors: map[string]int{"/dev/nvidia0": 0}, devices: devs,
			indices: []int{0, 1},
			wantErr: "GRES index 1: no minor number known for /dev/nvidia1",
		},
		{
			name: "minor without NVML device", files: []string{"/dev/nvidia9"},
			minors: map[string]int{"/dev/nvidia9": 9}, devices: devs,
			indices: []int{0},
			wantErr: "GRES index 0: no NVML device has minor number 9 (/dev/nvidia9)",
		},
		{
			name: "NVML reports a minor twice", files: four, minors: identity,
			devices: []Device{{Index: 0, Minor: 1, UUID: "GPU-a"}, {Index: 1, Minor: 1, UUID: "GPU-b"}},
			indices: []int{1},
			wantErr: "NVML devices 0 and 1 both have minor number 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MapSlurmIndices(tc.files, tc.minors, nil, tc.devices, tc.indices)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q (result %v)", err, tc.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("MapSlurmIndices() = %v, want %v", got, tc.want)
			}
		})
	}
}
