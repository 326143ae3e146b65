package gather

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/gpu"
	"github.com/userdocker/userdocker/internal/gpureserve"
	"github.com/userdocker/userdocker/internal/gpuuse"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// gpuClaim is a run's reservation in workstation mode (gpu.source =
// "reserve"), from reserveGPUs until the container exists or the run ends.
// A nil claim (no reservation) does nothing.
type gpuClaim struct {
	dir   string
	token string
	bound bool
	debug func(format string, args ...any)
}

// GPUs is what the GPU views of ps show: NVML's devices and processes,
// the containers, and who holds which GPU (jobs and, in workstation mode,
// reservations). what names the view, for the message when the node has
// no NVIDIA driver.
func GPUs(ctx context.Context, pol *policy.Policy, what string) (gpuuse.Snapshot, error) {
	lib, err := openGPUs(what)
	if err != nil {
		return gpuuse.Snapshot{}, err
	}
	defer lib.Close()
	eng, err := engine.New(pol.DockerHost)
	if err != nil {
		return gpuuse.Snapshot{}, err
	}
	defer eng.Close()
	snap, err := gpuSnapshot(ctx, lib, eng, pol.Slurm.StateDir)
	if err != nil || pol.GPU.Source != "reserve" {
		return snap, err
	}
	st, err := gpureserve.Lock(ctx, pol.Slurm.StateDir)
	if err != nil {
		return snap, err
	}
	keep, err := liveReservations(st, snap, false)
	st.Unlock()
	if err != nil {
		return snap, err
	}
	snap.Holds = append(snap.Holds, gpureserve.Holds(keep)...)
	return snap, nil
}

// openGPUs opens NVML; without a driver the error says so plainly, in the
// words of what asked for GPUs (what).
func openGPUs(what string) (*gpu.Lib, error) {
	lib, err := gpu.Open()
	if err != nil { // gpu.ErrNoNVML says "NVML not found: no NVIDIA driver on this node"
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return lib, nil
}

// gpuSnapshot gathers what gpuuse judges: NVML's devices and compute
// processes, each process's container (from its cgroup, read as root), the
// node's containers with their labels, and the Slurm jobs' GPUs from the
// state directory. Reservations are added by the caller, under their lock.
func gpuSnapshot(ctx context.Context, lib *gpu.Lib, eng *engine.Engine, stateDir string) (gpuuse.Snapshot, error) {
	var s gpuuse.Snapshot
	var err error
	if s.Devices, err = lib.Devices(); err != nil {
		return s, fmt.Errorf("list GPUs: %w", err)
	}
	if s.Processes, err = lib.Processes(); err != nil {
		return s, fmt.Errorf("list GPU processes: %w", err)
	}
	s.ContainerOf = map[uint32]string{}
	for _, ps := range s.Processes {
		for _, p := range ps {
			data, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(p.PID), 10) + "/cgroup")
			if err != nil {
				continue // exited since NVML listed it
			}
			if id, ok := gpuuse.ContainerID(data); ok {
				s.ContainerOf[p.PID] = id
			}
		}
	}
	list, err := eng.Containers(ctx, container.ListOptions{All: true})
	if err != nil {
		return s, err
	}
	s.Containers = map[string]gpuuse.Container{}
	for _, c := range list {
		s.Containers[c.ID] = containerFacts(c)
	}
	recs, err := alloc.ListRecords(stateDir)
	if err != nil {
		return s, err
	}
	for _, r := range recs {
		for _, u := range r.GPUUUIDs {
			s.Holds = append(s.Holds, gpuuse.Hold{UUID: u, Kind: gpuuse.HeldByJob,
				UID: strconv.FormatUint(uint64(r.UID), 10), User: r.User, Job: r.JobID})
		}
	}
	return s, nil
}

// activeStates are the container states in which a container holds its
// GPUs: it exists and has not exited.
var activeStates = map[string]bool{"created": true, "running": true, "paused": true, "restarting": true}

func containerFacts(c container.Summary) gpuuse.Container {
	out := gpuuse.Container{
		ID:     c.ID,
		UID:    c.Labels[label.UID],
		User:   c.Labels[label.User],
		Job:    c.Labels[label.Job],
		Active: activeStates[string(c.State)],
	}
	if len(c.Names) > 0 {
		out.Name = strings.TrimPrefix(c.Names[0], "/")
	}
	if g := c.Labels[label.GPUs]; g != "" {
		out.GPUs = strings.Split(g, ",")
	}
	return out
}

// activeContainers are the IDs of the snapshot's active containers.
func activeContainers(s gpuuse.Snapshot) map[string]bool {
	out := map[string]bool{}
	for id, c := range s.Containers {
		if c.Active {
			out[id] = true
		}
	}
	return out
}

// liveReservations reads the reservations under their lock and drops the
// stale ones from what it returns; with prune, it also saves the file
// without them.
func liveReservations(st *gpureserve.Store, s gpuuse.Snapshot, prune bool) ([]gpureserve.Entry, error) {
	entries, err := st.Load()
	if err != nil {
		return nil, err
	}
	keep, stale := gpureserve.Prune(entries, gpureserve.Liveness{
		Now: time.Now(), Active: activeContainers(s), ProcStart: gpureserve.ProcStarts(entries)})
	if prune && len(stale) > 0 {
		if err := st.Save(keep); err != nil {
			return nil, err
		}
	}
	return keep, nil
}

