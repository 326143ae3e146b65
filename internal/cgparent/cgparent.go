// Package cgparent makes, reads back and removes the parent cgroups that
// hold userdocker's containers (DESIGN.md §3.10, §4): one per job on a
// node, /userdocker/<node>/job_<id>, which holds the job's limits for all
// of the job's containers together, and one per caller outside a job,
// /userdocker/<host>/user_<uid>. dockerd's cgroupfs driver puts each
// container in a cgroup of its own below the parent it is given
// (HostConfig.CgroupParent), so the parent's limits bound their sum.
//
// It works on cgroup v1 (every controller its own hierarchy, as on this
// project's machines, with or without the hybrid unified/ tree) and on
// cgroup v2, at any mount root, so that both can be tested on a tree of
// plain files shaped like the kernel's. github.com/containerd/cgroups/v3
// creates the cgroups and writes their limits: it knows the orders the
// kernel insists on (v1 cpuset parents filled in before a child, memsw
// and memory limits raised and lowered in the right order, v2
// controllers enabled down the path). What it reads back and the removal
// are plain file operations here.
package cgparent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/plan"
)

// Base is the cgroup below which every parent is made, in every
// hierarchy, beside dockerd's own /docker.
const Base = "/userdocker"

// validNode is a node or host name that may be a cgroup directory.
var validNode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidNode reports whether name can name a node's level of the tree:
// letters, digits, '.', '_' and '-', at most 64, not "." or "..".
func ValidNode(name string) bool {
	return validNode.MatchString(name) && name != "." && name != ".."
}

// JobPath is the parent cgroup of job jobID's containers on node: one
// per node, so that two nodes sharing a kernel (several slurmd on one
// host) never share a job's limits, nor remove each other's.
func JobPath(node, jobID string) (string, error) {
	if !ValidNode(node) {
		return "", fmt.Errorf("node name %q cannot name a cgroup", node)
	}
	if _, err := strconv.ParseUint(jobID, 10, 32); err != nil || strings.HasPrefix(jobID, "0") {
		return "", fmt.Errorf("job id %q cannot name a cgroup", jobID)
	}
	return Base + "/" + node + "/job_" + jobID, nil
}

// UserPath is the parent cgroup of the containers the user uid runs
// outside any job on host.
func UserPath(host string, uid uint32) (string, error) {
	if !ValidNode(host) {
		return "", fmt.Errorf("host name %q cannot name a cgroup", host)
	}
	return Base + "/" + host + "/user_" + strconv.FormatUint(uint64(uid), 10), nil
}

// HostName is the short host name that UserPath takes: this host's
// name up to the first dot.
func HostName(hostname func() (string, error)) (string, error) {
	h, err := hostname()
	if err != nil {
		return "", fmt.Errorf("host name: %w", err)
	}
	h, _, _ = strings.Cut(h, ".")
	return h, nil
}

// Tree is this host's cgroup file system, as mounted at Root.
type Tree struct {
	// Root is where the hierarchies are mounted: one directory per v1
	// hierarchy below it, or the v2 unified hierarchy itself.
	Root string
	// Version is 1 or 2.
	Version int
	// has are the controllers found: v1, the mounted ones among those
	// userdocker sets; v2, those of the root's cgroup.controllers.
	has map[string]bool
	// memsw: the v1 memory controller accounts swap (memory.memsw.*).
	memsw bool
	// SwapTotal says how much swap the host has (/proc/meminfo). Open
	// sets it; it is asked only where the kernel cannot bound swap.
	SwapTotal func() (int64, error)
}

// Open finds the cgroup file system at root (normally
// alloc.DefaultCgroupRoot): v2 when root holds cgroup.controllers, v1
// when a memory hierarchy is mounted below it. It fails, naming what is
// missing, when a controller the parents need is not there: cpuset,
// memory and pids (and cpu on v2, where cpuset comes with it).
func Open(root string) (*Tree, error) {
	t := &Tree{Root: root, has: map[string]bool{}, SwapTotal: swapTotal}
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return t, t.openV2()
	}
	if fi, err := os.Stat(filepath.Join(root, "memory")); err == nil && fi.IsDir() {
		return t, t.openV1()
	}
	return nil, fmt.Errorf("no cgroup file system at %s: neither cgroup v2 (cgroup.controllers) nor a cgroup v1 memory hierarchy", root)
}

