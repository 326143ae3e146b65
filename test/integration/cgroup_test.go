//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The parent cgroup of a job's containers (issue 10): one per job on a
// node, /userdocker/<node>/job_<id>, made by the job's first run, holding
// the job's limits for all its containers together, removed by the
// epilog. The machine has cgroup v1 (every controller its own hierarchy,
// and a hybrid unified/ tree); dockerd uses the cgroupfs driver.

const cgroupRoot = "/sys/fs/cgroup"

// jobParent is the parent cgroup of job j's containers on this node.
func jobParent(t *testing.T, j slurmJob) string {
	t.Helper()
	return "/userdocker/" + jobRecord(t, j).Node + "/job_" + j.ID
}

// cgRead reads a file of cgroup path in controller's hierarchy.
func cgRead(t *testing.T, controller, path, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cgroupRoot, controller, path, file))
	if err != nil {
		t.Fatalf("cgroup %s %s: %v", controller, path, err)
	}
	return strings.TrimSpace(string(b))
}

func cgInt(t *testing.T, controller, path, file string) int64 {
	t.Helper()
	s := cgRead(t, controller, path, file)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("cgroup %s %s/%s = %q", controller, path, file, s)
	}
	return n
}

// cgroupOf is the cgroup of container id's init process in controller's
// hierarchy, as the kernel says (/proc/<pid>/cgroup).
func cgroupOf(t *testing.T, id, controller string) string {
	t.Helper()
	pid := strings.TrimSpace(docker(t, "inspect", "-f", "{{.State.Pid}}", id))
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatalf("container %s: %v", id, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && (f[1] == controller || strings.Contains(","+f[1]+",", ","+controller+",")) {
			return f[2]
		}
	}
	t.Fatalf("container %s: no %s line in /proc/%s/cgroup:\n%s", id, controller, pid, b)
	return ""
}

// cgroupGone reports whether path is gone from every hierarchy.
func cgroupGone(path string) (bool, string) {
	entries, _ := os.ReadDir(cgroupRoot)
	for _, e := range entries {
		if d := filepath.Join(cgroupRoot, e.Name(), path); e.IsDir() {
			if _, err := os.Stat(d); err == nil {
				return false, d
			}
		}
	}
	return true, ""
}

// removeCgroup removes path (and its empty children) from every
// hierarchy: for the parent a test makes outside a job, which no epilog
// removes.
func removeCgroup(path string) {
	entries, _ := os.ReadDir(cgroupRoot)
	for _, e := range entries {
		if e.IsDir() {
			exec.Command("find", filepath.Join(cgroupRoot, e.Name(), path), "-depth", "-type", "d", "-exec", "rmdir", "{}", ";").Run()
		}
	}
}

// holders counts the processes named comm in the cgroups below path
// (memory hierarchy): which of the containers' dd still hold memory.
func holders(t *testing.T, path, comm string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(cgroupRoot, "memory", path), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, pid := range strings.Fields(string(b)) {
			c, _ := os.ReadFile("/proc/" + pid + "/comm")
			if strings.TrimSpace(string(c)) == comm {
				n++
			}
		}
		return nil
	})
	return n
}

// hold is a container command that holds size of memory until killed:
// dd keeps its buffer while it waits on the pipe. The shell that started
// it says when dd has it (or died trying).
func hold(size string) string {
	return `dd if=/dev/zero bs=` + size + ` count=1 2>/dev/null | sleep 600`
}