// reserveGPUs is workstation mode's GPU source: under the reservation
// lock it picks free GPUs for what the user asked (--gpus, or NV_GPU where
// the site's sudoers keeps it; otherwise gpu.default_count), within the
// policy, and records them for this run. The request's device IDs are
// replaced by the reserved UUIDs, so that the plan grants exactly these.
func reserveGPUs(ctx context.Context, env Env, req *request.Run) ([]string, *gpuClaim, error) {
	var nv string
	if env.Lookup != nil {
		nv, _ = env.Lookup("NV_GPU")
	}
	ask := gpureserve.AskOf(req.GPUs, req.Host.DeviceRequests, nv)
	pol := env.Policy
	g := pol.GPU
	rules := gpureserve.Rules{DefaultCount: g.DefaultCount, MaxCount: g.MaxCount, Exclusive: g.Exclusive, MaxMemoryUsedMiB: g.MaxMemoryUsedMiB}
	if ask.From == "" && g.DefaultCount == 0 {
		return nil, nil, nil
	}
	what := "GPUs"
	if ask.From != "" {
		what = ask.From
	}
	lib, err := openGPUs(what)
	if err != nil {
		return nil, nil, err
	}
	defer lib.Close()
	eng, err := engine.New(pol.DockerHost)
	if err != nil {
		return nil, nil, err
	}
	defer eng.Close()
	st, err := gpureserve.Lock(ctx, pol.Slurm.StateDir)
	if err != nil {
		return nil, nil, err
	}
	defer st.Unlock()
	snap, err := gpuSnapshot(ctx, lib, eng, pol.Slurm.StateDir)
	if err != nil {
		return nil, nil, err
	}
	keep, err := liveReservations(st, snap, true)
	if err != nil {
		return nil, nil, err
	}
	snap.Holds = append(snap.Holds, gpureserve.Holds(keep)...)
	jobHeld := map[string]bool{}
	for _, h := range snap.Holds {
		if h.Kind == gpuuse.HeldByJob {
			jobHeld[h.UUID] = true
		}
	}
	uuids, err := gpureserve.Select(gpuuse.Units(snap.Devices), snap.Busy(), jobHeld, ask, rules)
	if err != nil {
		return nil, nil, err
	}
	if len(uuids) == 0 {
		return nil, nil, nil
	}
	rewriteDeviceIDs(req, uuids)
	if req.DryRun { // shows what would be granted, reserves nothing
		return uuids, nil, nil
	}
	pid, start, err := gpureserve.SelfStart()
	if err != nil {
		return nil, nil, err
	}
	b := make([]byte, 16)
	rand.Read(b)
	claim := &gpuClaim{dir: pol.Slurm.StateDir, token: hex.EncodeToString(b), debug: env.debugf}
	now := time.Now().UTC()
	for _, u := range uuids {
		keep = append(keep, gpureserve.Entry{UUID: u, UID: env.Who.UID, User: env.Who.Name, Token: claim.token,
			PID: pid, PIDStart: start, Created: now})
	}
	if err := st.Save(keep); err != nil {
		return nil, nil, err
	}
	env.debugf("reserved GPUs %v for %s", uuids, what)
	return uuids, claim, nil
}

// rewriteDeviceIDs puts the reserved UUIDs in place of the GPU names the
// user asked for with --gpus device=..., so that plan.SelectGPUs, which
// narrows the available GPUs to the request, selects exactly them.
func rewriteDeviceIDs(req *request.Run, uuids []string) {
	for i := range req.Host.DeviceRequests {
		if len(req.Host.DeviceRequests[i].DeviceIDs) > 0 {
			req.Host.DeviceRequests[i].DeviceIDs = uuids
		}
	}
}

// update rewrites this run's reservation entries under the lock:
// change returns the entry to keep, or false to drop it. It reports
// whether any entry of the claim was still there.
func (c *gpuClaim) update(ctx context.Context, change func(gpureserve.Entry) (gpureserve.Entry, bool)) (bool, error) {
	st, err := gpureserve.Lock(ctx, c.dir)
	if err != nil {
		return false, err
	}
	defer st.Unlock()
	entries, err := st.Load()
	if err != nil {
		return false, err
	}
	var out []gpureserve.Entry
	found := false
	for _, e := range entries {
		if e.Token == c.token {
			found = true
			if e, ok := change(e); ok {
				out = append(out, e)
			}
			continue
		}
		out = append(out, e)
	}
	if !found {
		return false, nil
	}
	return true, st.Save(out)
}

// Bind records the created container id in the run's GPU reservation,
// if it has one. A reservation reclaimed meanwhile (the run took longer
// than gpureserve.PendingGrace) may have gone to another run: then this
// container must not start.
func (r *Run) Bind(ctx context.Context, id string) error { return r.claim.bind(ctx, id) }

func (c *gpuClaim) bind(ctx context.Context, id string) error {
	if c == nil {
		return nil
	}
	found, err := c.update(ctx, func(e gpureserve.Entry) (gpureserve.Entry, bool) {
		e.Container = id
		return e, true
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("GPU reservation expired before the container was created (after %s); run again", gpureserve.PendingGrace)
	}
	c.bound = true
	return nil
}

// Release ends the run's GPU reservation, if it has one: at the end of an
// attached run, and whenever no container was made. A detached container
// keeps it until it goes away (then it is stale and reclaimed by the next
// reservation).
func (r *Run) Release(detached bool) {
	r.claim.release(detached)
	r.own.Close()
}

func (c *gpuClaim) release(detached bool) {
	if c == nil || (detached && c.bound) {
		return
	}
	// Not under the run's context: it may be cancelled by now.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.update(ctx, func(gpureserve.Entry) (gpureserve.Entry, bool) { return gpureserve.Entry{}, false }); err != nil {
		c.debug("release GPU reservation: %v", err)
	}
}
