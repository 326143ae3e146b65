package gpu

import (
	"errors"
	"reflect"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// newMock returns the 8-GPU DGX A100 mock with the given minor numbers
// (NVML index i gets minors[i]), so that tests notice when minors and
// indices are confused. The mock's UUIDs are random on each run.
func newMock(t *testing.T, minors []int) *dgxa100.Server {
	t.Helper()
	s := dgxa100.New()
	if len(minors) != len(s.Devices) {
		t.Fatalf("newMock: %d minors for %d devices", len(minors), len(s.Devices))
	}
	for i, h := range s.Devices {
		h.(*dgxa100.Device).Minor = minors[i]
	}
	return s
}

func mockDevice(s *dgxa100.Server, i int) *dgxa100.Device {
	return s.Devices[i].(*dgxa100.Device)
}

var reversed = []int{7, 6, 5, 4, 3, 2, 1, 0}

func openMock(t *testing.T, s nvml.Interface) *Lib {
	t.Helper()
	l, err := New(s)
	if err != nil {
		t.Fatalf("New(mock): %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func TestDevices(t *testing.T) {
	s := newMock(t, reversed)
	mockDevice(s, 2).MemoryInfo.Used = 1536 << 20
	l := openMock(t, s)

	got, err := l.Devices()
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	var want []Device
	for i := range s.Devices {
		used := uint64(0)
		if i == 2 {
			used = 1536
		}
		want = append(want, Device{
			Index:          i,
			Minor:          7 - i,
			UUID:           mockDevice(s, i).UUID,
			Name:           mockDevice(s, i).Config.Name,
			MemoryUsedMiB:  used,
			MemoryTotalMiB: 40960,
		})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Devices() =\n%v\nwant\n%v", got, want)
	}
}

func TestDevicesMIG(t *testing.T) {
	s := newMock(t, reversed)
	d := mockDevice(s, 0)
	d.MigMode = nvml.DEVICE_MIG_ENABLE
	migs := map[int]*mock.Device{}
	for _, slot := range []int{0, 3} {
		uuid := "MIG-" + string(rune('a'+slot))
		gi := slot + 1
		migs[slot] = &mock.Device{
			GetGpuInstanceIdFunc:     func() (int, nvml.Return) { return gi, nvml.SUCCESS },
			GetComputeInstanceIdFunc: func() (int, nvml.Return) { return 0, nvml.SUCCESS },
			GetUUIDFunc:              func() (string, nvml.Return) { return uuid, nvml.SUCCESS },
			GetNameFunc:              func() (string, nvml.Return) { return "NVIDIA A100-SXM4-40GB MIG 1g.5gb", nvml.SUCCESS },
			GetMemoryInfoFunc:        func() (nvml.Memory, nvml.Return) { return nvml.Memory{Total: 4864 << 20}, nvml.SUCCESS },
		}
	}
	d.GetMaxMigDeviceCountFunc = func() (int, nvml.Return) { return 7, nvml.SUCCESS }
	d.GetMigDeviceHandleByIndexFunc = func(n int) (nvml.Device, nvml.Return) {
		if m, ok := migs[n]; ok {
			return m, nvml.SUCCESS
		}
		return nil, nvml.ERROR_NOT_FOUND
	}
	l := openMock(t, s)

	devs, err := l.Devices()
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	want := []Device{
		{Index: 0, Minor: -1, UUID: "MIG-a", Name: "NVIDIA A100-SXM4-40GB MIG 1g.5gb", MemoryTotalMiB: 4864, GPUInstanceID: 1},
		{Index: 3, Minor: -1, UUID: "MIG-d", Name: "NVIDIA A100-SXM4-40GB MIG 1g.5gb", MemoryTotalMiB: 4864, GPUInstanceID: 4},
	}
	if !reflect.DeepEqual(devs[0].MIG, want) {
		t.Errorf("MIG of GPU 0 = %v, want %v", devs[0].MIG, want)
	}
	if devs[1].MIG != nil {
		t.Errorf("MIG of GPU 1 = %v, want none", devs[1].MIG)
	}
}

func TestProcesses(t *testing.T) {
	s := newMock(t, reversed)
	for i := range s.Devices {
		d := mockDevice(s, i)
		switch i {
		case 0:
			d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
				return []nvml.ProcessInfo{
					{Pid: 100, UsedGpuMemory: 512 << 20},
					{Pid: 101, UsedGpuMemory: notAvailable},
				}, nvml.SUCCESS
			}
		case 1:
			d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
				return nil, nvml.ERROR_NOT_SUPPORTED
			}
		default:
			d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
				return nil, nvml.SUCCESS
			}
		}
	}
	l := openMock(t, s)

	got, err := l.Processes()
	if err != nil {
		t.Fatalf("Processes: %v", err)
	}
	want := map[string][]Process{}
	for i := range s.Devices {
		want[mockDevice(s, i).UUID] = []Process{}
	}
	want[mockDevice(s, 0).UUID] = []Process{{PID: 100, UsedMemoryMiB: 512}, {PID: 101, UsedMemoryMiB: 0}}
	want[mockDevice(s, 1).UUID] = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Processes() =\n%v\nwant\n%v", got, want)
	}
}