// TestSlurmJobContainersShareTheJobsLimits: a --mem=256 job starts three
// containers that each try to hold 200 MiB. They are in the job's parent
// cgroup (the kernel says so), which holds the job's memory (memsw the
// same: no swap), its cpuset and the job's pids total; together they
// never use more than the job's memory, so at most one of the three dd
// still holds its 200 MiB. Three containers of 50 MiB all hold theirs.
// Meanwhile bob's job gets a parent of its own with his limits. alice
// cannot write the parent's limits, nor make a cgroup in it. After the
// job, the epilog has removed the parent from every hierarchy, recorded
// what the containers used together, and the node is up.
func TestSlurmJobContainersShareTheJobsLimits(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, baseConfig)
	j := holdJob(t, alice, "-c1", "--mem=256")
	other := holdJob(t, bob, "-c1", "--mem=128")
	parent, otherParent := jobParent(t, j), jobParent(t, other)
	if parent == otherParent {
		t.Fatalf("two jobs share the parent %s", parent)
	}

	var ids []string
	for range 3 {
		r := inJob(t, j, nil, "run", "-d", cudaImage, "sh", "-c", hold("200M"))
		id := strings.TrimSpace(r.stdout)
		if r.code != 0 || len(id) != 64 {
			// The kernel may kill the third container's init at start.
			t.Logf("run -d of a 200 MiB container: exit %d, %q", r.code, r.stderr)
			continue
		}
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
		ids = append(ids, id)
	}
	bobs := startIn(t, other, nil)

	for _, id := range ids {
		for _, c := range []string{"memory", "cpuset", "pids", "devices"} {
			if got := cgroupOf(t, id, c); got != parent+"/"+id {
				t.Errorf("container %s is in %s cgroup %s, want %s/<id>", id[:12], c, got, parent)
			}
		}
	}
	if got := cgroupOf(t, bobs, "memory"); got != otherParent+"/"+bobs {
		t.Errorf("bob's container is in %s, want below his job's parent %s", got, otherParent)
	}
	const jobMem = 256 << 20
	if got := cgInt(t, "memory", parent, "memory.limit_in_bytes"); got != jobMem {
		t.Errorf("the parent's memory limit is %d, want the job's %d", got, jobMem)
	}
	if got := cgInt(t, "memory", parent, "memory.memsw.limit_in_bytes"); got != jobMem {
		t.Errorf("the parent's memory+swap limit is %d, want %d (no swap)", got, jobMem)
	}
	if got := cgInt(t, "memory", otherParent, "memory.limit_in_bytes"); got != 128<<20 {
		t.Errorf("bob's parent's memory limit is %d, want his job's %d", got, 128<<20)
	}
	if got, want := cgRead(t, "cpuset", parent, "cpuset.cpus"), jobCgroupFile(t, j, "cpuset", "cpuset.cpus"); got != want {
		t.Errorf("the parent's cpuset is %q, want the job's %q", got, want)
	}
	if got := cgRead(t, "pids", parent, "pids.max"); got != "16384" {
		t.Errorf("the parent's pids.max is %s, want slurm.job_pids_limit's default 16384", got)
	}
	// `run -d` returns before dd has its memory: wait for the first one.
	waitFor(t, "the containers' dd to hold their memory or die", func() bool {
		return cgInt(t, "memory", parent, "memory.max_usage_in_bytes") >= 190<<20
	})
	// Two at once cannot fit: the kernel kills one as it allocates (a
	// dd still alive may be on its way there); if it did not, this waits
	// in vain and fails.
	waitFor(t, "at most one container to hold 200 MiB in a 256 MiB job", func() bool { return holders(t, parent, "dd") <= 1 })
	if got := cgInt(t, "memory", parent, "memory.max_usage_in_bytes"); got > jobMem {
		t.Errorf("the job's containers used %d bytes together, more than the job's %d", got, jobMem)
	}

	// alice, in her job, cannot loosen the parent or hide in it.
	for _, attack := range []string{
		"echo 1073741824 > " + filepath.Join(cgroupRoot, "memory", parent, "memory.limit_in_bytes"),
		"echo $$ > " + filepath.Join(cgroupRoot, "memory", parent, "cgroup.procs"),
		"mkdir " + filepath.Join(cgroupRoot, "memory", parent, "mine"),
	} {
		if r := srunIn(t, j, time.Minute, "sh", "-c", attack); r.code == 0 {
			t.Errorf("as alice, %q succeeded", attack)
		}
	}
	if got := cgInt(t, "memory", parent, "memory.limit_in_bytes"); got != jobMem {
		t.Errorf("the parent's memory limit is %d after alice's attempts", got)
	}

	// 3 × 50 MiB fit together.
	for _, id := range ids {
		exec.Command("docker", "rm", "-f", id).Run()
	}
	var small []string
	for range 3 {
		small = append(small, startIn2(t, j, hold("50M")))
	}
	waitFor(t, "three dd of 50 MiB to hold their memory", func() bool { return holders(t, parent, "dd") == 3 })

	// A user's --cgroup-parent is refused, their own job's included.
	r := inJob(t, j, nil, "run", "--rm", "--cgroup-parent="+parent, cudaImage, "true")
	if r.code != 125 || !strings.Contains(r.stderr, "--cgroup-parent is not allowed on this system") {
		t.Errorf("--cgroup-parent: exit %d, %q", r.code, r.stderr)
	}

	cancelJob(t, j)
	cancelJob(t, other)
	for _, p := range []string{parent, otherParent} {
		if gone, where := cgroupGone(p); !gone {
			t.Errorf("%s is still there after the job", where)
		}
	}
	rec := epilogRecord(t, j.ID)
	if rec.PeakMemoryBytes == nil || *rec.PeakMemoryBytes < 150<<20 || *rec.PeakMemoryBytes > jobMem {
		t.Errorf("the epilog recorded peak memory %v, want the containers' (150 MiB to 256 MiB)", rec.PeakMemoryBytes)
	}
	if rec.CPUSeconds == nil || *rec.CPUSeconds <= 0 {
		t.Errorf("the epilog recorded CPU seconds %v, want some", rec.CPUSeconds)
	}
	if len(rec.Containers) != len(small) {
		t.Errorf("the epilog removed %v, want the 3 small containers", rec.Containers)
	}
	assertNodeHealthy(t)
}

// startIn2 starts a detached container running cmd in job j.
func startIn2(t *testing.T, j slurmJob, cmd string) string {
	t.Helper()
	r := inJob(t, j, nil, "run", "-d", cudaImage, "sh", "-c", cmd)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -d in job %s: exit %d, %q", j.ID, r.code, r.stderr)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	return id
}

