package gpuuse

import (
	"slices"
	"strconv"

	"github.com/userdocker/userdocker/internal/gpu"
)

// Container is what a container's labels say about it.
type Container struct {
	ID   string
	Name string
	// UID, User and Job are the io.userdocker.uid, .user and .job labels;
	// empty for containers userdocker did not start.
	UID  string
	User string
	Job  string
	// GPUs is the io.userdocker.gpus label: the GPUs granted at creation.
	GPUs []string
	// Active: the container exists and has not exited (created, running,
	// paused or restarting); only such containers hold their GPUs.
	Active bool
}

// Hold kinds: who holds a GPU without (necessarily) running on it.
const (
	HeldByJob         = "job"         // a Slurm job's allocation on this node
	HeldByReservation = "reservation" // a workstation-mode reservation
	HeldByContainer   = "container"   // an active container's grant (label)
)

// Hold is a claim on a GPU.
type Hold struct {
	UUID      string
	Kind      string // HeldByJob, HeldByReservation or HeldByContainer
	UID       string
	User      string
	Job       string
	Container string // full container ID, when known
}

// Snapshot is everything the edge found out about the node's GPUs.
type Snapshot struct {
	Devices []gpu.Device
	// Processes are the compute processes per GPU or MIG device UUID.
	Processes map[string][]gpu.Process
	// ContainerOf maps a process ID to the container it runs in (from
	// ContainerID); processes not in it run on the host.
	ContainerOf map[uint32]string
	// Containers are the node's containers by full ID.
	Containers map[string]Container
	// Holds are the job allocations and reservations (HeldByJob,
	// HeldByReservation); containers' grants are derived from Containers.
	Holds []Hold
}

// Unit is one GPU a container can be given: a whole GPU not in MIG mode,
// or one MIG device.
type Unit struct {
	// Name is the unit as nvidia-smi names it: "3" for NVML index 3, "3:1"
	// for MIG device 1 on it.
	Name   string
	UUID   string
	Parent string // the parent GPU's UUID, for MIG devices
	// Model is the device name NVML reports.
	Model          string
	MemoryUsedMiB  uint64
	MemoryTotalMiB uint64
}

// Units lists the grantable units of devs: whole GPUs in NVML index order,
// then MIG devices, each GPU's in MIG order. A GPU in MIG mode is not a
// unit itself; its MIG devices are.
func Units(devs []gpu.Device) []Unit {
	var whole, migs []Unit
	for _, d := range devs {
		idx := strconv.Itoa(d.Index)
		if len(d.MIG) == 0 {
			whole = append(whole, Unit{Name: idx, UUID: d.UUID, Model: d.Name, MemoryUsedMiB: d.MemoryUsedMiB, MemoryTotalMiB: d.MemoryTotalMiB})
			continue
		}
		for _, m := range d.MIG {
			migs = append(migs, Unit{Name: idx + ":" + strconv.Itoa(m.Index), UUID: m.UUID, Parent: d.UUID,
				Model: m.Name, MemoryUsedMiB: m.MemoryUsedMiB, MemoryTotalMiB: m.MemoryTotalMiB})
		}
	}
	return append(whole, migs...)
}

// AllHolds returns the snapshot's holds plus one HeldByContainer hold per
// GPU of every active container with an io.userdocker.gpus label, ordered
// by UUID, then kind.
func (s Snapshot) AllHolds() []Hold {
	out := slices.Clone(s.Holds)
	for _, c := range s.Containers {
		if !c.Active {
			continue
		}
		for _, u := range c.GPUs {
			out = append(out, Hold{UUID: u, Kind: HeldByContainer, UID: c.UID, User: c.User, Job: c.Job, Container: c.ID})
		}
	}
	slices.SortStableFunc(out, func(a, b Hold) int {
		if a.UUID != b.UUID {
			return cmpString(a.UUID, b.UUID)
		}
		if a.Kind != b.Kind {
			return cmpString(a.Kind, b.Kind)
		}
		return cmpString(a.Container, b.Container)
	})
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Busy says, for each unit UUID that is in use, why: the holds on it, its
// processes, or those on its parent GPU or its siblings' parent (a MIG
// device is busy when its whole GPU is held, and a held MIG device makes
// its GPU's other units no less free). A unit not in the map is free.
func (s Snapshot) Busy() map[string][]string {
	direct := map[string][]string{}
	for _, h := range s.AllHolds() {
		direct[h.UUID] = append(direct[h.UUID], describeHold(h))
	}
	for uuid, ps := range s.Processes {
		for _, p := range ps {
			direct[uuid] = append(direct[uuid], "process "+strconv.FormatUint(uint64(p.PID), 10))
		}
	}
	out := map[string][]string{}
	for _, u := range Units(s.Devices) {
		why := slices.Clone(direct[u.UUID])
		if u.Parent != "" {
			why = append(why, direct[u.Parent]...)
		}
		if len(why) > 0 {
			out[u.UUID] = why
		}
	}
	return out
}

func describeHold(h Hold) string {
	switch h.Kind {
	case HeldByJob:
		return "job " + h.Job
	case HeldByReservation:
		return "reserved by " + orDash(h.User)
	default:
		return "container " + short(h.Container)
	}
}

// short is a container ID as docker ps shows it.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
