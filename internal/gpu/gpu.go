// Package gpu is userdocker's view of the node's NVIDIA GPUs: a thin layer
// over NVML (github.com/NVIDIA/go-nvml) that lists devices with their minor
// numbers and UUIDs and the compute processes on each, plus the pure mapping
// from Slurm's GRES indices to GPU UUIDs (DESIGN.md §4, §5).
package gpu

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// ErrNoNVML is returned by Open and New when the NVML library cannot be
// loaded: the node has no NVIDIA driver. Callers degrade (the prolog records
// GRES indices instead of UUIDs) rather than fail.
var ErrNoNVML = errors.New("NVML not found: no NVIDIA driver on this node")

// notAvailable is NVML's NVML_VALUE_NOT_AVAILABLE for unsigned long long
// values, e.g. a process's used memory when the driver does not account it.
const notAvailable = ^uint64(0)

const mib = 1 << 20

// Device is one GPU as NVML reports it.
type Device struct {
	// Index is NVML's index. It is neither Slurm's GRES index nor, in
	// general, the /dev/nvidiaN minor: never hand it to Docker.
	Index int
	// Minor is the minor number of the device's /dev/nvidiaN file; -1 for
	// MIG devices, which have none.
	Minor          int
	UUID           string
	Name           string
	MemoryUsedMiB  uint64
	MemoryTotalMiB uint64
	// MIG lists the MIG devices of a GPU in MIG mode; their Index is the
	// MIG device's position on its parent.
	MIG []Device
	// GPUInstanceID and ComputeInstanceID identify a MIG device within its
	// parent, as the MIG capability files do (MIGMinorsPath); 0 for GPUs.
	GPUInstanceID     int
	ComputeInstanceID int
}

// Process is one compute process running on a GPU.
type Process struct {
	PID uint32
	// UsedMemoryMiB is 0 when the driver does not account the process's
	// memory (NVML_VALUE_NOT_AVAILABLE).
	UsedMemoryMiB uint64
}

// Lib is an initialized NVML. It is not safe for concurrent use with Close.
type Lib struct {
	nvml nvml.Interface
}

// Open initializes the node's NVML library. Under the udmocknvml build tag
// it is an 8-GPU mock instead (see nvml_mock.go); the default build has no
// way to reach the mock. It returns ErrNoNVML when no driver is installed.
func Open() (*Lib, error) {
	return New(defaultInterface())
}

// New initializes iface, the real library (nvml.New()) or a mock such as
// go-nvml's dgxa100 in tests. Call Close when done.
func New(iface nvml.Interface) (*Lib, error) {
	switch ret := iface.Init(); ret {
	case nvml.SUCCESS:
		return &Lib{nvml: iface}, nil
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return nil, ErrNoNVML
	default:
		return nil, fmt.Errorf("initialize NVML: %w", ret)
	}
}

// Close shuts NVML down.
func (l *Lib) Close() error {
	if ret := l.nvml.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("shut down NVML: %w", ret)
	}
	return nil
}

