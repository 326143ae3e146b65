package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/ownmount"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

func cmdRun(ctx context.Context, a *app, args []string) error {
	req, err := runflags.Parse(args, plan.Layers(a.pol))
	if errors.Is(err, runflags.ErrHelp) {
		a.runUsage(a.env.Stdout)
		return errHelpShown
	}
	if err != nil {
		return err
	}
	run, err := gather.ForRun(ctx, a.gatherEnv(), req)
	if run != nil && run.Facts.Job != nil {
		a.record.Job = run.Facts.Job.ID
	}
	if err != nil {
		return err
	}
	defer run.Release(req.Detach)
	a.pol = run.Policy
	p, err := plan.Build(req, a.pol, run.Facts)
	if err != nil {
		return err
	}
	if req.DryRun {
		return a.dryRun(ctx, p, req, run.Facts)
	}
	return a.start(ctx, p, req, run)
}

// gatherEnv is what gathering a request's facts knows of the caller.
func (a *app) gatherEnv() gather.Env {
	return gather.Env{Who: a.who, Config: a.cfg, Policy: a.pol, Lookup: a.env.Lookup, Environ: a.env.Environ,
		SlurmConfPaths: a.env.SlurmConfPaths, Rand: a.env.Rand, Debugf: a.debugf,
		CgroupRoot: a.env.CgroupRoot, Hostname: a.env.Hostname}
}

