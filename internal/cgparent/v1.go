package cgparent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/cgroups/v3/cgroup1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/plan"
)

// v1Controllers are the v1 hierarchies whose limits a parent holds, or
// whose counts the epilog reads; the first three must be mounted.
var v1Controllers = []string{"cpuset", "memory", "pids", "cpu", "cpuacct"}

// cfsPeriod is the CFS period written with a CPU quota, in µs: the
// kernel's default, as Docker's --cpus uses it.
const cfsPeriod = 100000

func (t *Tree) openV1() error {
	t.Version = 1
	for _, c := range v1Controllers {
		if isDir(filepath.Join(t.Root, c)) {
			t.has[c] = true
		}
	}
	if err := t.require("cpuset", "memory", "pids"); err != nil {
		return err
	}
	// Since Linux 5.16 the memory hierarchy is always hierarchical;
	// before, a 0 here would let the children escape the parent.
	if s, err := readTrim(filepath.Join(t.Root, "memory", "memory.use_hierarchy")); err == nil && s != "1" {
		return fmt.Errorf("the cgroup v1 memory hierarchy is not hierarchical (memory.use_hierarchy = %s): a parent's limit would not hold its containers", s)
	}
	_, err := os.Stat(filepath.Join(t.Root, "memory", "memory.memsw.limit_in_bytes"))
	t.memsw = err == nil
	return nil
}

// require fails naming the first controller in names the tree lacks.
func (t *Tree) require(names ...string) error {
	for _, n := range names {
		if !t.has[n] {
			if t.Version == 2 {
				return fmt.Errorf("the cgroup v2 controller %s is not available at %s (cgroup.controllers)", n, t.Root)
			}
			return fmt.Errorf("the cgroup v1 controller %s is not mounted at %s", n, filepath.Join(t.Root, n))
		}
	}
	return nil
}

// hierarchyV1 is the library's view of the hierarchies t has.
func (t *Tree) hierarchyV1() cgroup1.Hierarchy {
	return func() ([]cgroup1.Subsystem, error) {
		var ss []cgroup1.Subsystem
		for _, c := range v1Controllers {
			if !t.has[c] {
				continue
			}
			switch c {
			case "cpuset":
				ss = append(ss, cgroup1.NewCpuset(t.Root))
			case "memory":
				ss = append(ss, cgroup1.NewMemory(t.Root))
			case "pids":
				ss = append(ss, cgroup1.NewPids(t.Root))
			case "cpu":
				ss = append(ss, cgroup1.NewCpu(t.Root))
			case "cpuacct":
				ss = append(ss, cgroup1.NewCpuacct(t.Root))
			}
		}
		return ss, nil
	}
}

// ensureV1 makes path in every hierarchy userdocker sets limits in and
// writes want. The library fills a new cpuset cgroup's cpus and mems from
// its parent before our values go in (the kernel refuses a cgroup with
// an empty cpuset a task), and orders the memory and memsw writes so that
// memsw never falls below memory, raising or lowering.
func (t *Tree) ensureV1(path string, want plan.CgroupLimits) error {
	if want.NanoCPUs > 0 {
		if err := t.require("cpu"); err != nil {
			return err
		}
	}
	base := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &want.Pids}}
	if want.Pids <= 0 {
		base.Pids = &specs.LinuxPids{Limit: int64p(-1)} // "max" is v2's only
	}
	cpu := &specs.LinuxCPU{Cpus: want.CPUs, Mems: want.Mems}
	if t.has["cpu"] {
		quota, period := int64(-1), uint64(cfsPeriod)
		if want.NanoCPUs > 0 {
			quota = max(1000, want.NanoCPUs*cfsPeriod/1e9)
		}
		cpu.Quota, cpu.Period = &quota, &period
	}
	base.CPU = cpu
	cg, err := cgroup1.New(cgroup1.StaticPath(path), base, cgroup1.WithHierarchy(t.hierarchyV1()))
	if err != nil {
		return fmt.Errorf("make cgroup %s: %w", path, err)
	}
	limit := want.MemoryBytes
	if limit <= 0 {
		limit = noLimit
	}
	mem := &specs.LinuxMemory{Limit: &limit}
	switch {
	case t.memsw:
		memsw := limit // memory and swap together: no swap
		mem.Swap = &memsw
	case want.MemoryBytes > 0:
		swap, err := t.SwapTotal()
		if err != nil {
			return fmt.Errorf("cgroup %s: the kernel does not account swap, and %w", path, err)
		}
		if swap > 0 {
			return fmt.Errorf("cgroup %s: the kernel does not account swap (memory.memsw.*), and the host has swap: boot with swapaccount=1, or the containers could swap beyond the limit", path)
		}
	}
	if err := cg.Update(&specs.LinuxResources{Memory: mem}); err != nil {
		return fmt.Errorf("cgroup %s: memory limit %d: %w", path, want.MemoryBytes, explainBusy(err))
	}
	return nil
}

func int64p(n int64) *int64 { return &n }

// explainBusy says what EBUSY from a limit means: usage above it.
func explainBusy(err error) error {
	if errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("%w (the containers in it use more than that now)", err)
	}
	return err
}

func (t *Tree) readV1(path string) (plan.CgroupLimits, error) {
	var l plan.CgroupLimits
	var err error
	in := func(c, file string) string { return filepath.Join(t.Root, c, path, file) }
	if l.CPUs, err = readTrim(in("cpuset", "cpuset.cpus")); err != nil {
		return l, fmt.Errorf("read cgroup %s: %w", path, err)
	}
	if l.Mems, err = readTrim(in("cpuset", "cpuset.mems")); err != nil {
		return l, fmt.Errorf("read cgroup %s: %w", path, err)
	}
	if l.MemoryBytes, err = readLimit(in("memory", "memory.limit_in_bytes")); err != nil {
		return l, fmt.Errorf("read cgroup %s: %w", path, err)
	}
	if l.SwapBytes, err = t.swapV1(path, l.MemoryBytes); err != nil {
		return l, fmt.Errorf("read cgroup %s: %w", path, err)
	}
	if l.Pids, err = readLimit(in("pids", "pids.max")); err != nil {
		return l, fmt.Errorf("read cgroup %s: %w", path, err)
	}
	if t.has["cpu"] {
		quota, _, err := readCount(in("cpu", "cpu.cfs_quota_us"))
		if err != nil {
			return l, fmt.Errorf("read cgroup %s: %w", path, err)
		}
		period, _, err := readCount(in("cpu", "cpu.cfs_period_us"))
		if err != nil {
			return l, fmt.Errorf("read cgroup %s: %w", path, err)
		}
		if quota > 0 && period > 0 {
			l.NanoCPUs = quota * 1e9 / period
		}
	}
	return l, nil
}

// swapV1 is how much swap the containers below path may use besides
// memory: memsw less memory where the kernel accounts swap; else none
// only where the host has no swap.
func (t *Tree) swapV1(path string, memory int64) (int64, error) {
	if !t.memsw {
		swap, err := t.SwapTotal()
		if err != nil || swap > 0 {
			return plan.UnlimitedSwap, err
		}
		return 0, nil
	}
	memsw, err := readLimit(filepath.Join(t.Root, "memory", path, "memory.memsw.limit_in_bytes"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return plan.UnlimitedSwap, nil
	case err != nil:
		return 0, err
	case memsw == 0 || memory == 0:
		return plan.UnlimitedSwap, nil
	}
	return memsw - memory, nil
}