// Devices lists the node's GPUs in NVML index order.
func (l *Lib) Devices() ([]Device, error) {
	handles, err := l.handles()
	if err != nil {
		return nil, err
	}
	devs := make([]Device, 0, len(handles))
	for i, h := range handles {
		d, err := describe(h, i)
		if err != nil {
			return nil, fmt.Errorf("GPU %d: %w", i, err)
		}
		d.Minor, err = minor(h)
		if err != nil {
			return nil, fmt.Errorf("GPU %d: %w", i, err)
		}
		d.MIG, err = migDevices(h)
		if err != nil {
			return nil, fmt.Errorf("GPU %d: %w", i, err)
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// Processes lists the compute processes on each GPU and MIG device, keyed
// by its UUID. Devices that do not support the query map to no processes.
func (l *Lib) Processes() (map[string][]Process, error) {
	handles, err := l.handles()
	if err != nil {
		return nil, err
	}
	procs := make(map[string][]Process, len(handles))
	for i, h := range handles {
		if err := addProcesses(procs, h); err != nil {
			return nil, fmt.Errorf("GPU %d: %w", i, err)
		}
		migs, _, err := migHandles(h)
		if err != nil {
			return nil, fmt.Errorf("GPU %d: %w", i, err)
		}
		for j, mh := range migs {
			if err := addProcesses(procs, mh); err != nil {
				return nil, fmt.Errorf("GPU %d: MIG device %d: %w", i, j, err)
			}
		}
	}
	return procs, nil
}

// addProcesses adds the compute processes of device h to procs.
func addProcesses(procs map[string][]Process, h nvml.Device) error {
	uuid, ret := h.GetUUID()
	if ret != nvml.SUCCESS {
		return fmt.Errorf("get UUID: %w", ret)
	}
	infos, ret := h.GetComputeRunningProcesses()
	switch ret {
	case nvml.SUCCESS:
	case nvml.ERROR_NOT_SUPPORTED:
		procs[uuid] = nil
		return nil
	default:
		return fmt.Errorf("list compute processes: %w", ret)
	}
	ps := make([]Process, 0, len(infos))
	for _, p := range infos {
		used := p.UsedGpuMemory
		if used == notAvailable {
			used = 0
		}
		ps = append(ps, Process{PID: p.Pid, UsedMemoryMiB: used / mib})
	}
	procs[uuid] = ps
	return nil
}

func (l *Lib) handles() ([]nvml.Device, error) {
	n, ret := l.nvml.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("count GPUs: %w", ret)
	}
	hs := make([]nvml.Device, 0, n)
	for i := range n {
		h, ret := l.nvml.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("GPU %d: get handle: %w", i, ret)
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// describe reads what GPUs and MIG devices have in common. index is used
// where NVML has none to give (MIG devices).
func describe(h nvml.Device, index int) (Device, error) {
	d := Device{Index: index, Minor: -1}
	var ret nvml.Return
	if d.UUID, ret = h.GetUUID(); ret != nvml.SUCCESS {
		return Device{}, fmt.Errorf("get UUID: %w", ret)
	}
	if d.Name, ret = h.GetName(); ret != nvml.SUCCESS {
		return Device{}, fmt.Errorf("get name: %w", ret)
	}
	mem, ret := h.GetMemoryInfo()
	if ret != nvml.SUCCESS {
		return Device{}, fmt.Errorf("get memory info: %w", ret)
	}
	d.MemoryUsedMiB, d.MemoryTotalMiB = mem.Used/mib, mem.Total/mib
	return d, nil
}

func minor(h nvml.Device) (int, error) {
	m, ret := h.GetMinorNumber()
	if ret != nvml.SUCCESS {
		return 0, fmt.Errorf("get minor number: %w", ret)
	}
	return m, nil
}

// migDevices lists the MIG devices of a GPU whose MIG mode is enabled.
func migDevices(h nvml.Device) ([]Device, error) {
	handles, slots, err := migHandles(h)
	if err != nil {
		return nil, err
	}
	var migs []Device
	for i, mh := range handles {
		d, err := describe(mh, slots[i])
		if err != nil {
			return nil, fmt.Errorf("MIG device %d: %w", slots[i], err)
		}
		var ret nvml.Return
		if d.GPUInstanceID, ret = mh.GetGpuInstanceId(); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("MIG device %d: get GPU instance: %w", slots[i], ret)
		}
		if d.ComputeInstanceID, ret = mh.GetComputeInstanceId(); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("MIG device %d: get compute instance: %w", slots[i], ret)
		}
		migs = append(migs, d)
	}
	return migs, nil
}

// migHandles returns the handles of a GPU's MIG devices and the slot of
// each. GPUs without MIG support report ERROR_NOT_SUPPORTED and have none.
func migHandles(h nvml.Device) ([]nvml.Device, []int, error) {
	current, _, ret := h.GetMigMode()
	if ret == nvml.ERROR_NOT_SUPPORTED || (ret == nvml.SUCCESS && current != nvml.DEVICE_MIG_ENABLE) {
		return nil, nil, nil
	}
	if ret != nvml.SUCCESS {
		return nil, nil, fmt.Errorf("get MIG mode: %w", ret)
	}
	n, ret := h.GetMaxMigDeviceCount()
	if ret != nvml.SUCCESS {
		return nil, nil, fmt.Errorf("count MIG devices: %w", ret)
	}
	var handles []nvml.Device
	var slots []int
	for i := range n {
		mh, ret := h.GetMigDeviceHandleByIndex(i)
		if ret == nvml.ERROR_NOT_FOUND {
			continue // slot not populated
		}
		if ret != nvml.SUCCESS {
			return nil, nil, fmt.Errorf("MIG device %d: get handle: %w", i, ret)
		}
		handles = append(handles, mh)
		slots = append(slots, i)
	}
	return handles, slots, nil
}
