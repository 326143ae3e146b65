// Package gather is the edge where a request meets the world: it finds
// out what the pure core (internal/plan) needs to judge it, and hands
// plan the facts as values. For a run: the caller's Slurm job, its
// record and its limits; the GPUs (the job's, or in workstation mode the
// ones it reserves); the host paths the request and the policy name,
// looked at as the caller; the argument files, read as the caller; the
// caller's resource limits; the image's configuration; and, under the
// job's lock, how many containers the job has. What it takes hold of (a
// GPU reservation, the job's lock) it hands back with a way to let go.
//
// It decides nothing. Where a fact is a reason to refuse (a call from
// outside any job, GPUs the prolog could not map, a job that has its
// containers already), the named check of plan says so, and gather
// returns that check's refusal.
package gather

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/userdocker/userdocker/internal/hostpath"
	"github.com/userdocker/userdocker/internal/ownmount"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// Env is what gathering knows of the caller, besides the request.
type Env struct {
	Who request.Caller
	// Config is the loaded configuration, Policy the caller's policy from
	// it outside any job: inside one, {job} expands to its ID.
	Config *policy.Config
	Policy *policy.Policy
	// Lookup reads the environment: workstation mode takes NV_GPU from it
	// (where the site's sudoers keeps it) as a wish, which the policy
	// still judges. Nothing else is read from it.
	Lookup func(name string) (string, bool)
	// Environ lists the environment, of which the launcher's variables
	// are copied into containers as run.pass_env says (never judged,
	// never acted on); nil: none.
	Environ func() []string
	// SlurmConfPaths are where slurm.conf may be (the first that exists
	// is read): for the PMIx server directory, under slurmd's spool
	// directory.
	SlurmConfPaths []string
	// Rand makes automatic container names unique; nil: crypto/rand.
	Rand io.Reader
	// CgroupRoot is where this host's cgroups are mounted
	// (alloc.DefaultCgroupRoot); "" refuses every container, which needs
	// a parent cgroup there.
	CgroupRoot string
	// Hostname names this host for a caller's parent cgroup outside a
	// job, /userdocker/<host>/user_<uid>; nil: os.Hostname.
	Hostname func() (string, error)
	// Debugf says, under --debug, what was found; nil: nothing.
	Debugf func(format string, args ...any)
}

func (e Env) debugf(format string, args ...any) {
	if e.Debugf != nil {
		e.Debugf(format, args...)
	}
}

// Run is what a run learned before it is planned.
type Run struct {
	Facts plan.Facts
	// Policy is the caller's policy for this run: inside a job, with
	// {job} expanded to the job's ID.
	Policy *policy.Policy
	claim  *gpuClaim
	// rec is the job's allocation record; nil outside a job.
	rec *jobRecord
	// cgroupRoot is Env.CgroupRoot.
	cgroupRoot string
	// daemonCgroups waits for dockerd's cgroup driver and version
	// (AskDaemonCgroups); nil: not asked yet.
	daemonCgroups func() (driver, version string, err error)
	own           *ownmount.Opened
}

// ForRun gathers the facts of req: the job and its GPUs (or, in
// workstation mode, reserved GPUs: req's device IDs are then replaced by
// the reserved UUIDs), the policy for the job, the host paths, the
// argument files (their entries go into req, before the flags', as
// docker puts them) and the caller's limits. A refusal among them is
// plan's. On success the caller must Release the run; on failure nothing
// is held, and the Run, if not nil, says which job the call came from.
func ForRun(ctx context.Context, env Env, req *request.Run) (*Run, error) {
	info, err := jobFacts(env)
	if err != nil {
		return nil, err
	}
	var rec *jobRecord
	if info.job != nil {
		rec = &jobRecord{info.rec, info.ref.Key()}
	}
	cg, err := parentCgroup(env, rec)
	if err != nil {
		return nil, err
	}
	r := &Run{Policy: env.Policy, Facts: plan.Facts{Job: info.job}, rec: rec, cgroupRoot: env.CgroupRoot}
	if env.Policy.GPU.Source == "reserve" {
		if info.gpus, r.claim, err = reserveGPUs(ctx, env, req); err != nil {
			return nil, err
		}
	}
	if err := r.gather(env, req, info, cg); err != nil {
		r.Release(false)
		return r, err
	}
	return r, nil
}

func (r *Run) gather(env Env, req *request.Run, info jobInfo, cg *plan.Cgroup) error {
	job := info.job
	if job != nil {
		pol, _, err := env.Config.For(Who(env.Who), job.ID) // {job} placeholders
		if err != nil {
			return fmt.Errorf("configuration: %w", policy.FirstProblem(err))
		}
		r.Policy = pol
	}
	pol := r.Policy
	always := map[string]bool{}
	for _, m := range pol.Run.Mounts.Always {
		always[m.Host] = true
	}
	pmix := pmixDir(pol, info, env.SlurmConfPaths)
	paths := hostpath.Look(append(plan.PathsToResolve(req, pol), plan.PMIxPaths(pol, pmix)...),
		hostpath.Who{UID: env.Who.UID, GID: env.Who.GID, Groups: env.Who.Groups},
		pol.Run.Mounts.Probe, func(p string) bool { return always[p] })
	if err := readArgFiles(env.Who, req); err != nil {
		return err
	}
	var environ []string
	if env.Environ != nil {
		environ = env.Environ()
	}
	r.Facts = plan.Facts{Caller: env.Who, Job: job, GPUs: info.gpus, Paths: paths, NameSuffix: randomSuffix(env.Rand), HardLimits: HardLimits(),
		Devices: lookDevices(plan.DevicePatterns(pol, job != nil)), Launcher: launcherEnv(environ), PMIx: pmix, Cgroup: cg}
	r.openOwn(env, req, pol)
	return nil
}

// randomSuffix makes automatic container names unique.
func randomSuffix(r io.Reader) string {
	b := make([]byte, 4)
	io.ReadFull(randReader(r), b)
	return hex.EncodeToString(b)
}

// randReader is r, or the system's randomness when r is nil.
func randReader(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// Who is what the policy needs to know of a caller: whom overrides
// select, and what {user}, {uid}, {gid} and {home} expand to.
func Who(c request.Caller) policy.Who {
	return policy.Who{User: c.Name, UID: c.UID, GID: c.GID, Groups: c.Groups, GroupNames: c.GroupNames, Home: c.Home}
}
