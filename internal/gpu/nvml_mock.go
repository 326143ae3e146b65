//go:build udmocknvml

package gpu

import (
	"fmt"
	"os"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// MockNVML reports whether this binary was built with the udmocknvml tag,
// so that Open returns a mock. Binaries built with it are for integration
// tests on machines without GPUs and must never be installed.
const MockNVML = true

// defaultInterface is, in udmocknvml builds only, go-nvml's 8-GPU DGX A100
// mock made predictable for tests that run the built binaries:
//
//   - NVML index i has minor number 7-i, so a test with gres.conf
//     "File=/dev/nvidia[0-3]" (minors 0..3) sees GRES index 0 land on NVML
//     index 7; code that confuses indices and minors gives itself away;
//   - UUIDs are fixed: MockUUID(i) for NVML index i;
//   - the compute processes are those MockProcessesFile lists, none
//     when it does not exist.
func defaultInterface() nvml.Interface {
	s := dgxa100.New()
	for i, h := range s.Devices {
		d := h.(*dgxa100.Device)
		d.Minor = len(s.Devices) - 1 - i
		d.UUID = MockUUID(i)
		d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return mockProcesses(i)
		}
	}
	return s
}

// MockProcessesFile lets integration tests put compute processes on the
// mock's GPUs: lines "<nvml-index> <pid> <used-MiB>". Like the mock, it
// exists only in udmocknvml builds.
const MockProcessesFile = "/run/userdocker-mocknvml/processes"

func mockProcesses(index int) ([]nvml.ProcessInfo, nvml.Return) {
	data, err := os.ReadFile(MockProcessesFile)
	if err != nil {
		return nil, nvml.SUCCESS
	}
	var out []nvml.ProcessInfo
	for _, l := range strings.Split(string(data), "\n") {
		var i int
		var pid uint32
		var used uint64
		if n, _ := fmt.Sscanf(l, "%d %d %d", &i, &pid, &used); n == 3 && i == index {
			out = append(out, nvml.ProcessInfo{Pid: pid, UsedGpuMemory: used * mib})
		}
	}
	return out, nvml.SUCCESS
}

// MockUUID is the UUID the udmocknvml mock gives the GPU at NVML index i.
func MockUUID(i int) string {
	return fmt.Sprintf("GPU-4d4f434b-0000-4000-8000-%012d", i)
}
