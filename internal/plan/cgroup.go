package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/rangelist"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// A run's container goes below a parent cgroup that userdocker makes and
// owns (DESIGN.md §3.10, §4): one per job on a node, which holds the
// job's limits for all of the job's containers together, or, outside a
// job, one per caller with the limits of [limits]. Each container still
// gets its own cgroup below it, with whatever narrower limits its flags
// ask for; the parent's bound the sum. The edge names the parent from
// facts it trusts, makes it under the job's lock, and hands plan the
// limits it reads back; the checks here say whether the container may go
// there.

// Cgroup is the parent cgroup of the run's container.
type Cgroup struct {
	// Parent is its path below the root of every cgroup hierarchy:
	// "/userdocker/<node>/job_<id>" in a job, the node as ud-prolog
	// recorded it; "/userdocker/<host>/user_<uid>" outside one.
	Parent string
}

// CgroupLimits are what a parent cgroup holds for all the containers
// below it together: wanted (WantParent) or read back from the kernel.
type CgroupLimits struct {
	// CPUs and Mems are its cpuset; "" for any (not confined).
	CPUs, Mems string
	// MemoryBytes bounds their memory; 0: no limit.
	MemoryBytes int64
	// SwapBytes is how much swap they may use besides MemoryBytes:
	// UnlimitedSwap for no bound. Wanted: none, whenever memory is bound.
	SwapBytes int64
	// Pids bounds their processes; 0: no limit.
	Pids int64
	// NanoCPUs bounds their CPU time per period, in billionths of a CPU
	// (a CFS quota); 0: no limit.
	NanoCPUs int64
}

// UnlimitedSwap is a CgroupLimits.SwapBytes: swap without a bound.
const UnlimitedSwap = -1

// WantParent is what the parent cgroup of a run's containers must hold:
// in a job, the job's cpuset and memory (as slurm.confine_cpus and
// slurm.confine_memory say) and slurm.job_pids_limit; outside a job,
// [limits]. Memory is bound without swap: the per-container rule before
// it (MemorySwap = Memory), which allows no more swap than any Slurm
// allowance, and fails safe where Slurm does not constrain swap at all.
func WantParent(pol *policy.Policy, job *Job) CgroupLimits {
	var w CgroupLimits
	if job == nil {
		w = CgroupLimits{MemoryBytes: int64(pol.Limits.Memory), NanoCPUs: int64(pol.Limits.CPUs), Pids: int64(pol.Limits.Pids)}
	} else {
		w.Pids = int64(pol.Slurm.JobPidsLimit)
		if pol.Slurm.ConfineCPUs && job.CPUs != "" {
			w.CPUs, w.Mems = job.CPUs, job.Mems
		}
		if pol.Slurm.ConfineMemory && job.MemoryBytes > 0 {
			w.MemoryBytes = job.MemoryBytes
		}
	}
	if w.MemoryBytes == 0 {
		w.SwapBytes = UnlimitedSwap
	}
	return w
}

// CheckParentCgroup judges the limits read back from the parent cgroup
// c, which the edge has just made or found, against WantParent: each
// must be as tight as wanted or tighter. A parent that holds less (a
// write the kernel did not take, a parent someone changed) would let the
// containers together take more than the job's, so the run is refused,
// never started with looser limits.
func CheckParentCgroup(pol *policy.Policy, job *Job, c Cgroup, got CgroupLimits) error {
	want := WantParent(pol, job)
	var off []string
	within := func(what string, got, want int64) {
		if want > 0 && (got <= 0 || got > want) {
			off = append(off, fmt.Sprintf("%s %s, want at most %d", what, limitText(got), want))
		}
	}
	subset := func(what, got, want string) {
		if want != "" && (got == "" || !rangelist.Subset(got, want, rangelist.CPUs)) {
			off = append(off, fmt.Sprintf("%s %q, want within %q", what, got, want))
		}
	}
	subset("cpus", got.CPUs, want.CPUs)
	subset("mems", got.Mems, want.Mems)
	within("memory", got.MemoryBytes, want.MemoryBytes)
	if want.MemoryBytes > 0 && got.SwapBytes != 0 {
		off = append(off, "swap "+limitText(got.SwapBytes)+", want 0")
	}
	within("pids", got.Pids, want.Pids)
	within("nano-cpus", got.NanoCPUs, want.NanoCPUs)
	if len(off) == 0 {
		return nil
	}
	whose := "your containers"
	if job != nil {
		whose = "your job's containers"
	}
	return refusal.New("cgroups", "the cgroup %s that holds %s does not hold the limits it must (%s): tell your admin",
		c.Parent, whose, strings.Join(off, "; "))
}

func limitText(n int64) string {
	if n <= 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

// CgroupDriverHint is what an admin changes when dockerd manages its
// containers' cgroups through systemd.
const CgroupDriverHint = `add "exec-opts": ["native.cgroupdriver=cgroupfs"] to /etc/docker/daemon.json and restart dockerd`

// CheckCgroupDriver refuses a daemon that would not put containers where
// userdocker's parent cgroups are: one whose cgroup driver (Docker's
// Info.CgroupDriver) is not "cgroupfs" (with "systemd", a cgroup parent
// must be a systemd slice, and systemd owns what is below it; "none" is a
// rootless daemon, which sets no limits; "" is a daemon too old to say),
// or one that sees another cgroup version (Info.CgroupVersion, "" before
// API 1.41) than userdocker does on this host (hostVersion): a daemon on
// another machine.
func CheckCgroupDriver(driver, daemonVersion string, hostVersion int) error {
	if driver != "cgroupfs" {
		uses := fmt.Sprintf("uses the %q cgroup driver", driver)
		if driver == "" {
			uses = "does not say which cgroup driver it uses"
		}
		return refusal.New("cgroups", "dockerd %s, and userdocker needs \"cgroupfs\" to keep a job's containers within the job: %s", uses, CgroupDriverHint)
	}
	if daemonVersion != "" && daemonVersion != strconv.Itoa(hostVersion) {
		return refusal.New("cgroups", "dockerd sees cgroup v%s and userdocker v%d on this host: the daemon must run on this host, on its cgroup file system", daemonVersion, hostVersion)
	}
	return nil
}

// planCgroup puts the container below its parent cgroup. The user
// cannot choose another: a --cgroup-parent from the user (where the site
// allows the flag, else checkArgs refused it) or from the site's own
// run.args is refused.
func planCgroup(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	var errs []error
	userTyped := len(req.Set["cgroup-parent"]) > 0
	if req.Host.CgroupParent != "" && (!userTyped || AllowedFlags(pol)["cgroup-parent"]) {
		errs = append(errs, refusal.New("cgroups", "--cgroup-parent is not allowed on this system: userdocker chooses the cgroup of your containers"))
	}
	p.Host.CgroupParent = ""
	if f.Cgroup != nil {
		p.Host.CgroupParent = f.Cgroup.Parent
	}
	return errs
}
