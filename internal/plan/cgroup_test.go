package plan

import (
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

func TestWantParent(t *testing.T) {
	pol := basePolicy()
	pol.Slurm.JobPidsLimit = 500
	pol.Limits = policy.CallerLimits{Memory: 2 << 30, CPUs: 1_500_000_000, Pids: 300}
	job := &Job{ID: "7", CPUs: "2-3", Mems: "0", MemoryBytes: 256 << 20}
	unconfined := basePolicy()
	unconfined.Slurm.ConfineCPUs, unconfined.Slurm.ConfineMemory = false, false
	unconfined.Slurm.JobPidsLimit = 500
	noLimits := basePolicy()
	noLimits.Limits = policy.CallerLimits{Pids: 300}
	for _, tc := range []struct {
		name string
		pol  *policy.Policy
		job  *Job
		want CgroupLimits
	}{
		{"a job: its cpuset, its memory without swap, the job's pids", pol, job,
			CgroupLimits{CPUs: "2-3", Mems: "0", MemoryBytes: 256 << 20, Pids: 500}},
		{"a job Slurm does not confine", pol, &Job{ID: "7"}, CgroupLimits{SwapBytes: UnlimitedSwap, Pids: 500}},
		{"confinement off: the pids total still holds", unconfined, job, CgroupLimits{SwapBytes: UnlimitedSwap, Pids: 500}},
		{"outside a job: [limits]", pol, nil, CgroupLimits{MemoryBytes: 2 << 30, NanoCPUs: 1_500_000_000, Pids: 300}},
		{"outside a job, no memory or CPU limit", noLimits, nil, CgroupLimits{SwapBytes: UnlimitedSwap, Pids: 300}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := WantParent(tc.pol, tc.job); got != tc.want {
				t.Errorf("WantParent = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestCgroupChecks: the parent cgroup's limits as read back, the job's
// and the caller's, each broken one way; and the daemon's cgroup driver.
func TestCgroupChecks(t *testing.T) {
	pol := basePolicy()
	pol.Slurm.JobPidsLimit = 500
	pol.Limits = policy.CallerLimits{Memory: 1 << 30, CPUs: 2_000_000_000, Pids: 300}
	job := &Job{ID: "7", CPUs: "2-3", Mems: "0", MemoryBytes: 256 << 20}
	jobCg := Cgroup{Parent: "/userdocker/vm/job_7"}
	userCg := Cgroup{Parent: "/userdocker/vm/user_2001"}
	good := CgroupLimits{CPUs: "2-3", Mems: "0", MemoryBytes: 256 << 20, Pids: 500}
	with := func(change func(*CgroupLimits)) CgroupLimits {
		l := good
		change(&l)
		return l
	}
	userGood := CgroupLimits{MemoryBytes: 1 << 30, NanoCPUs: 2_000_000_000, Pids: 300}
	const jobMsg = "the cgroup /userdocker/vm/job_7 that holds your job's containers does not hold the limits it must (%s): tell your admin"
	msg := func(what string) string { return sprintf(jobMsg, what) }
	tests := []struct {
		name string
		err  error
		rule string
		msg  string
	}{
		{name: "the job's limits", err: CheckParentCgroup(pol, job, jobCg, good)},
		{name: "tighter than the job's", err: CheckParentCgroup(pol, job, jobCg, with(func(l *CgroupLimits) { l.CPUs, l.MemoryBytes, l.Pids = "3", 128<<20, 10 }))},
		{name: "CPUs beyond the job's", err: CheckParentCgroup(pol, job, jobCg, with(func(l *CgroupLimits) { l.CPUs = "0-3" })),
			rule: "cgroups", msg: msg(`cpus "0-3", want within "2-3"`)},
		{name: "no cpuset", err: CheckParentCgroup(pol, job, jobCg, with(func(l *CgroupLimits) { l.CPUs, l.Mems = "", "" })),
			rule: "cgroups", msg: msg(`cpus "", want within "2-3"; mems "", want within "0"`)},
		{name: "more memory than the job's", err: CheckParentCgroup(pol, job, jobCg, with(func(l *CgroupLimits) { l.MemoryBytes = 512 << 20 })),
			rule: "cgroups", msg: msg("memory 536870912, want at most 268435456")},
		{name: "no memory limit", err: CheckParentCgroup(pol, job, jobCg, with(func(l *CgroupLimits) { l.MemoryBytes = 0 })),
			rule: "cgroups", msg: msg("memory unlimited, want at most 268435456")},
		{name: "swap", err: CheckParentCgroup(pol, job, jobCg, with(func(l *CgroupLimits) { l.SwapBytes = UnlimitedSwap })),
			rule: "cgroups", msg: msg("swap unlimited, want 0")},
		{name: "no pids limit", err: CheckParentCgroup(pol, job, jobCg, with(func(l *CgroupLimits) { l.Pids = 0 })),
			rule: "cgroups", msg: msg("pids unlimited, want at most 500")},
		{name: "a job Slurm does not confine", err: CheckParentCgroup(pol, &Job{ID: "7"}, jobCg, CgroupLimits{CPUs: "0-3", Mems: "0", SwapBytes: UnlimitedSwap, Pids: 500})},

		{name: "the caller's limits", err: CheckParentCgroup(pol, nil, userCg, userGood)},
		{name: "more CPU time than [limits]", err: CheckParentCgroup(pol, nil, userCg, CgroupLimits{MemoryBytes: 1 << 30, NanoCPUs: 3_000_000_000, Pids: 300}),
			rule: "cgroups", msg: "the cgroup /userdocker/vm/user_2001 that holds your containers does not hold the limits it must (nano-cpus 3000000000, want at most 2000000000): tell your admin"},

		{name: "cgroupfs", err: CheckCgroupDriver("cgroupfs", "1", 1)},
		{name: "cgroupfs, a daemon before API 1.41", err: CheckCgroupDriver("cgroupfs", "", 2)},
		{name: "systemd", err: CheckCgroupDriver("systemd", "2", 2), rule: "cgroups",
			msg: `dockerd uses the "systemd" cgroup driver, and userdocker needs "cgroupfs" to keep a job's containers within the job: add "exec-opts": ["native.cgroupdriver=cgroupfs"] to /etc/docker/daemon.json and restart dockerd`},
		{name: "rootless", err: CheckCgroupDriver("none", "2", 2), rule: "cgroups",
			msg: `dockerd uses the "none" cgroup driver, and userdocker needs "cgroupfs" to keep a job's containers within the job: add "exec-opts": ["native.cgroupdriver=cgroupfs"] to /etc/docker/daemon.json and restart dockerd`},
		{name: "a daemon that does not say", err: CheckCgroupDriver("", "", 1), rule: "cgroups",
			msg: `dockerd does not say which cgroup driver it uses, and userdocker needs "cgroupfs" to keep a job's containers within the job: add "exec-opts": ["native.cgroupdriver=cgroupfs"] to /etc/docker/daemon.json and restart dockerd`},
		{name: "another cgroup version", err: CheckCgroupDriver("cgroupfs", "2", 1), rule: "cgroups",
			msg: "dockerd sees cgroup v2 and userdocker v1 on this host: the daemon must run on this host, on its cgroup file system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, tt.err, tt.rule, tt.msg)
		})
	}
}

// TestBuildCgroupParent: the container goes below the parent the edge
// named, and neither a user (where the site lets them pass the flag) nor
// the site's own run.args may choose another.
func TestBuildCgroupParent(t *testing.T) {
	p, err := build(t, []string{"ud-test/busybox"}, basePolicy(), jobFacts())
	if err != nil {
		t.Fatal(err)
	}
	if p.Host.CgroupParent != "/userdocker/vm/user_2001" {
		t.Errorf("CgroupParent = %q, want the edge's parent", p.Host.CgroupParent)
	}
	const refused = "--cgroup-parent is not allowed on this system: userdocker chooses the cgroup of your containers"
	allowed := basePolicy()
	allowed.Run.Args.Allowed = append(allowed.Run.Args.Allowed, flags("--cgroup-parent")...)
	fixed := basePolicy()
	fixed.Run.Args.Always = append(fixed.Run.Args.Always, flagArgs("--cgroup-parent=/")...)
	for _, tc := range []struct {
		name string
		pol  *policy.Policy
		args []string
		want string
	}{
		{"a user's, not allowed", basePolicy(), []string{"--cgroup-parent=/", "ud-test/busybox"}, "--cgroup-parent is not allowed on this system"},
		{"a user's, where the site allows the flag", allowed, []string{"--cgroup-parent=/slurm_vm/uid_2001/job_7", "ud-test/busybox"}, refused},
		{"the site's own always flag", fixed, []string{"ud-test/busybox"}, refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, tc.args, tc.pol, jobFacts())
			rs := refusal.All(err)
			if len(rs) != 1 || rs[0].Msg != tc.want {
				t.Fatalf("error %v; want the one refusal %q", err, tc.want)
			}
		})
	}
}