// Ensure makes the parent cgroup path, or finds it, and gives it the
// limits want (see plan.CgroupLimits; a zero memory, CPU or pids limit
// is none, and swap is bound to none whenever memory is bound). An
// existing parent is given want again: its limits may be another's (a
// requeued job, a changed policy), and containers may be running in it.
// It returns the limits as the kernel reports them afterwards, for
// plan.CheckParentCgroup. The caller serialises Ensure for one parent.
func (t *Tree) Ensure(path string, want plan.CgroupLimits) (plan.CgroupLimits, error) {
	if err := checkPath(path); err != nil {
		return plan.CgroupLimits{}, err
	}
	var err error
	if t.Version == 2 {
		err = t.ensureV2(path, want)
	} else {
		err = t.ensureV1(path, want)
	}
	if err != nil {
		return plan.CgroupLimits{}, err
	}
	return t.Read(path)
}

// Read returns the limits the parent cgroup path holds, as the kernel
// reports them.
func (t *Tree) Read(path string) (plan.CgroupLimits, error) {
	if err := checkPath(path); err != nil {
		return plan.CgroupLimits{}, err
	}
	if t.Version == 2 {
		return t.readV2(path)
	}
	return t.readV1(path)
}

// checkPath accepts the paths JobPath and UserPath make: below Base,
// absolute and clean (dockerd and runc resolve a relative parent against
// their own cgroup).
func checkPath(path string) error {
	if !strings.HasPrefix(path, Base+"/") || filepath.Clean(path) != path {
		return fmt.Errorf("cgroup %q is not below %s", path, Base)
	}
	return nil
}

// noLimit is written where a memory limit is to be none: the kernel
// takes it as its largest value (the literal "max" exists on v2 only,
// and v1's "-1" cannot be ordered against memsw by the library).
const noLimit = int64(1<<63 - 1)

// Usage is what the containers of a parent cgroup used together, for the
// record of the job's end.
type Usage struct {
	// PeakMemoryBytes is the most memory they held at once (page cache
	// included); PeakKnown is false where the kernel does not say (v2
	// before Linux 5.19).
	PeakMemoryBytes int64
	PeakKnown       bool
	// CPU is the CPU time they used; CPUKnown false where not accounted.
	CPU      time.Duration
	CPUKnown bool
}

// Usage reads what the containers of parent cgroup path used together,
// and whether the parent exists. The kernel keeps the counts of
// containers that are gone, so it is read after the job's containers are
// removed and before the parent is.
func (t *Tree) Usage(path string) (Usage, bool, error) {
	if err := checkPath(path); err != nil {
		return Usage{}, false, err
	}
	var u Usage
	var err error
	switch t.Version {
	case 2:
		dir := filepath.Join(t.Root, path)
		if !isDir(dir) {
			return Usage{}, false, nil
		}
		if u.PeakMemoryBytes, u.PeakKnown, err = readCount(filepath.Join(dir, "memory.peak")); err != nil {
			return Usage{}, true, err
		}
		var usec int64
		if usec, u.CPUKnown, err = readStat(filepath.Join(dir, "cpu.stat"), "usage_usec"); err != nil {
			return Usage{}, true, err
		}
		u.CPU = time.Duration(usec) * time.Microsecond
	default:
		if !isDir(filepath.Join(t.Root, "memory", path)) {
			return Usage{}, false, nil
		}
		if u.PeakMemoryBytes, u.PeakKnown, err = readCount(filepath.Join(t.Root, "memory", path, "memory.max_usage_in_bytes")); err != nil {
			return Usage{}, true, err
		}
		var ns int64
		if ns, u.CPUKnown, err = readCount(filepath.Join(t.Root, "cpuacct", path, "cpuacct.usage")); err != nil {
			return Usage{}, true, err
		}
		u.CPU = time.Duration(ns)
	}
	return u, true, nil
}

