//go:build udmocknvml

package gpu

import (
	"fmt"

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
//   - no compute processes are running.
func defaultInterface() nvml.Interface {
	s := dgxa100.New()
	for i, h := range s.Devices {
		d := h.(*dgxa100.Device)
		d.Minor = len(s.Devices) - 1 - i
		d.UUID = MockUUID(i)
		d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return nil, nvml.SUCCESS
		}
	}
	return s
}

// MockUUID is the UUID the udmocknvml mock gives the GPU at NVML index i.
func MockUUID(i int) string {
	return fmt.Sprintf("GPU-4d4f434b-0000-4000-8000-%012d", i)
}