func TestProcessesError(t *testing.T) {
	s := newMock(t, reversed)
	for i := range s.Devices {
		mockDevice(s, i).GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return nil, nvml.ERROR_GPU_IS_LOST
		}
	}
	l := openMock(t, s)
	_, err := l.Processes()
	want := "GPU 0: list compute processes: ERROR_GPU_IS_LOST"
	if err == nil || err.Error() != want {
		t.Errorf("Processes() error = %v, want %q", err, want)
	}
}

func TestNewInitErrors(t *testing.T) {
	tests := []struct {
		name    string
		ret     nvml.Return
		want    string
		noNVML  bool
		wantLib bool
	}{
		{name: "no library", ret: nvml.ERROR_LIBRARY_NOT_FOUND, want: "NVML not found: no NVIDIA driver on this node", noNVML: true},
		{name: "driver not loaded", ret: nvml.ERROR_DRIVER_NOT_LOADED, want: "initialize NVML: ERROR_DRIVER_NOT_LOADED"},
		{name: "no permission", ret: nvml.ERROR_NO_PERMISSION, want: "initialize NVML: ERROR_NO_PERMISSION"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := dgxa100.New()
			s.InitFunc = func() nvml.Return { return tc.ret }
			l, err := New(s)
			if l != nil || err == nil {
				t.Fatalf("New() = %v, %v; want an error", l, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error = %q, want %q", err, tc.want)
			}
			if errors.Is(err, ErrNoNVML) != tc.noNVML {
				t.Errorf("errors.Is(err, ErrNoNVML) = %v, want %v", !tc.noNVML, tc.noNVML)
			}
		})
	}
}

// TestOpenWithoutDriver runs the production constructor on this machine. On
// a node without the NVIDIA driver it must say so plainly.
func TestOpenWithoutDriver(t *testing.T) {
	if MockNVML {
		t.Skip("built with udmocknvml: Open returns the mock")
	}
	l, err := Open()
	if err == nil {
		l.Close()
		t.Skip("this machine has NVML")
	}
	if !errors.Is(err, ErrNoNVML) {
		t.Skipf("NVML present but unusable here: %v", err)
	}
	if err.Error() != "NVML not found: no NVIDIA driver on this node" {
		t.Errorf("Open() error = %q", err)
	}
}

func TestGPUMajors(t *testing.T) {
	text := "Character devices:\n  1 mem\n195 nvidia-frontend\n226 drm\n234 nvidia-uvm\n235 nvidia-caps\n231 infiniband_verbs\n\nBlock devices:\n236 nvidiafake\n"
	got := GPUMajors(text)
	for _, m := range []uint32{195, 226, 234, 235} {
		if !got[m] {
			t.Errorf("GPUMajors() lacks %d: %v", m, got)
		}
	}
	for _, m := range []uint32{1, 231, 236} {
		if got[m] {
			t.Errorf("GPUMajors() has %d: %v", m, got)
		}
	}
	if got := GPUMajors(""); !got[195] || !got[226] || len(got) != 2 {
		t.Errorf("GPUMajors(\"\") = %v, want 195 and 226", got)
	}
}
