package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/hostpath"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

// maxArgFile bounds --env-file and --label-file: they are read into memory.
const maxArgFile = 1 << 20

func cmdRun(ctx context.Context, a *app, args []string) error {
	req, err := runflags.Parse(args, plan.Layers(a.pol))
	if errors.Is(err, runflags.ErrHelp) {
		a.runUsage(a.env.Stdout)
		return errHelpShown
	}
	if err != nil {
		return err
	}
	facts, claim, err := a.runFacts(ctx, req)
	if err != nil {
		return err
	}
	defer claim.release(req.Detach)
	if err := a.readArgFiles(req); err != nil {
		return err
	}
	p, err := plan.Build(req, a.pol, facts)
	if err != nil {
		return a.refuse(err)
	}
	if req.DryRun {
		return a.dryRun(ctx, p, req, facts)
	}
	return a.start(ctx, p, req, facts, claim)
}

// dryRun prints the final request. It judges it with the image's
// configuration when the daemon has the image already; it pulls nothing,
// so for an image still to be pulled it says what was not checked.
func (a *app) dryRun(ctx context.Context, p *request.Plan, req *request.Run, f plan.Facts) error {
	img, err := a.inspectImage(ctx, nil, p.Image)
	if img != nil {
		f.Image = img
		if p, err = plan.Build(req, a.pol, f); err != nil {
			return a.refuse(err)
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

// inspectImage asks the daemon (eng, or a new connection when nil) for the
// image ref's configuration: nil, with no error, when it does not have it.
func (a *app) inspectImage(ctx context.Context, eng *engine.Engine, ref string) (*plan.Image, error) {
	if eng == nil {
		var err error
		if eng, err = engine.New(a.pol.DockerHost); err != nil {
			return nil, err
		}
		defer eng.Close()
	}
	resp, found, err := eng.InspectImage(ctx, ref)
	if err != nil || !found {
		return nil, err
	}
	return imageFacts(resp), nil
}

// imageFacts is what the checks need to know of an inspected image.
func imageFacts(resp image.InspectResponse) *plan.Image {
	img := &plan.Image{ID: resp.ID}
	c := resp.Config
	if c == nil {
		return img
	}
	img.Labels, img.Env = c.Labels, c.Env
	img.Volumes = slices.Sorted(maps.Keys(c.Volumes))
	img.ExposedPorts = slices.Sorted(maps.Keys(c.ExposedPorts))
	if h := c.Healthcheck; h != nil {
		img.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	return img
}

// runFacts gathers what the plan needs to know about the world: the job,
// its GPUs (in workstation mode: the GPUs it reserved, with the claim to
// bind to the container), and the host paths the request and the policy
// name.
func (a *app) runFacts(ctx context.Context, req *request.Run) (plan.Facts, *gpuClaim, error) {
	job, gpus, err := a.jobFacts()
	if err != nil {
		return plan.Facts{}, nil, err
	}
	var claim *gpuClaim
	if a.pol.GPU.Source == "reserve" {
		if gpus, claim, err = a.reserveGPUs(ctx, req); err != nil {
			return plan.Facts{}, nil, err
		}
	}
	if job != nil {
		a.record.Job = job.ID
		if err := a.loadPolicy(job.ID); err != nil { // {job} placeholders
			return plan.Facts{}, claim, err
		}
	}
	always := map[string]bool{}
	for _, m := range a.pol.Run.Mounts.Always {
		always[m.Host] = true
	}
	paths := hostpath.Look(plan.PathsToResolve(req, a.pol), a.hostWho(), a.pol.Run.Mounts.Probe,
		func(p string) bool { return always[p] })
	return plan.Facts{Caller: a.who, Job: job, GPUs: gpus, Paths: paths, NameSuffix: a.randomSuffix(), HardLimits: hardLimits()}, claim, nil
}

func (a *app) hostWho() hostpath.Who {
	return hostpath.Who{UID: a.who.UID, GID: a.who.GID, Groups: a.who.Groups}
}

func (a *app) cred() asuser.Cred {
	return asuser.Cred{UID: a.who.UID, GID: a.who.GID, Groups: a.who.Groups}
}

// readArgFiles reads --env-file and --label-file with the caller's rights.
// As with docker, file entries come first and flags override them.
func (a *app) readArgFiles(req *request.Run) error {
	var env []string
	for _, name := range req.EnvFiles {
		lines, err := a.readArgFile("env-file", name)
		if err != nil {
			return err
		}
		env = append(env, lines...)
	}
	req.Config.Env = append(env, req.Config.Env...)
	labels := map[string]string{}
	for _, name := range req.LabelFiles {
		lines, err := a.readArgFile("label-file", name)
		if err != nil {
			return err
		}
		for _, l := range lines {
			k, v, _ := strings.Cut(l, "=")
			labels[k] = v
		}
	}
	if len(labels) > 0 {
		maps.Copy(labels, req.Config.Labels)
		req.Config.Labels = labels
	}
	return nil
}

func (a *app) readArgFile(flag, name string) ([]string, error) {
	data, err := asuser.ReadFile(a.cred(), name, maxArgFile)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	lines, err := runflags.ParseKeyValueFile(flag, data)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", flag, name, err)
	}
	return lines, nil
}

// randomSuffix makes automatic container names unique.
func (a *app) randomSuffix() string {
	r := a.env.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 4)
	io.ReadFull(r, b)
	return hex.EncodeToString(b)
}

// start makes the image available, judges the request together with the
// image's configuration, and runs the container from that image's ID;
// inside a job, only if the job has room for one more (takeJobSlot).
func (a *app) start(ctx context.Context, p *request.Plan, req *request.Run, f plan.Facts, claim *gpuClaim) error {
	eng, err := engine.New(a.pol.DockerHost)
	if err != nil {
		return err
	}
	defer eng.Close()
	streams := engine.StdStreams()
	if a.env.Stdin != nil {
		streams.In = a.env.Stdin
	}
	streams.Out, streams.Err = a.env.Stdout, a.env.Stderr
	pullOut := a.env.Stderr
	if a.quiet || slices.Contains(req.Set["quiet"], "true") {
		pullOut = io.Discard
	}
	if err := eng.EnsureImage(ctx, p.Image, p.Pull, pullOut, streams.OutIsTerm); err != nil {
		return err
	}
	if f.Image, err = a.inspectImage(ctx, eng, p.Image); err != nil {
		return err
	}
	if f.Image == nil {
		return fmt.Errorf("image %s: the daemon no longer has it", p.Image)
	}
	if p, err = plan.Build(req, a.pol, f); err != nil {
		return a.refuse(err)
	}
	a.debugPlan(p)
	// Before the --cidfile: a refusal leaves no empty file behind.
	slot, err := a.takeJobSlot(ctx, eng, f.Job)
	if err != nil {
		return err
	}
	defer slot.release()
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
		slot.release() // the new container counts now
		a.record.Containers = append(a.record.Containers, id)
		if err := claim.bind(ctx, id); err != nil {
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
	code, err := eng.Run(ctx, *p, streams, hooks)
	if err != nil {
		if cid != nil {
			asuser.Do(a.cred(), func() error { return os.Remove(p.CIDFile) })
		}
		return err
	}
	if code != 0 {
		return &StatusError{Code: code}
	}
	return nil
}

// jobSlot is room for one more container in the caller's job: the job's
// lock, held from counting the job's containers until the new one exists.
type jobSlot struct {
	lock *os.File
}

// takeJobSlot takes the job's lock, counts the job's containers on this
// node and lets plan.CheckJobContainers judge the count. Outside a job
// there is nothing to count (nil slot). The image is pulled before, not
// under the lock, so that one run's pull does not hold up the others.
func (a *app) takeJobSlot(ctx context.Context, eng *engine.Engine, job *plan.Job) (*jobSlot, error) {
	if job == nil {
		return nil, nil
	}
	lock, err := alloc.LockJob(ctx, a.pol.Slurm.StateDir, job.ID)
	if err != nil {
		return nil, err
	}
	slot := &jobSlot{lock: lock}
	list, err := eng.Labelled(ctx, label.Job, job.ID, true)
	if err != nil {
		slot.release()
		return nil, err
	}
	counted := *job
	counted.Containers = len(list)
	a.debugf("job %s: %d containers on this node (slurm.max_containers_per_job = %d)", job.ID, counted.Containers, a.pol.Slurm.MaxContainersPerJob)
	if err := plan.CheckJobContainers(a.pol, &counted); err != nil {
		slot.release()
		return nil, a.refuse(err)
	}
	return slot, nil
}

// release lets the job's next run count; it may be called again.
func (s *jobSlot) release() {
	if s != nil && s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// createCIDFile creates the --cidfile with the caller's rights; like
// docker, it refuses to overwrite an existing file.
func (a *app) createCIDFile(name string) (*os.File, error) {
	f, err := asuser.Open(a.cred(), name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("--cidfile: container ID file found, make sure the other container isn't running or delete %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("--cidfile: %w", err)
	}
	return f, nil
}

// runUsage prints run's help with only the flags this caller may pass,
// marking those the site fixes or defaults.
func (a *app) runUsage(w io.Writer) {
	allowed := plan.AllowedFlags(a.pol)
	fixed := plan.FixedFlags(a.pol)
	defaults := plan.DefaultFlags(a.pol)
	runflags.Usage(w, func(name string) bool { return allowed[name] || fixed[name] != nil || defaults[name] != nil },
		func(name string) string {
			if v, ok := fixed[name]; ok {
				return "fixed: " + strings.Join(v, ",")
			}
			if v, ok := defaults[name]; ok {
				return "default: " + strings.Join(v, ",")
			}
			return ""
		})
	if len(a.pol.Run.Mounts.Available) > 0 {
		fmt.Fprintf(w, "\nMounts you may add with -v HOST[:CONTAINER][:ro]:\n")
		for _, m := range a.pol.Run.Mounts.Available {
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
	if len(a.pol.Run.Images) > 0 {
		fmt.Fprintf(w, "\nImages you may run (regular expressions):\n")
		for _, m := range a.pol.Run.Images {
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
}
