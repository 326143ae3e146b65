// Package gpureserve is workstation mode (gpu.source = "reserve"): with no
// Slurm to hand out GPUs, userdocker reserves free ones itself. The choice
// is pure (Select, on facts from gpuuse); the reservations live in one
// state file guarded by an flock (Store), so that concurrent runs can never
// be granted the same GPU.
package gpureserve

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/gpuuse"
	"github.com/userdocker/userdocker/internal/refusal"
)

// Ask is what a user asked for. With neither Count nor Devices set, the
// policy's default_count applies.
type Ask struct {
	Count int
	// All: --gpus all, which workstation mode does not grant.
	All bool
	// Devices are NVML names ("3", "0:1" for a MIG device) or UUIDs.
	Devices []string
	// From is how the user asked, for messages: "--gpus 2", "NV_GPU=0,1";
	// empty for the default.
	From string
}

// AskOf turns --gpus as typed (gpusFlag, with its parsed device request)
// or, without --gpus, NV_GPU (where the site's sudoers keeps it) into an
// Ask. NV_GPU holds GPU names or UUIDs separated by commas; it can only
// ask, the policy still decides.
func AskOf(gpusFlag string, reqs []container.DeviceRequest, nvGPU string) Ask {
	if gpusFlag != "" {
		a := Ask{From: "--gpus " + gpusFlag}
		for _, dr := range reqs {
			a.Devices = append(a.Devices, dr.DeviceIDs...)
			switch {
			case dr.Count < 0:
				a.All = true
			case dr.Count > 0:
				a.Count = dr.Count
			}
		}
		return a
	}
	if nvGPU = strings.TrimSpace(nvGPU); nvGPU != "" {
		a := Ask{From: "NV_GPU=" + nvGPU}
		for _, f := range strings.Split(nvGPU, ",") {
			if f = strings.TrimSpace(f); f != "" {
				a.Devices = append(a.Devices, f)
			}
		}
		return a
	}
	return Ask{}
}

// Rules are the policy's [gpu] values for reserve mode.
type Rules struct {
	DefaultCount int
	MaxCount     int
	// Exclusive: a GPU held by anyone (a reservation, a container, a
	// process) is not granted again. Without it, GPUs are shared, the
	// least used first; jobs' GPUs and the memory threshold still count.
	Exclusive bool
	// MaxMemoryUsedMiB: a GPU using more memory than this is busy, held or
	// not (0: any use).
	MaxMemoryUsedMiB int
}

// Select chooses the UUIDs to grant for ask among units, given busy (from
// gpuuse.Snapshot.Busy: why each unit is in use) and jobHeld (units that a
// Slurm job holds, which are never shared). The result is exactly what was
// asked for, or a *refusal.Refusal saying why not.
func Select(units []gpuuse.Unit, busy map[string][]string, jobHeld map[string]bool, ask Ask, r Rules) ([]string, error) {
	from := ask.From
	if from == "" {
		from = "gpu.default_count = " + strconv.Itoa(r.DefaultCount)
	}
	if ask.All {
		return nil, refuse("%s: GPUs are reserved by number here: ask for at most %d, e.g. --gpus 1", from, r.MaxCount)
	}
	want := ask.Count
	if len(ask.Devices) == 0 && want == 0 {
		want = r.DefaultCount
	}
	if len(ask.Devices) > 0 {
		want = len(dedupe(ask.Devices))
	}
	if want > r.MaxCount {
		return nil, refuse("%s: at most %d GPU(s) per container on this system (gpu.max_count)", from, r.MaxCount)
	}
	if want == 0 {
		return nil, nil
	}
	unavailable := func(u gpuuse.Unit) string {
		if jobHeld[u.UUID] || jobHeld[u.Parent] {
			return "allocated to a Slurm job"
		}
		if r.Exclusive && len(busy[u.UUID]) > 0 {
			return "in use (" + strings.Join(busy[u.UUID], ", ") + ")"
		}
		if u.MemoryUsedMiB > uint64(r.MaxMemoryUsedMiB) {
			return fmt.Sprintf("using %dMiB of memory, more than gpu.max_memory_used_mib = %d", u.MemoryUsedMiB, r.MaxMemoryUsedMiB)
		}
		return ""
	}
	if len(ask.Devices) > 0 {
		return pickDevices(units, dedupe(ask.Devices), from, unavailable)
	}
	var free []gpuuse.Unit
	for _, u := range units {
		if unavailable(u) == "" {
			free = append(free, u)
		}
	}
	if len(free) < want {
		return nil, refuse("%s: only %d of this node's %d GPU(s) are free; see 'userdocker ps --gpu-free'", from, len(free), len(units))
	}
	// Shared GPUs: the least held first; stable, so NVML order otherwise.
	slices.SortStableFunc(free, func(a, b gpuuse.Unit) int { return len(busy[a.UUID]) - len(busy[b.UUID]) })
	out := make([]string, 0, want)
	for _, u := range free[:want] {
		out = append(out, u.UUID)
	}
	return out, nil
}

func pickDevices(units []gpuuse.Unit, ids []string, from string, unavailable func(gpuuse.Unit) string) ([]string, error) {
	var out []string
	for _, id := range ids {
		i := slices.IndexFunc(units, func(u gpuuse.Unit) bool { return u.Name == id || u.UUID == id })
		if i < 0 {
			if parts := migParts(units, id); len(parts) > 0 {
				return nil, refuse("%s: GPU %s is split into MIG devices; ask for one of them (%s)", from, id, strings.Join(parts, ", "))
			}
			return nil, refuse("%s: there is no GPU %q on this node", from, id)
		}
		u := units[i]
		if why := unavailable(u); why != "" {
			return nil, refuse("%s: GPU %s is %s", from, u.Name, why)
		}
		if !slices.Contains(out, u.UUID) {
			out = append(out, u.UUID)
		}
	}
	return out, nil
}

// migParts names the MIG devices of the GPU named id (index or UUID).
func migParts(units []gpuuse.Unit, id string) []string {
	var out []string
	for _, u := range units {
		if u.Parent != "" && (u.Parent == id || strings.HasPrefix(u.Name, id+":")) {
			out = append(out, u.Name)
		}
	}
	return out
}

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func refuse(format string, args ...any) *refusal.Refusal {
	return &refusal.Refusal{Rule: "gpus", Msg: fmt.Sprintf(format, args...)}
}
