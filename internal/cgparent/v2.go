package cgparent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/cgroups/v3/cgroup2"

	"github.com/userdocker/userdocker/internal/plan"
)

// v2Controllers are the controllers a v2 parent needs: all of them
// enabled down to it, and in its own cgroup.subtree_control for the
// containers' cgroups below it.
var v2Controllers = []string{"cpuset", "cpu", "memory", "pids"}

func (t *Tree) openV2() error {
	t.Version = 2
	s, err := readTrim(filepath.Join(t.Root, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("cgroup v2 at %s: %w", t.Root, err)
	}
	for _, c := range strings.Fields(s) {
		t.has[c] = true
	}
	return t.require(v2Controllers...)
}

// ensureV2 makes path in the unified hierarchy with its controllers
// enabled in every ancestor (the library does that) and in path itself
// (for the containers' cgroups), and writes want. Memory is bounded with
// memory.swap.max 0: the containers never swap.
func (t *Tree) ensureV2(path string, want plan.CgroupLimits) error {
	limit := want.MemoryBytes
	swap := int64(0)
	if limit <= 0 {
		limit, swap = noLimit, noLimit
	}
	cpuMax := cgroup2.NewCPUMax(nil, nil) // "max 100000"
	if want.NanoCPUs > 0 {
		quota, period := max(1000, want.NanoCPUs*cfsPeriod/1e9), uint64(cfsPeriod)
		cpuMax = cgroup2.NewCPUMax(&quota, &period)
	}
	pids := want.Pids
	if pids <= 0 {
		pids = noLimit // 0 writes nothing; as large as pids.max takes
	}
	res := &cgroup2.Resources{
		CPU:    &cgroup2.CPU{Cpus: want.CPUs, Mems: want.Mems, Max: cpuMax},
		Memory: &cgroup2.Memory{Max: &limit},
		Pids:   &cgroup2.Pids{Max: pids},
	}
	if want.MemoryBytes > 0 {
		// Where the host has no swap there is none to bound (and the
		// kernel may not account it); else memory.swap.max must take 0.
		total, err := t.SwapTotal()
		if err != nil {
			return fmt.Errorf("cgroup %s: %w", path, err)
		}
		if total > 0 {
			res.Memory.Swap = &swap
		}
	}
	if _, err := cgroup2.NewManager(t.Root, path, res); err != nil {
		return fmt.Errorf("make cgroup %s: %w", path, explainBusy(err))
	}
	// The library enables only the controllers of the limits it writes
	// (no cpuset where the job has none); the containers' cgroups need
	// all of them, in every level down to and in the parent itself.
	var enable []string
	for _, c := range v2Controllers {
		enable = append(enable, "+"+c)
	}
	levels := []string{t.Root}
	for _, part := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		levels = append(levels, filepath.Join(levels[len(levels)-1], part))
	}
	for _, dir := range levels {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(strings.Join(enable, " ")), 0); err != nil {
			return fmt.Errorf("cgroup %s: enable %s in %s: %w", path, strings.Join(v2Controllers, ", "), dir, err)
		}
	}
	return nil
}

func (t *Tree) readV2(path string) (plan.CgroupLimits, error) {
	var l plan.CgroupLimits
	var err error
	dir := filepath.Join(t.Root, path)
	fail := func(err error) (plan.CgroupLimits, error) {
		return plan.CgroupLimits{}, fmt.Errorf("read cgroup %s: %w", path, err)
	}
	// An empty cpuset.cpus takes its parent's; what holds is .effective.
	if l.CPUs, err = readTrim(filepath.Join(dir, "cpuset.cpus.effective")); err != nil {
		return fail(err)
	}
	if l.Mems, err = readTrim(filepath.Join(dir, "cpuset.mems.effective")); err != nil {
		return fail(err)
	}
	if l.MemoryBytes, err = readLimit(filepath.Join(dir, "memory.max")); err != nil {
		return fail(err)
	}
	total, err := t.SwapTotal()
	if err != nil {
		return fail(err)
	}
	if total > 0 {
		// Without swap accounting there is no file: no bound either.
		if l.SwapBytes, err = readLimitOrMax(filepath.Join(dir, "memory.swap.max")); errors.Is(err, fs.ErrNotExist) {
			l.SwapBytes = plan.UnlimitedSwap
		} else if err != nil {
			return fail(err)
		}
	}
	if l.Pids, err = readLimit(filepath.Join(dir, "pids.max")); err != nil {
		return fail(err)
	}
	s, err := readTrim(filepath.Join(dir, "cpu.max"))
	if err != nil {
		return fail(err)
	}
	if f := strings.Fields(s); len(f) == 2 && f[0] != "max" {
		quota, err1 := strconv.ParseInt(f[0], 10, 64)
		period, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || period <= 0 {
			return fail(fmt.Errorf("cpu.max %q is not a quota and a period", s))
		}
		l.NanoCPUs = quota * 1e9 / period
	}
	return l, nil
}

// readLimitOrMax reads a v2 limit where "max" is UnlimitedSwap and a
// number is itself, 0 included.
func readLimitOrMax(path string) (int64, error) {
	s, err := readTrim(path)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return plan.UnlimitedSwap, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a limit", path, s)
	}
	if n >= 1<<62 {
		return plan.UnlimitedSwap, nil
	}
	return n, nil
}
