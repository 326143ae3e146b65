package cgparent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/plan"
)

// seed writes files below root; a trailing "/" makes a directory.
func seed(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func noSwap() (int64, error)  { return 0, nil }
func hasSwap() (int64, error) { return 1 << 30, nil }

// v2Tree is a directory shaped like a cgroup v2 mount: the root's
// cgroup.controllers and cgroup.subtree_control, and the files the
// kernel would show in the job's cgroup once its controllers are on
// (.effective, which the kernel computes, are seeded).
func v2Tree(t *testing.T, controllers string) string {
	root := t.TempDir()
	const job = "userdocker/vm/job_7/"
	seed(t, root, map[string]string{
		"cgroup.controllers":                   controllers + "\n",
		"cgroup.subtree_control":               "",
		"userdocker/cgroup.subtree_control":    "",
		"userdocker/vm/cgroup.subtree_control": "",
		job + "cgroup.subtree_control":         "",
		job + "cpuset.cpus.effective":          "2-3\n",
		job + "cpuset.mems.effective":          "0\n",
		job + "memory.swap.max":                "max\n",
		job + "cgroup.procs":                   "",
		job + "3f2a/cgroup.procs":              "",
		job + "3f2a/memory.max":                "max\n",
		"userdocker/vm/job_8/cgroup.procs":     "4242\n",
		"userdocker/vm/job_8/memory.peak":      "1\n",
		"userdocker/vm/job_8/cpu.stat":         "usage_usec 1\n",
		"userdocker/vm/user_2001/cgroup.procs": "",
		"userdocker/vm/user_2001/cpu.stat":     "usage_usec 1\n",
		"userdocker/vm/user_2001/pids.max":     "max\n",
		"userdocker/vm/user_2001/memory.max":   "max\n",
		"userdocker/vm/user_2001/cpu.max":      "max 100000\n",
	})
	return root
}

// TestV2: on a v2-shaped tree, a job's parent gets its controllers
// enabled on the way down and for its containers, the job's limits in
// the v2 files (swap 0 where the host has swap), reads back as written,
// reports its usage, and goes with its empty child cgroups; a parent
// with processes stays.
func TestV2(t *testing.T) {
	root := v2Tree(t, "cpuset cpu io memory pids")
	tr, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	tr.SwapTotal = hasSwap
	if tr.Version != 2 {
		t.Fatalf("version %d, want 2", tr.Version)
	}
	want := plan.CgroupLimits{CPUs: "2-3", Mems: "0", MemoryBytes: 256 << 20, Pids: 100}
	got, err := tr.Ensure("/userdocker/vm/job_7", want)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	job := filepath.Join(root, "userdocker/vm/job_7")
	for file, want := range map[string]string{
		"cpuset.cpus":     "2-3",
		"cpuset.mems":     "0",
		"memory.max":      "268435456",
		"memory.swap.max": "0",
		"pids.max":        "100",
		"cpu.max":         "max 100000",
		// its containers' cgroups get every controller too
		"cgroup.subtree_control": "+cpuset +cpu +memory +pids",
	} {
		if got := read(t, filepath.Join(job, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	for _, level := range []string{"", "userdocker", "userdocker/vm"} {
		got := read(t, filepath.Join(root, level, "cgroup.subtree_control"))
		for _, c := range []string{"cpuset", "cpu", "memory", "pids"} {
			if !strings.Contains(got, "+"+c) {
				t.Errorf("%s/cgroup.subtree_control = %q, want +%s", level, got, c)
			}
		}
	}

	// Outside a job: a CPU quota, no memory limit.
	user := plan.CgroupLimits{NanoCPUs: 1_500_000_000, Pids: 300, SwapBytes: plan.UnlimitedSwap}
	seed(t, root, map[string]string{"userdocker/vm/user_2001/cpuset.cpus.effective": "0-3", "userdocker/vm/user_2001/cpuset.mems.effective": "0"})
	got, err = tr.Ensure("/userdocker/vm/user_2001", user)
	if err != nil {
		t.Fatal(err)
	}
	if got.NanoCPUs != user.NanoCPUs || got.Pids != 300 || got.MemoryBytes != 0 {
		t.Errorf("user's parent read back %+v, want %+v", got, user)
	}
	if got := read(t, filepath.Join(root, "userdocker/vm/user_2001/cpu.max")); got != "150000 100000" {
		t.Errorf("cpu.max = %q, want 150000 100000", got)
	}

	seed(t, root, map[string]string{
		"userdocker/vm/job_7/memory.peak": "268435456\n",
		"userdocker/vm/job_7/cpu.stat":    "usage_usec 2500000\nuser_usec 2000000\n",
	})
	u, ok, err := tr.Usage("/userdocker/vm/job_7")
	if err != nil || !ok {
		t.Fatalf("Usage: %v, %v", ok, err)
	}
	if want := (Usage{PeakMemoryBytes: 256 << 20, PeakKnown: true, CPU: 2500 * time.Millisecond, CPUKnown: true}); u != want {
		t.Errorf("Usage = %+v, want %+v", u, want)
	}
	if _, err := tr.Remove("/userdocker/vm/job_8"); err == nil || !strings.Contains(err.Error(), "still holds processes 4242") {
		t.Errorf("removing a parent with processes: %v", err)
	}
	if existed, err := tr.Remove("/userdocker/vm/job_7"); err != nil || !existed {
		t.Fatalf("Remove: %v, %v", existed, err)
	}
	if isDir(job) {
		t.Error("the job's parent is still there")
	}
	if existed, err := tr.Remove("/userdocker/vm/job_7"); err != nil || existed {
		t.Errorf("Remove again: %v, %v; want nothing to do", existed, err)
	}
	if _, ok, err := tr.Usage("/userdocker/vm/job_7"); ok || err != nil {
		t.Errorf("Usage of a removed parent: %v, %v", ok, err)
	}
}

// TestV2NoSwap: where the host has no swap, none is bounded, and none
// counts as none.
func TestV2NoSwap(t *testing.T) {
	root := v2Tree(t, "cpuset cpu memory pids")
	tr, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	tr.SwapTotal = noSwap
	// A job without a cpuset of its own: cpuset is still enabled all the
	// way down, for the containers' cgroups.
	got, err := tr.Ensure("/userdocker/vm/job_7", plan.CgroupLimits{MemoryBytes: 1 << 30, Pids: 5})
	for _, level := range []string{"", "userdocker", "userdocker/vm", "userdocker/vm/job_7"} {
		if s := read(t, filepath.Join(root, level, "cgroup.subtree_control")); s != "+cpuset +cpu +memory +pids" {
			t.Errorf("%s/cgroup.subtree_control = %q", level, s)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.SwapBytes != 0 {
		t.Errorf("swap %d, want 0", got.SwapBytes)
	}
	if s := read(t, filepath.Join(root, "userdocker/vm/job_7/memory.swap.max")); s != "max\n" {
		t.Errorf("memory.swap.max written: %q", s)
	}
}

// TestOpenRefuses: a cgroup file system without what the parents need.
func TestOpenRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"v2 without pids", map[string]string{"cgroup.controllers": "cpuset cpu memory\n"},
			"the cgroup v2 controller pids is not available at ROOT (cgroup.controllers)"},
		{"v1 without cpuset", map[string]string{"memory/memory.use_hierarchy": "1\n", "pids/": ""},
			"the cgroup v1 controller cpuset is not mounted at ROOT/cpuset"},
		{"v1 not hierarchical", map[string]string{"memory/memory.use_hierarchy": "0\n", "pids/": "", "cpuset/": ""},
			"the cgroup v1 memory hierarchy is not hierarchical (memory.use_hierarchy = 0): a parent's limit would not hold its containers"},
		{"nothing", map[string]string{"x/": ""},
			"no cgroup file system at ROOT: neither cgroup v2 (cgroup.controllers) nor a cgroup v1 memory hierarchy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			seed(t, root, tc.files)
			_, err := Open(root)
			if want := strings.ReplaceAll(tc.want, "ROOT", root); err == nil || err.Error() != want {
				t.Errorf("Open: %v\nwant %s", err, want)
			}
		})
	}
}

// v1Tree is a tree of v1 hierarchies, with a job's parent as the kernel
// shows it once made (its control files at their defaults).
func v1Tree(t *testing.T, memsw bool) string {
	root := t.TempDir()
	const job = "/userdocker/vm/job_7/"
	files := map[string]string{
		"cpuset/cpuset.cpus":                         "0-3\n",
		"cpuset/cpuset.mems":                         "0\n",
		"memory/memory.use_hierarchy":                "1\n",
		"memory" + job + "memory.limit_in_bytes":     "9223372036854771712\n",
		"pids" + job + "pids.max":                    "max\n",
		"cpu" + job + "cpu.cfs_quota_us":             "-1\n",
		"cpu" + job + "cpu.cfs_period_us":            "100000\n",
		"cpuacct" + job + "cpuacct.usage":            "3500000000\n",
		"memory" + job + "memory.max_usage_in_bytes": "1000\n",
		"devices" + job + "5e1f/":                    "",
		"unified" + job:                              "",
	}
	if memsw {
		files["memory/memory.memsw.limit_in_bytes"] = "9223372036854771712\n"
		files["memory"+job+"memory.memsw.limit_in_bytes"] = "9223372036854771712\n"
	}
	seed(t, root, files)
	return root
}

// TestV1: a job's parent on v1 gets the job's cpuset, memory and memsw
// (no swap), pids, reads back as written, and is removed in every
// hierarchy runc made it in (devices, the hybrid unified/).
func TestV1(t *testing.T) {
	root := v1Tree(t, true)
	tr, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	tr.SwapTotal = hasSwap
	want := plan.CgroupLimits{CPUs: "2-3", Mems: "0", MemoryBytes: 256 << 20, Pids: 100}
	got, err := tr.Ensure("/userdocker/vm/job_7", want)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	if s := read(t, filepath.Join(root, "memory/userdocker/vm/job_7/memory.memsw.limit_in_bytes")); s != "268435456" {
		t.Errorf("memsw = %q, want the memory limit", s)
	}
	// The levels above get the root's cpuset (a v1 cpuset cgroup with
	// none takes no task, and none below it).
	if s := read(t, filepath.Join(root, "cpuset/userdocker/vm/cpuset.cpus")); s != "0-3\n" {
		t.Errorf("/userdocker/vm cpuset.cpus = %q, want the root's", s)
	}
	u, ok, err := tr.Usage("/userdocker/vm/job_7")
	if want := (Usage{PeakMemoryBytes: 1000, PeakKnown: true, CPU: 3500 * time.Millisecond, CPUKnown: true}); err != nil || !ok || u != want {
		t.Errorf("Usage = %+v, %v, %v; want %+v", u, ok, err, want)
	}
	if _, err := tr.Remove("/userdocker/vm/job_7"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"cpuset", "memory", "pids", "cpu", "cpuacct", "devices", "unified"} {
		if isDir(filepath.Join(root, h, "userdocker/vm/job_7")) {
			t.Errorf("%s/userdocker/vm/job_7 is still there", h)
		}
	}
}

// TestV1NoSwapAccounting: without memsw, a memory limit holds only on a
// host without swap; with swap it is refused, not set looser.
func TestV1NoSwapAccounting(t *testing.T) {
	root := v1Tree(t, false)
	tr, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	tr.SwapTotal = noSwap
	if got, err := tr.Ensure("/userdocker/vm/job_7", plan.CgroupLimits{MemoryBytes: 1 << 30, Pids: 5}); err != nil || got.SwapBytes != 0 {
		t.Errorf("without swap: %+v, %v", got, err)
	}
	tr.SwapTotal = hasSwap
	_, err = tr.Ensure("/userdocker/vm/job_7", plan.CgroupLimits{MemoryBytes: 1 << 30, Pids: 5})
	if err == nil || !strings.Contains(err.Error(), "does not account swap") {
		t.Errorf("with swap: %v, want a refusal", err)
	}
}

func TestNames(t *testing.T) {
	if p, err := JobPath("vm2", "394"); err != nil || p != "/userdocker/vm2/job_394" {
		t.Errorf("JobPath = %q, %v", p, err)
	}
	if p, err := UserPath("vm", 2001); err != nil || p != "/userdocker/vm/user_2001" {
		t.Errorf("UserPath = %q, %v", p, err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "-x", strings.Repeat("n", 65)} {
		if _, err := JobPath(bad, "1"); err == nil {
			t.Errorf("JobPath(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "0", "07", "1/2", "x"} {
		if _, err := JobPath("vm", bad); err == nil {
			t.Errorf("JobPath job %q accepted", bad)
		}
	}
	tr := &Tree{Root: t.TempDir(), Version: 2}
	for _, bad := range []string{"/docker/x", "/userdocker/../x", "userdocker/vm/job_1"} {
		if _, err := tr.Read(bad); err == nil || !strings.Contains(err.Error(), "is not below /userdocker") {
			t.Errorf("Read(%q): %v", bad, err)
		}
	}
}