// TestSlurmJobPidsTotal: with slurm.job_pids_limit = 60, four concurrent
// first runs of a job make one parent, all four containers below it;
// then one container that starts 40 sleeps leaves another unable to
// start 40 more, whatever each one's --pids-limit (4096): the parent's
// pids.current stays at or below 60.
func TestSlurmJobPidsTotal(t *testing.T) {
	requireSlurm(t)
	const at = `outside_job = "no-gpu"`
	writeConfig(t, strings.Replace(baseConfig, at, at+"\njob_pids_limit = 60", 1))
	j := holdJob(t, alice, "-c1", "--mem=256")
	parent := jobParent(t, j)
	if gone, _ := cgroupGone(parent); !gone {
		t.Fatalf("%s exists before the job's first run", parent)
	}
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Go(func() {
			r := inJob(t, j, nil, "run", "-d", cudaImage, "sh", "-c", quickStop)
			ids[i] = strings.TrimSpace(r.stdout)
			if r.code != 0 {
				t.Errorf("concurrent run %d: exit %d, %q", i, r.code, r.stderr)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" {
			continue
		}
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
		if got := cgroupOf(t, id, "pids"); got != parent+"/"+id {
			t.Errorf("container %s is in %s, want below %s", id[:12], got, parent)
		}
	}
	if got := cgRead(t, "pids", parent, "pids.max"); got != "60" {
		t.Errorf("pids.max %s, want 60", got)
	}
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "pids", "userdocker", "*", "job_"+j.ID))
	if len(dirs) != 1 {
		t.Errorf("parents of job %s: %v, want one", j.ID, dirs)
	}
	for _, id := range ids {
		exec.Command("docker", "rm", "-f", id).Run()
	}

	const many = `for i in $(seq 40); do sleep 600 & done; echo started; wait`
	a := startIn2(t, j, many)
	waitFor(t, "the first container's 40 sleeps", func() bool { return cgInt(t, "pids", parent, "pids.current") >= 40 })
	b := startIn2(t, j, many)
	waitFor(t, "the second container to run out of pids", func() bool {
		return strings.Contains(docker(t, "logs", b), "can't fork")
	})
	if got := cgInt(t, "pids", parent, "pids.current"); got > 60 {
		t.Errorf("pids.current %d above the job's 60", got)
	}
	if got := cgroupOf(t, a, "pids"); got != parent+"/"+a {
		t.Errorf("container %s is in %s, want below %s", a[:12], got, parent)
	}
}

// TestOutsideJobUserLimits: outside a job, with [limits] memory = 128m,
// alice's containers share her parent cgroup on this host, and two that
// each try to hold 100 MiB do not both get it. The same in workstation
// mode (gpu.source = "reserve", the NVML mock build), with a GPU each.
func TestOutsideJobUserLimits(t *testing.T) {
	requireSetup(t)
	const limits = "\n[limits]\nmemory = \"128m\"\npids = 500\n"
	t.Run("no-gpu", func(t *testing.T) {
		writeConfig(t, baseConfig+limits)
		checkUserLimits(t, func(args ...string) result { return ud(t, alice, nil, args...) })
	})
	t.Run("reserve", func(t *testing.T) {
		requireMockBinary(t)
		writeMockConfig(t, reserveConfig+limits)
		checkUserLimits(t, func(args ...string) result { return udMock(t, alice, nil, args...) })
	})
}

// checkUserLimits starts two detached containers of 100 MiB each through
// run and checks that alice's parent cgroup holds them within 128 MiB.
func checkUserLimits(t *testing.T, run func(args ...string) result) {
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	parent := "/userdocker/" + host + "/user_" + uidOf(t, alice)
	t.Cleanup(func() { removeCgroup(parent) })
	for range 2 {
		r := run("run", "-d", cudaImage, "sh", "-c", hold("100M"))
		id := strings.TrimSpace(r.stdout)
		if r.code != 0 || len(id) != 64 {
			t.Logf("run -d outside a job: exit %d, %q", r.code, r.stderr)
			continue
		}
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
		if got := cgroupOf(t, id, "memory"); got != parent+"/"+id {
			t.Errorf("container %s is in %s, want below %s", id[:12], got, parent)
		}
	}
	if got := cgInt(t, "memory", parent, "memory.limit_in_bytes"); got != 128<<20 {
		t.Errorf("the caller's parent has memory limit %d, want 128 MiB", got)
	}
	if got := cgRead(t, "pids", parent, "pids.max"); got != "500" {
		t.Errorf("the caller's parent has pids.max %s, want 500", got)
	}
	waitFor(t, "the dd to hold their memory or die", func() bool {
		return cgInt(t, "memory", parent, "memory.max_usage_in_bytes") >= 90<<20
	})
	waitFor(t, "at most one container to hold 100 MiB within 128 MiB", func() bool { return holders(t, parent, "dd") <= 1 })
	if got := cgInt(t, "memory", parent, "memory.max_usage_in_bytes"); got > 128<<20 {
		t.Errorf("alice's containers used %d together, above 128 MiB", got)
	}
}