// dryRun prints the final request. It judges it with the image's
// configuration when the daemon has the image already; it pulls nothing,
// so for an image still to be pulled it says what was not checked.
func (a *app) dryRun(ctx context.Context, p *request.Plan, req *request.Run, f plan.Facts) error {
	img, err := a.inspectImage(ctx, p.Image)
	if img != nil {
		f.Image = img
		if p, err = plan.Build(req, a.pol, f); err != nil {
			return err
		}
	} else {
		why := "the daemon does not have it"
		if err != nil {
			why = err.Error()
		}
		p.Notes = append(p.Notes, "image "+p.Image+" not inspected ("+why+"): its labels, environment, volumes, "+
			"exposed ports and health check are judged only when it runs; the io.userdocker.* labels and NVIDIA "+
			"variables above are set whatever it says")
	}
	a.debugPlan(p)
	enc := json.NewEncoder(a.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// inspectImage asks the daemon for the image ref's configuration: nil,
// with no error, when it does not have it.
func (a *app) inspectImage(ctx context.Context, ref string) (*plan.Image, error) {
	eng, err := a.engine()
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return gather.Image(ctx, eng, ref)
}

// start makes the image available, judges the request together with the
// image's configuration and the daemon it runs on, and runs the container from that image's ID;
// inside a job, only if the job has room for one more.
func (a *app) start(ctx context.Context, p *request.Plan, req *request.Run, run *gather.Run) error {
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	run.AskDaemonCgroups(ctx, eng) // for TakeJobSlot; meanwhile the image
	streams := a.streams()
	pullOut := a.env.Stderr
	if a.quiet || slices.Contains(req.Set["quiet"], "true") {
		pullOut = io.Discard
	}
	if plan.IsLocal(p.Image) { // an image of one's own: never pulled
		present, err := eng.ImageExists(ctx, p.Image)
		if err != nil {
			return err
		}
		if err := plan.CheckOwnImageHere(p.Image, a.record.Node, present); err != nil {
			return err
		}
	}
	if err := eng.EnsureImage(ctx, p.Image, p.Pull, pullOut, streams.OutIsTerm); err != nil {
		var missing *engine.MissingImageError
		if errors.As(err, &missing) {
			return fmt.Errorf("image %s is not on node %s, and this system does not pull images (run.pull = \"never\"): ask your admin to put it on every node", missing.Ref, a.record.Node)
		}
		return err
	}
	f := run.Facts
	if f.Image, err = gather.Image(ctx, eng, p.Image); err != nil {
		return err
	}
	if f.Image == nil {
		return fmt.Errorf("image %s: the daemon no longer has it", p.Image)
	}
	if f.Daemon, err = gather.Daemon(ctx, eng, a.pol); err != nil {
		return err
	}
	if p, err = plan.Build(req, a.pol, f); err != nil {
		return err
	}
	a.debugPlan(p)
	for _, s := range p.Say {
		a.notef("%s", s)
	}
	// Before the --cidfile: a refusal leaves no empty file behind.
	slot, err := run.TakeJobSlot(ctx, eng, a.debugf)
	if err != nil {
		return err
	}
	defer slot.Release()
	// Like docker, create the --cidfile before the container, so that a
	// file the caller may not write stops the run before anything exists.
	var cid *os.File
	if p.CIDFile != "" {
		if cid, err = a.createCIDFile(p.CIDFile); err != nil {
			return err
		}
		defer cid.Close()
	}
	hooks := engine.Hooks{OnCreated: func(id string) error {
		slot.Release() // the new container counts now
		a.record.Containers = append(a.record.Containers, id)
		if err := run.Bind(ctx, id); err != nil {
			return err
		}
		if cid == nil {
			return nil
		}
		if _, err := cid.WriteString(id); err != nil {
			return fmt.Errorf("--cidfile %s: %w", p.CIDFile, err)
		}
		return nil
	}}
	a.sweepMounts(ctx, eng) // leftovers of detached --rm runs, of runs that failed
	if len(p.Staged) > 0 {
		unlock, err := run.StageMounts(p)
		if err != nil {
			return err
		}
		// After the run, the staging of a container that is gone (--rm,
		// or no create) goes at once; a container's that stays goes with
		// it (rm, the epilog, a later sweep).
		defer a.sweepMounts(ctx, eng)
		defer unlock()
		known, err := run.CheckStagedSeen(p)
		if err != nil {
			return err
		}
		if !known {
			a.debugf("cannot tell whether the daemon sees the staging mounts (%s)", a.pol.DockerHost)
		}
	}
	code, err := eng.Run(ctx, *p, streams, hooks)
	if err != nil {
		if cid != nil {
			asuser.Do(gather.Cred(a.who), func() error { return os.Remove(p.CIDFile) })
		}
		return err
	}
	if code != 0 {
		return &StatusError{Code: code}
	}
	if p.Detach && !a.quiet {
		fmt.Fprintf(a.env.Stderr, "userdocker: %s\n", detachedNote(p.Name, f.Job))
	}
	return nil
}

// detachedNote says what becomes of a detached container: inside a job,
// the job's end removes it (and a job that srun made ends with srun);
// outside any job, nothing does.
func detachedNote(name string, job *plan.Job) string {
	if job == nil {
		return "container " + name + " runs outside any job: nothing removes it; 'userdocker rm -f " + name + "' when you are done"
	}
	return "container " + name + " is removed when job " + job.ID + " ends (a job that srun started ends when srun returns)"
}

// sweepMounts removes the staging directories of containers that are
// gone. Its failure stops nothing: a later sweep tries again.
func (a *app) sweepMounts(ctx context.Context, eng *engine.Engine) {
	if err := ownmount.SweepDaemon(context.WithoutCancel(ctx), eng, a.pol.Slurm.StateDir); err != nil {
		a.debugf("staging sweep: %v", err)
	}
}

// createCIDFile creates the --cidfile with the caller's rights; like
// docker, it refuses to overwrite an existing file.
func (a *app) createCIDFile(name string) (*os.File, error) {
	f, err := asuser.Open(gather.Cred(a.who), name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("--cidfile: container ID file found, make sure the other container isn't running or delete %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("--cidfile: %w", err)
	}
	return f, nil
}

// runUsage prints run's help with only the flags this caller may pass,
// marking those the site fixes or defaults and the values it allows, then
// the ports, sizes, mounts and images, each as a user writes them.
func (a *app) runUsage(w io.Writer) {
	allowed := plan.AllowedFlags(a.pol)
	fixed := plan.FixedFlags(a.pol)
	defaults := plan.DefaultFlags(a.pol)
	runflags.Usage(w, func(name string) bool { return allowed[name] || fixed[name] != nil || defaults[name] != nil },
		func(name string) string {
			if v, ok := fixed[name]; ok {
				return "fixed: " + strings.Join(v, ",")
			}
			var marks []string
			if res, ok := a.pol.Run.Args.ValuesOf(name); ok {
				marks = append(marks, "allowed: "+policy.DescribeAll(res, "N"))
			}
			if v, ok := defaults[name]; ok {
				marks = append(marks, "default: "+strings.Join(v, ","))
			}
			return strings.Join(marks, "; ")
		})
	if len(a.pol.Run.Publish) > 0 {
		fmt.Fprintf(w, "\nPorts you may publish:\n")
		for _, p := range a.pol.Run.Publish {
			fmt.Fprintf(w, "  -p %s\n", p.Describe("PORT"))
		}
	}
	if sizes := sizeLimits(a.pol, allowed); len(sizes) > 0 {
		fmt.Fprintf(w, "\nSizes (as docker writes them: 512m, 1g, 1GB):\n")
		for _, s := range sizes {
			fmt.Fprintf(w, "  %s\n", s)
		}
		if a.pol.Slurm.ConfineMemory {
			fmt.Fprintf(w, "  inside a job, none is more than the job's memory\n")
		}
	}
	if len(a.pol.Run.Mounts.Available) > 0 {
		fmt.Fprintf(w, "\nMounts you may add with -v HOST[:CONTAINER][:ro]:\n")
		for _, m := range a.pol.Run.Mounts.Available {
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
	if len(a.pol.Run.Mounts.UserRoots) > 0 {
		fmt.Fprintf(w, "\nYour own directories: any directory under these, -v DIR:CONTAINER[:ro]:\n")
		for _, r := range a.pol.Run.Mounts.UserRoots {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if len(a.pol.Run.Images) > 0 {
		fmt.Fprintf(w, "\nImages you may run (* is any text):\n")
		for _, m := range a.pol.Run.Images {
			if ts, ok := m.Templates("N"); ok {
				fmt.Fprintf(w, "  %s\n", strings.Join(ts, "\n  "))
			} else {
				fmt.Fprintf(w, "  %s (regular expression)\n", m)
			}
		}
	}
	if a.pol.Run.OwnImages {
		if ns, err := plan.OwnNamespace(a.who.Name); err == nil {
			fmt.Fprintf(w, "\nImages of your own (yours alone; load or tag them on this node, never pulled):\n  %sNAME[:TAG]\n", ns)
		}
	}
}

// sizeLimits says which sizes the site bounds (run.limits), for the
// flags this caller may pass.
func sizeLimits(pol *policy.Policy, allowed map[string]bool) []string {
	var out []string
	l := pol.Run.Limits
	if l.ShmSize.Set() && allowed["shm-size"] {
		out = append(out, "--shm-size at most "+l.ShmSize.Text)
	}
	if l.Memory.Set() {
		if allowed["memory"] {
			out = append(out, "-m/--memory at most "+l.Memory.Text+" (also without -m)")
		} else {
			out = append(out, "memory at most "+l.Memory.Text)
		}
	}
	if l.TmpfsSize.Set() && allowed["tmpfs"] {
		out = append(out, "--tmpfs size= at most "+l.TmpfsSize.Text+" (also without size=)")
	}
	return out
}
