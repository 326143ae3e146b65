package gpu

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

const migMinors = `config 1
monitor 2
gpu0/gi0/access 3
gpu0/gi0/ci0/access 4
gpu7/gi1/access 21
gpu7/gi1/ci0/access 22
gpu7/gi1/ci1/access 23
gpu7/gi2/access 30
gpu7/gi2/ci0/access 31
gpu6/gi1/access 40
gpu6/gi1/ci0/access 41
gpu7/gi3/access 49
gpu7/gi3/ci0/access 50
`

func TestParseMIGMinors(t *testing.T) {
	got, err := ParseMIGMinors(migMinors)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]MIGCap{
		3: {GPUMinor: 0, GI: 0, CI: -1}, 4: {GPUMinor: 0, GI: 0, CI: 0},
		21: {GPUMinor: 7, GI: 1, CI: -1}, 22: {GPUMinor: 7, GI: 1, CI: 0}, 23: {GPUMinor: 7, GI: 1, CI: 1},
		30: {GPUMinor: 7, GI: 2, CI: -1}, 31: {GPUMinor: 7, GI: 2, CI: 0},
		40: {GPUMinor: 6, GI: 1, CI: -1}, 41: {GPUMinor: 6, GI: 1, CI: 0},
		49: {GPUMinor: 7, GI: 3, CI: -1}, 50: {GPUMinor: 7, GI: 3, CI: 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMIGMinors =\n%v\nwant\n%v", got, want)
	}
	if _, err := ParseMIGMinors("gpu0/gi0/access x\n"); err == nil || err.Error() != MIGMinorsPath+` line 1: minor "x" is not a number` {
		t.Errorf("ParseMIGMinors(bad minor) = %v", err)
	}
}

// migMock splits NVML GPU 0 (minor 7 in the reversed mock) into MIG
// devices: slot 0 = GI 1/CI 0, slot 1 = GI 1/CI 1, slot 2 = GI 2/CI 0,
// listed by NVML in an order unrelated to gres.conf's.
func migMock(t *testing.T) (*dgxa100.Server, []string) {
	t.Helper()
	s := newMock(t, reversed)
	d := mockDevice(s, 0)
	d.MigMode = nvml.DEVICE_MIG_ENABLE
	type inst struct{ gi, ci int }
	insts := []inst{{1, 0}, {1, 1}, {2, 0}}
	var uuids []string
	d.GetMaxMigDeviceCountFunc = func() (int, nvml.Return) { return 7, nvml.SUCCESS }
	handles := map[int]nvml.Device{}
	for slot, in := range insts {
		uuid := "MIG-" + strings.Repeat(string(rune('a'+slot)), 8) + "-0000-4000-8000-000000000000"
		uuids = append(uuids, uuid)
		handles[slot] = &mock.Device{
			GetUUIDFunc:              func() (string, nvml.Return) { return uuid, nvml.SUCCESS },
			GetNameFunc:              func() (string, nvml.Return) { return "A100 MIG", nvml.SUCCESS },
			GetMemoryInfoFunc:        func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.SUCCESS },
			GetGpuInstanceIdFunc:     func() (int, nvml.Return) { return in.gi, nvml.SUCCESS },
			GetComputeInstanceIdFunc: func() (int, nvml.Return) { return in.ci, nvml.SUCCESS },
		}
	}
	d.GetMigDeviceHandleByIndexFunc = func(n int) (nvml.Device, nvml.Return) {
		if h, ok := handles[n]; ok {
			return h, nvml.SUCCESS
		}
		return nil, nvml.ERROR_NOT_FOUND
	}
	return s, uuids
}

func TestMapSlurmIndicesMIG(t *testing.T) {
	s, migs := migMock(t)
	devs, err := openMock(t, s).Devices()
	if err != nil {
		t.Fatal(err)
	}
	caps, err := ParseMIGMinors(migMinors)
	if err != nil {
		t.Fatal(err)
	}
	capFile := func(n int) string { return "/dev/nvidia-caps/nvidia-cap" + strconv.Itoa(n) }
	// GRES 0: NVML GPU 1 whole (minor 6); GRES 1-3: MIG devices of NVML
	// GPU 0 (minor 7), in an order unlike NVML's slots.
	files := []string{
		"/dev/nvidia6",
		"/dev/nvidia7," + capFile(30) + "," + capFile(31),
		"/dev/nvidia7," + capFile(21) + "," + capFile(23),
		"/dev/nvidia7," + capFile(21) + "," + capFile(22),
	}
	minors := map[string]int{"/dev/nvidia6": 6, "/dev/nvidia7": 7}
	for _, n := range []int{21, 22, 23, 30, 31, 4, 41, 49, 50} {
		minors[capFile(n)] = n
	}
	tests := []struct {
		name    string
		files   []string
		indices []int
		want    []string
		wantErr string
	}{
		{"MIG devices by instance IDs, not position", files, []int{1, 2, 3}, []string{migs[2], migs[1], migs[0]}, ""},
		{"whole GPU and MIG device", files, []int{0, 3}, []string{mockDevice(s, 1).UUID, migs[0]}, ""},
		{"capability of another GPU", []string{"/dev/nvidia7," + capFile(21) + "," + capFile(41)}, []int{0}, nil,
			"GRES index 0: /dev/nvidia-caps/nvidia-cap41 belongs to the GPU with minor 6, not 7"},
		{"capability unknown to the driver", []string{"/dev/nvidia7," + capFile(21) + "," + capFile(99)}, []int{0}, nil,
			"GRES index 0: no minor number known for /dev/nvidia-caps/nvidia-cap99"},
		{"no compute instance", []string{"/dev/nvidia7," + capFile(21)}, []int{0}, nil,
			"GRES index 0: a MIG entry needs a GPU device file and the GPU and compute instance capability files"},
		{"capability of GPU minor 0", []string{"/dev/nvidia7," + capFile(4)}, []int{0}, nil,
			"GRES index 0: /dev/nvidia-caps/nvidia-cap4 belongs to the GPU with minor 0, not 7"},
		{"no such MIG device", []string{"/dev/nvidia7," + capFile(49) + "," + capFile(50)}, []int{0}, nil,
			"GRES index 0: NVML GPU 0 has 0 MIG devices with GPU instance 3 and compute instance 0, want exactly one"},
		{"two GPU files", []string{"/dev/nvidia7,/dev/nvidia6," + capFile(22)}, []int{0}, nil,
			"GRES index 0: two GPU device files in one MultipleFiles= entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MapSlurmIndices(tt.files, minors, caps, devs, tt.indices)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("MapSlurmIndices = %v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("MapSlurmIndices = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
