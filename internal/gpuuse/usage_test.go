package gpuuse

import (
	"reflect"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"

	"github.com/userdocker/userdocker/internal/gpu"
)

// procs makes a compute-process func for the mock.
func procs(ps ...nvml.ProcessInfo) func() ([]nvml.ProcessInfo, nvml.Return) {
	return func() ([]nvml.ProcessInfo, nvml.Return) { return ps, nvml.SUCCESS }
}

func proc(pid uint32, mibUsed uint64) nvml.ProcessInfo {
	return nvml.ProcessInfo{Pid: pid, UsedGpuMemory: mibUsed << 20}
}

// mockNode is go-nvml's 8-GPU DGX A100 mock with minors 7-i, GPU 0 split
// into MIG devices in slots 0 and 3, and compute processes:
//
//	GPU 2:   pids 100, 101 in container A (alice, job 7), 1024+512 MiB
//	GPU 3:   pid 200 on the host, 100 MiB
//	GPU 0:3: pid 300 in container B (bob), 2048 MiB
func mockNode(t *testing.T) (*dgxa100.Server, []string) {
	t.Helper()
	s := dgxa100.New()
	var uuids []string
	for i, h := range s.Devices {
		d := h.(*dgxa100.Device)
		d.Minor = 7 - i
		d.GetComputeRunningProcessesFunc = procs()
		uuids = append(uuids, d.UUID)
	}
	dev := func(i int) *dgxa100.Device { return s.Devices[i].(*dgxa100.Device) }
	dev(2).GetComputeRunningProcessesFunc = procs(proc(100, 1024), proc(101, 512))
	dev(3).GetComputeRunningProcessesFunc = procs(proc(200, 100))

	d0 := dev(0)
	d0.MigMode = nvml.DEVICE_MIG_ENABLE
	migs := map[int]*mock.Device{}
	for _, slot := range []int{0, 3} {
		uuid := "MIG-" + strings.Repeat(string(rune('a'+slot)), 8) + "-0000-4000-8000-000000000000"
		p := procs()
		if slot == 3 {
			p = procs(proc(300, 2048))
		}
		migs[slot] = &mock.Device{
			GetUUIDFunc:                    func() (string, nvml.Return) { return uuid, nvml.SUCCESS },
			GetGpuInstanceIdFunc:           func() (int, nvml.Return) { return 1, nvml.SUCCESS },
			GetComputeInstanceIdFunc:       func() (int, nvml.Return) { return 0, nvml.SUCCESS },
			GetNameFunc:                    func() (string, nvml.Return) { return "NVIDIA A100-SXM4-40GB MIG 3g.20gb", nvml.SUCCESS },
			GetMemoryInfoFunc:              func() (nvml.Memory, nvml.Return) { return nvml.Memory{Total: 19968 << 20}, nvml.SUCCESS },
			GetComputeRunningProcessesFunc: p,
		}
	}
	d0.GetMaxMigDeviceCountFunc = func() (int, nvml.Return) { return 7, nvml.SUCCESS }
	d0.GetMigDeviceHandleByIndexFunc = func(n int) (nvml.Device, nvml.Return) {
		if m, ok := migs[n]; ok {
			return m, nvml.SUCCESS
		}
		return nil, nvml.ERROR_NOT_FOUND
	}
	d0.GetComputeRunningProcessesFunc = procs()
	return s, uuids
}

const (
	migA = "MIG-aaaaaaaa-0000-4000-8000-000000000000"
	migD = "MIG-dddddddd-0000-4000-8000-000000000000"
)

// snapshot reads the mock through internal/gpu, as the edge does, and adds
// containers and holds.
func snapshot(t *testing.T) (Snapshot, []string) {
	t.Helper()
	s, uuids := mockNode(t)
	lib, err := gpu.New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	snap := Snapshot{}
	if snap.Devices, err = lib.Devices(); err != nil {
		t.Fatal(err)
	}
	if snap.Processes, err = lib.Processes(); err != nil {
		t.Fatal(err)
	}
	snap.ContainerOf = map[uint32]string{100: idA, 101: idA, 300: idB}
	snap.Containers = map[string]Container{
		idA: {ID: idA, UID: "2001", User: "alice", Job: "7", GPUs: []string{uuids[2]}, Active: true},
		idB: {ID: idB, UID: "2002", User: "bob", GPUs: []string{migD, uuids[7]}, Active: true},
		idC: {ID: idC, UID: "2001", User: "alice", GPUs: []string{uuids[4]}, Active: false},
	}
	snap.Holds = []Hold{
		{UUID: uuids[5], Kind: HeldByJob, UID: "2002", User: "bob", Job: "9"},
		{UUID: uuids[6], Kind: HeldByReservation, UID: "2001", User: "alice"},
	}
	return snap, uuids
}

var idC = strings.Repeat("c3", 32)

