package gpureserve

import (
	"reflect"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/gpu"
	"github.com/userdocker/userdocker/internal/gpuuse"
	"github.com/userdocker/userdocker/internal/refusal"
)

const (
	mig0 = "MIG-00000000-0000-4000-8000-000000000000"
	mig1 = "MIG-11111111-0000-4000-8000-000000000000"
)

// node reads go-nvml's DGX A100 mock through internal/gpu: minors 7-i,
// GPU 0 split into MIG devices 0:0 and 0:1, a compute process (pid 300)
// on GPU 3, 600 MiB in use on GPU 4. It returns the snapshot and the
// GPUs' UUIDs by NVML index.
func node(t *testing.T) (gpuuse.Snapshot, []string) {
	t.Helper()
	s := dgxa100.New()
	var uuids []string
	for i, h := range s.Devices {
		d := h.(*dgxa100.Device)
		d.Minor = 7 - i
		var ps []nvml.ProcessInfo
		if i == 3 {
			ps = []nvml.ProcessInfo{{Pid: 300, UsedGpuMemory: 1 << 30}}
		}
		d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return ps, nvml.SUCCESS }
		uuids = append(uuids, d.UUID)
	}
	s.Devices[4].(*dgxa100.Device).MemoryInfo.Used = 600 << 20
	d0 := s.Devices[0].(*dgxa100.Device)
	d0.MigMode = nvml.DEVICE_MIG_ENABLE
	migs := []string{mig0, mig1}
	d0.GetMaxMigDeviceCountFunc = func() (int, nvml.Return) { return 7, nvml.SUCCESS }
	d0.GetMigDeviceHandleByIndexFunc = func(n int) (nvml.Device, nvml.Return) {
		if n >= len(migs) {
			return nil, nvml.ERROR_NOT_FOUND
		}
		uuid := migs[n]
		return &mock.Device{
			GetUUIDFunc:                    func() (string, nvml.Return) { return uuid, nvml.SUCCESS },
			GetGpuInstanceIdFunc:           func() (int, nvml.Return) { return 1, nvml.SUCCESS },
			GetComputeInstanceIdFunc:       func() (int, nvml.Return) { return 0, nvml.SUCCESS },
			GetNameFunc:                    func() (string, nvml.Return) { return "A100 MIG 3g.20gb", nvml.SUCCESS },
			GetMemoryInfoFunc:              func() (nvml.Memory, nvml.Return) { return nvml.Memory{Total: 20 << 30}, nvml.SUCCESS },
			GetComputeRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) { return nil, nvml.SUCCESS },
		}, nvml.SUCCESS
	}
	lib, err := gpu.New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	var snap gpuuse.Snapshot
	if snap.Devices, err = lib.Devices(); err != nil {
		t.Fatal(err)
	}
	if snap.Processes, err = lib.Processes(); err != nil {
		t.Fatal(err)
	}
	return snap, uuids
}

