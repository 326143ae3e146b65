package alloc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/rangelist"
)

// DefaultCgroupRoot is where the cgroup hierarchies are mounted: one
// directory per v1 hierarchy below it, or the v2 unified hierarchy itself.
const DefaultCgroupRoot = "/sys/fs/cgroup"

// unlimitedV1 is where cgroup v1 memory limits start to mean "no limit":
// the kernel reports an unset limit as PAGE_COUNTER_MAX pages, a number
// just below 2^63 that depends on the page size.
const unlimitedV1 = 1 << 62

// Limits are the CPUs and memory Slurm confines a job to on this node.
// Docker containers run in dockerd's cgroups, not the job's, so userdocker
// applies these to each container itself (DESIGN.md §4).
type Limits struct {
	// CPUs is the job cgroup's cpuset, e.g. "0-3,8"; "" when Slurm does not
	// confine the job's cores (ConstrainCores=no: no Slurm cpuset cgroup).
	CPUs string
	// Mems are the memory nodes of the job cgroup's cpuset, "" with CPUs:
	// a cpuset cgroup of the job's containers needs both.
	Mems string
	// MemoryBytes is the job cgroup's memory limit; 0 when there is none
	// (ConstrainRAMSpace=no, or an unlimited cgroup).
	MemoryBytes int64
}

// JobLimits reads the limits of the job the caller runs in, from the job
// level of the caller's own cgroups (contents of /proc/self/cgroup, as
// userdocker sees them under sudo, which keeps the caller's cgroup).
// cgroupRoot is normally DefaultCgroupRoot.
//
// Why at run time and not from the allocation record: slurmd runs the
// prolog before it starts the job's extern step (PrologFlags=Contain), and
// that step is what creates the job cgroups, so at prolog time they
// usually do not exist yet; the record's cpus/memory_limit_bytes are only
// what the prolog happened to find. The caller's cgroup, in contrast,
// exists for as long as the caller runs.
//
// The job level is used, not the step's: the container is the job's, and a
// step (srun -c1) may see fewer CPUs than the job holds.
//
// It returns ErrNotInJob outside a job, and an error when a file of a job
// cgroup that the caller is in cannot be read: a limit that exists but
// cannot be read must not silently become "no limit".
func JobLimits(procSelfCgroup []byte, cgroupRoot string) (Limits, error) {
	jcs, err := jobCgroups(procSelfCgroup)
	if err != nil {
		return Limits{}, err
	}
	var lim Limits
	for _, jc := range jcs {
		switch {
		case jc.line.unified:
			dir := filepath.Join(cgroupRoot, jc.dir)
			if lim.CPUs, err = readCPUs(filepath.Join(dir, "cpuset.cpus.effective")); err != nil {
				return Limits{}, err
			}
			if lim.Mems, err = readCPUs(filepath.Join(dir, "cpuset.mems.effective")); err != nil {
				return Limits{}, err
			}
			if lim.MemoryBytes, err = readMemoryLimit(filepath.Join(dir, "memory.max")); err != nil {
				return Limits{}, err
			}
		case hasController(jc.line.controllers, "cpuset"):
			dir := filepath.Join(cgroupRoot, jc.line.controllers, jc.dir)
			if lim.CPUs, err = readCPUs(filepath.Join(dir, "cpuset.cpus")); err != nil {
				return Limits{}, err
			}
			if lim.Mems, err = readCPUs(filepath.Join(dir, "cpuset.mems")); err != nil {
				return Limits{}, err
			}
		case hasController(jc.line.controllers, "memory"):
			dir := filepath.Join(cgroupRoot, jc.line.controllers, jc.dir)
			if lim.MemoryBytes, err = readMemoryLimit(filepath.Join(dir, "memory.limit_in_bytes")); err != nil {
				return Limits{}, err
			}
		}
	}
	return lim, nil
}

// JobLimitsByID is the prolog's best-effort look for the job cgroup of a
// job it is not running in: job id, its SLUID ("" if none) and its
// owner's uid. Missing cgroups are not an error: see JobLimits for why
// they usually do not exist yet.
func JobLimitsByID(cgroupRoot, id, sluid string, uid uint32) Limits {
	var lim Limits
	names := []string{"job_" + id}
	if sluid != "" {
		names = append(names, sluid)
	}
	// cgroup v1: <root>/<controller>/slurm[_<node>]/uid_<uid>/job_<id>.
	uidDir := "uid_" + strconv.FormatUint(uint64(uid), 10)
	for _, d := range globSlurmV1(cgroupRoot, "cpuset", uidDir, names[0]) {
		if cpus, err := readCPUs(filepath.Join(d, "cpuset.cpus")); err == nil && cpus != "" {
			lim.CPUs = cpus
		}
	}
	for _, d := range globSlurmV1(cgroupRoot, "memory", uidDir, names[0]) {
		if m, err := readMemoryLimit(filepath.Join(d, "memory.limit_in_bytes")); err == nil && m > 0 {
			lim.MemoryBytes = m
		}
	}
	// cgroup v2: <root>/<slice>/[<node>_]slurmstepd.scope/<job dir>.
	for _, name := range names {
		dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*.slice", "*slurmstepd.scope", name))
		for _, d := range dirs {
			if cpus, err := readCPUs(filepath.Join(d, "cpuset.cpus.effective")); err == nil && cpus != "" {
				lim.CPUs = cpus
			}
			if m, err := readMemoryLimit(filepath.Join(d, "memory.max")); err == nil && m > 0 {
				lim.MemoryBytes = m
			}
		}
	}
	return lim
}

func globSlurmV1(root, controller, uidDir, jobDir string) []string {
	dirs, _ := filepath.Glob(filepath.Join(root, controller, "slurm*", uidDir, jobDir))
	var out []string
	for _, d := range dirs {
		top := filepath.Base(filepath.Dir(filepath.Dir(d)))
		if top == "slurm" || strings.HasPrefix(top, "slurm_") {
			out = append(out, d)
		}
	}
	return out
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readCPUs reads a cpuset file; a missing file means no cpuset controller
// for this cgroup ("").
func readCPUs(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read job cpuset: %w", err)
	}
	cpus := strings.TrimSpace(string(data))
	if err := ValidateCPUList(cpus); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return cpus, nil
}

// readMemoryLimit reads memory.max (v2) or memory.limit_in_bytes (v1); a
// missing file means no memory controller for this cgroup (0).
func readMemoryLimit(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read job memory limit: %w", err)
	}
	n, err := ParseMemoryLimit(string(data))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// ParseMemoryLimit reads a cgroup memory limit file's contents: bytes, or
// "max" (v2). No limit, including v1's near-2^63 "unset" value, is 0.
func ParseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory limit %q is not a number of bytes", s)
	}
	if n >= unlimitedV1 {
		return 0, nil
	}
	return int64(n), nil
}

// ValidateCPUList checks the kernel's cpu list syntax ("0-3,8,10-11"), so
// that nothing else reaches Docker's CpusetCpus. "" is valid: no cpuset.
func ValidateCPUList(s string) error {
	var e *rangelist.Error
	if _, err := rangelist.Parse(s, rangelist.CPUs); errors.As(err, &e) {
		return fmt.Errorf("cpu list %q: %q is not a cpu number or low-high range", s, e.Item)
	}
	return nil
}