func TestUsed(t *testing.T) {
	snap, uuids := snapshot(t)
	want := []Row{
		{GPU: "0:3", UUID: migD, Memory: "2048MiB", Container: idB[:12], User: "bob", Job: "-", uid: "2002"},
		{GPU: "2", UUID: uuids[2], Memory: "1536MiB", Container: idA[:12], User: "alice", Job: "7", uid: "2001"},
		{GPU: "3", UUID: uuids[3], Memory: "100MiB", Container: "host", User: "-", Job: "-"},
	}
	if got := Used(snap); !reflect.DeepEqual(got, want) {
		t.Errorf("Used =\n%v\nwant\n%v", got, want)
	}
}

func TestFree(t *testing.T) {
	snap, uuids := snapshot(t)
	// Busy: 2 and 3 (processes), 5 (job), 6 (reservation), 7 and 0:3
	// (bob's active container). GPU 4's container has exited: free. GPU 0
	// is in MIG mode: only its MIG devices are units.
	want := []FreeRow{
		{GPU: "1", UUID: uuids[1], Model: "Mock NVIDIA A100-SXM4-40GB", Memory: "40960MiB"},
		{GPU: "4", UUID: uuids[4], Model: "Mock NVIDIA A100-SXM4-40GB", Memory: "40960MiB"},
		{GPU: "0:0", UUID: migA, Model: "NVIDIA A100-SXM4-40GB MIG 3g.20gb", Memory: "19968MiB"},
	}
	if got := Free(snap); !reflect.DeepEqual(got, want) {
		t.Errorf("Free =\n%v\nwant\n%v", got, want)
	}
}

func TestFreeWholeGPUHeldHoldsItsMIGDevices(t *testing.T) {
	snap, uuids := snapshot(t)
	snap.Holds = append(snap.Holds, Hold{UUID: uuids[0], Kind: HeldByJob, UID: "2003", User: "carol", Job: "11"})
	for _, r := range Free(snap) {
		if r.UUID == migA {
			t.Errorf("Free lists MIG device %s although its GPU is allocated to job 11", migA)
		}
	}
	if got := snap.Busy()[migA]; !reflect.DeepEqual(got, []string{"job 11"}) {
		t.Errorf("Busy()[%s] = %q, want [job 11]", migA, got)
	}
}

func TestMine(t *testing.T) {
	snap, uuids := snapshot(t)
	tests := []struct {
		name string
		uid  uint32
		want []Row
	}{
		{"alice: her container's processes, then her reservation", 2001, []Row{
			{GPU: "2", UUID: uuids[2], Memory: "1536MiB", Container: idA[:12], User: "alice", Job: "7", uid: "2001"},
			{GPU: "6", UUID: uuids[6], Memory: "-", Container: "-", User: "alice", Job: "-", uid: "2001"},
		}},
		{"bob: his MIG process, his job's GPU, his container's idle grant", 2002, []Row{
			{GPU: "0:3", UUID: migD, Memory: "2048MiB", Container: idB[:12], User: "bob", Job: "-", uid: "2002"},
			{GPU: "5", UUID: uuids[5], Memory: "-", Container: "-", User: "bob", Job: "9", uid: "2002"},
			{GPU: "7", UUID: uuids[7], Memory: "-", Container: idB[:12], User: "bob", Job: "-", uid: "2002"},
		}},
		{"nobody", 2999, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Mine(snap, tt.uid)
			// Holds come in UUID order; compare as sets of lines.
			if !sameRows(got, tt.want) {
				t.Errorf("Mine(%d) =\n%v\nwant\n%v", tt.uid, got, tt.want)
			}
		})
	}
}

func sameRows(a, b []Row) bool {
	if len(a) != len(b) {
		return false
	}
	for _, r := range a {
		found := false
		for _, s := range b {
			found = found || r == s
		}
		if !found {
			return false
		}
	}
	return true
}

func TestWriteTables(t *testing.T) {
	var b strings.Builder
	rows := []Row{{GPU: "2", UUID: "GPU-x", Memory: "1536MiB", Container: idA[:12], User: "alice", Job: "7"}}
	if err := WriteRows(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := "GPU   UUID    MEMORY USED   CONTAINER      USER    JOB\n" +
		"2     GPU-x   1536MiB       " + idA[:12] + "   alice   7\n"
	if b.String() != want {
		t.Errorf("WriteRows =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteFree(&b, []FreeRow{{GPU: "0:0", UUID: "MIG-x", Model: "A100 MIG", Memory: "19968MiB"}}); err != nil {
		t.Fatal(err)
	}
	want = "GPU   UUID    MODEL      MEMORY\n0:0   MIG-x   A100 MIG   19968MiB\n"
	if b.String() != want {
		t.Errorf("WriteFree =\n%s\nwant\n%s", b.String(), want)
	}
}