func TestAskOf(t *testing.T) {
	tests := []struct {
		name  string
		flag  string
		reqs  []container.DeviceRequest
		nvGPU string
		want  Ask
	}{
		{"nothing: the default", "", nil, "", Ask{}},
		{"count", "2", []container.DeviceRequest{{Count: 2}}, "", Ask{Count: 2, From: "--gpus 2"}},
		{"all", "all", []container.DeviceRequest{{Count: -1}}, "", Ask{All: true, From: "--gpus all"}},
		{"devices", `"device=3,0:1"`, []container.DeviceRequest{{DeviceIDs: []string{"3", "0:1"}}}, "",
			Ask{Devices: []string{"3", "0:1"}, From: `--gpus "device=3,0:1"`}},
		{"NV_GPU", "", nil, " 1, 2 ", Ask{Devices: []string{"1", "2"}, From: "NV_GPU=1, 2"}},
		{"--gpus wins over NV_GPU", "1", []container.DeviceRequest{{Count: 1}}, "5", Ask{Count: 1, From: "--gpus 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AskOf(tt.flag, tt.reqs, tt.nvGPU); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AskOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	snap, uuids := node(t)
	// GPU 1 is reserved by bob, GPU 2 allocated to Slurm job 9.
	snap.Holds = []gpuuse.Hold{
		{UUID: uuids[1], Kind: gpuuse.HeldByReservation, UID: "2002", User: "bob"},
		{UUID: uuids[2], Kind: gpuuse.HeldByJob, UID: "2002", User: "bob", Job: "9"},
	}
	jobHeld := map[string]bool{uuids[2]: true}
	exclusive := Rules{DefaultCount: 1, MaxCount: 3, Exclusive: true, MaxMemoryUsedMiB: 512}
	shared := exclusive
	shared.Exclusive = false

	tests := []struct {
		name    string
		ask     Ask
		rules   Rules
		want    []string
		wantErr string
	}{
		{"default count: the first free whole GPU", Ask{}, exclusive, []string{uuids[5]}, ""},
		{"count 3: whole GPUs first, then MIG devices", Ask{Count: 3, From: "--gpus 3"}, exclusive,
			[]string{uuids[5], uuids[6], uuids[7]}, ""},
		{"device by NVML index, not minor", Ask{Devices: []string{"6"}, From: "--gpus device=6"}, exclusive, []string{uuids[6]}, ""},
		{"device by UUID, named twice", Ask{Devices: []string{uuids[7], "7"}, From: "--gpus device=..."}, exclusive, []string{uuids[7]}, ""},
		{"MIG device by name", Ask{Devices: []string{"0:1"}, From: "--gpus device=0:1"}, exclusive, []string{mig1}, ""},
		{"MIG device by UUID", Ask{Devices: []string{mig0}, From: "NV_GPU=" + mig0}, exclusive, []string{mig0}, ""},
		{"shared: a reserved GPU may be shared, the least held first", Ask{Devices: []string{"1"}, From: "--gpus device=1"}, shared, []string{uuids[1]}, ""},
		{"shared: held GPUs come last", Ask{Count: 7, From: "--gpus 7"}, Rules{DefaultCount: 1, MaxCount: 8, MaxMemoryUsedMiB: 512},
			[]string{uuids[5], uuids[6], uuids[7], mig0, mig1, uuids[1], uuids[3]}, ""},

		{"all", Ask{All: true, From: "--gpus all"}, exclusive, nil,
			"--gpus all: GPUs are reserved by number here: ask for at most 3, e.g. --gpus 1"},
		{"over max_count", Ask{Count: 4, From: "--gpus 4"}, exclusive, nil,
			"--gpus 4: at most 3 GPU(s) per container on this system (gpu.max_count)"},
		{"too many devices", Ask{Devices: []string{"5", "6", "7", "0:0"}, From: "NV_GPU=5,6,7,0:0"}, exclusive, nil,
			"NV_GPU=5,6,7,0:0: at most 3 GPU(s) per container on this system (gpu.max_count)"},
		{"reserved by another", Ask{Devices: []string{"1"}, From: "--gpus device=1"}, exclusive, nil,
			"--gpus device=1: GPU 1 is in use (reserved by bob)"},
		{"a Slurm job's GPU, even when shared", Ask{Devices: []string{"2"}, From: "--gpus device=2"}, shared, nil,
			"--gpus device=2: GPU 2 is allocated to a Slurm job"},
		{"a process runs on it", Ask{Devices: []string{"3"}, From: "--gpus device=3"}, exclusive, nil,
			"--gpus device=3: GPU 3 is in use (process 300)"},
		{"memory threshold", Ask{Devices: []string{"4"}, From: "--gpus device=4"}, shared, nil,
			"--gpus device=4: GPU 4 is using 600MiB of memory, more than gpu.max_memory_used_mib = 512"},
		{"GPU in MIG mode", Ask{Devices: []string{"0"}, From: "--gpus device=0"}, exclusive, nil,
			"--gpus device=0: GPU 0 is split into MIG devices; ask for one of them (0:0, 0:1)"},
		{"no such GPU", Ask{Devices: []string{"8"}, From: "--gpus device=8"}, exclusive, nil,
			`--gpus device=8: there is no GPU "8" on this node`},
		{"not enough free", Ask{Count: 6, From: "--gpus 6"}, Rules{DefaultCount: 1, MaxCount: 8, Exclusive: true}, nil,
			"--gpus 6: only 5 of this node's 9 GPU(s) are free; see 'userdocker ps --gpu-free'"},
		{"none free for the default", Ask{}, Rules{DefaultCount: 6, MaxCount: 8, Exclusive: true}, nil,
			"gpu.default_count = 6: only 5 of this node's 9 GPU(s) are free; see 'userdocker ps --gpu-free'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(gpuuse.Units(snap.Devices), snap.Busy(), jobHeld, tt.ask, tt.rules)
			if tt.wantErr != "" {
				var r *refusal.Refusal
				if rs := refusal.All(err); len(rs) == 1 {
					r = rs[0]
				}
				if r == nil || r.Msg != tt.wantErr || r.Rule != "gpus" {
					t.Fatalf("Select = %v, %v; want refusal %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Select = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