// Remove removes the parent cgroup path with what is left below it (the
// empty cgroups of containers that are gone), in every hierarchy: on v1
// also in those userdocker sets nothing in but runc creates the parent
// in (devices, freezer, the hybrid unified/ tree, …). It removes nothing
// while any process is in it, and then fails. It reports whether there
// was anything to remove.
func (t *Tree) Remove(path string) (bool, error) {
	if err := checkPath(path); err != nil {
		return false, err
	}
	dirs, err := t.dirsOf(path)
	if err != nil || len(dirs) == 0 {
		return false, err
	}
	for _, d := range dirs {
		if err := noProcesses(d); err != nil {
			return true, fmt.Errorf("remove cgroup %s: %w", path, err)
		}
	}
	for _, d := range dirs {
		if err := removeTree(d); err != nil {
			return true, fmt.Errorf("remove cgroup %s: %w", path, err)
		}
	}
	return true, nil
}

// dirsOf lists the directories of path in every hierarchy where it exists.
func (t *Tree) dirsOf(path string) ([]string, error) {
	if t.Version == 2 {
		d := filepath.Join(t.Root, path)
		if isDir(d) {
			return []string{d}, nil
		}
		return nil, nil
	}
	entries, err := os.ReadDir(t.Root)
	if err != nil {
		return nil, fmt.Errorf("list cgroup hierarchies: %w", err)
	}
	var dirs []string
	for _, e := range entries {
		// Co-mounted controllers appear once as a directory ("cpu,cpuacct")
		// and again as symlinks to it ("cpu", "cpuacct").
		if !e.IsDir() {
			continue
		}
		if d := filepath.Join(t.Root, e.Name(), path); isDir(d) {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// noProcesses fails when a process is in the cgroup dir or below it.
func noProcesses(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if pids := strings.Fields(string(data)); len(pids) > 0 {
			return fmt.Errorf("%s still holds processes %s", p, strings.Join(pids, " "))
		}
		return nil
	})
}

// removeTree removes the cgroup dir and the cgroups below it. On a cgroup
// file system rmdir removes a cgroup whose only entries are its control
// files (which cannot be unlinked), and os.RemoveAll then succeeds. A
// cgroup the kernel still tears down answers EBUSY for a moment: a few
// retries, about 300 ms in all, as runc and the containerd library do.
func removeTree(dir string) error {
	pause := 10 * time.Millisecond
	for i := 0; ; i++ {
		err := os.RemoveAll(dir)
		if err == nil || i == 4 || !errors.Is(err, unix.EBUSY) {
			return err
		}
		time.Sleep(pause)
		pause *= 2
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// readTrim reads a one-line cgroup file.
func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// readCount reads a file holding one number, and whether it exists.
func readCount(path string) (int64, bool, error) {
	s, err := readTrim(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %q is not a number", path, s)
	}
	return n, true, nil
}

// readStat reads key's value from a "key value" file such as cpu.stat,
// and whether it is there.
func readStat(path, key string) (int64, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, false, fmt.Errorf("%s: %s %q is not a number", path, key, f[1])
			}
			return n, true, nil
		}
	}
	return 0, false, nil
}

// readLimit reads a limit file ("max" or a number); "max", and v1's
// memory values near 2^63, are 0: none.
func readLimit(path string) (int64, error) {
	s, err := readTrim(path)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a limit", path, s)
	}
	if n < 0 || n >= 1<<62 {
		return 0, nil
	}
	return n, nil
}

// swapTotal reads the host's swap size from /proc/meminfo.
func swapTotal() (int64, error) {
	kb, found, err := readStat("/proc/meminfo", "SwapTotal:")
	if err == nil && !found {
		err = errors.New("/proc/meminfo has no SwapTotal")
	}
	return kb << 10, err
}
