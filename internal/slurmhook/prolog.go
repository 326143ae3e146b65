package slurmhook

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/gpu"
	"github.com/userdocker/userdocker/internal/rangelist"
)

// PrologJob is what slurmd tells the prolog about a job, from its
// environment (DESIGN.md §4). slurmd runs the prolog as root; the
// environment is slurmd's, not the user's.
type PrologJob struct {
	ID    string // SLURM_JOB_ID
	SLUID string // SLURM_JOB_SLUID (newer Slurm), or ""
	UID   uint32 // SLURM_JOB_UID
	GID   uint32 // SLURM_JOB_GID
	User  string // SLURM_JOB_USER
	// GPUIndices are SLURM_JOB_GPUS: GRES indices, not minors or NVML
	// indices.
	GPUIndices []int
	Node       string // SLURMD_NODENAME, or ""
}

// ParsePrologEnv reads the job from the prolog's environment. A missing or
// malformed job id, uid, gid or user is an error: no record can be written
// without them. Notes are things worth logging that do not stop the prolog.
func ParsePrologEnv(env map[string]string) (job PrologJob, notes []string, err error) {
	job.ID = env["SLURM_JOB_ID"]
	if !alloc.ValidJobID(job.ID) {
		return PrologJob{}, nil, fmt.Errorf("SLURM_JOB_ID=%q is not a Slurm job id (is ud-prolog run by slurmd as Prolog?)", job.ID)
	}
	uid, err := strconv.ParseUint(env["SLURM_JOB_UID"], 10, 32)
	if err != nil {
		return PrologJob{}, nil, fmt.Errorf("SLURM_JOB_UID=%q is not a uid", env["SLURM_JOB_UID"])
	}
	gid, err := strconv.ParseUint(env["SLURM_JOB_GID"], 10, 32)
	if err != nil {
		return PrologJob{}, nil, fmt.Errorf("SLURM_JOB_GID=%q is not a gid", env["SLURM_JOB_GID"])
	}
	job.UID, job.GID = uint32(uid), uint32(gid)
	job.User = env["SLURM_JOB_USER"]
	if job.User == "" || strings.ContainsAny(job.User, "/\x00\n") {
		return PrologJob{}, nil, fmt.Errorf("SLURM_JOB_USER=%q is not a user name", job.User)
	}
	if job.GPUIndices, err = ParseGPUIndices(env["SLURM_JOB_GPUS"]); err != nil {
		return PrologJob{}, nil, err
	}
	if s := env["SLURM_JOB_SLUID"]; s != "" {
		if alloc.ValidSLUID(s) {
			job.SLUID = s
		} else {
			notes = append(notes, fmt.Sprintf("ignoring SLURM_JOB_SLUID=%q: not a SLUID", s))
		}
	}
	job.Node = env["SLURMD_NODENAME"]
	return job, notes, nil
}

// ParseGPUIndices reads SLURM_JOB_GPUS: a comma list of GRES indices,
// ranges ("0-2") accepted, each index once, at most 1024 of them; ""
// means no GPUs.
func ParseGPUIndices(s string) ([]int, error) {
	ranges, err := rangelist.Parse(s, rangelist.Rules{Unique: true, MaxCount: 1024})
	var e *rangelist.Error
	switch {
	case errors.As(err, &e) && e.Repeated:
		return nil, fmt.Errorf("SLURM_JOB_GPUS=%q: GPU index %d listed twice", s, e.Twice)
	case errors.As(err, &e):
		return nil, fmt.Errorf("SLURM_JOB_GPUS=%q: %q is not a GPU index or range", s, e.Item)
	}
	return rangelist.Numbers(ranges), nil
}

// GPUFacts are what the prolog found out about the node's GPUs, gathered
// at the edge (GatherGPUFacts) for the pure NewRecord.
type GPUFacts struct {
	// NoNVML: NVML cannot be loaded (gpu.ErrNoNVML) and the node has no
	// NVIDIA driver (gpu.DriverPresent).
	NoNVML bool
	// Err is why the facts below are incomplete, if they are.
	Err error
	// GresFiles are gres.conf's GPU device files in GRES order.
	GresFiles []string
	// GresErr is why GresFiles are unknown on a node without NVML, where
	// they serve only to tell a job step's GPUs (gpu_devices).
	GresErr error
	// FileMinors are the minor numbers of the job's device files.
	FileMinors map[string]int
	Devices    []gpu.Device
	// MIGCaps are the driver's MIG capability minors (gpu.ParseMIGMinors),
	// read only when the job has MIG devices.
	MIGCaps map[int]gpu.MIGCap
}

// NewRecord builds the allocation record of job. It never fails: GPUs that
// cannot be mapped to UUIDs are recorded with the reason (gpu_error), so
// that userdocker can refuse to grant them and say why, while the job
// still runs. The notes say what the prolog should log.
func NewRecord(job PrologJob, g GPUFacts, lim alloc.Limits, node string, now time.Time) (alloc.Record, []string) {
	r := alloc.Record{
		Version:          alloc.RecordVersion,
		JobID:            job.ID,
		SLUID:            job.SLUID,
		UID:              job.UID,
		GID:              job.GID,
		User:             job.User,
		Node:             node,
		GPUIndices:       append([]int{}, job.GPUIndices...),
		GPUUUIDs:         []string{},
		CPUs:             lim.CPUs,
		MemoryLimitBytes: lim.MemoryBytes,
		Created:          now.UTC(),
	}
	if len(job.GPUIndices) == 0 {
		return r, nil
	}
	switch {
	case g.NoNVML:
		r.GPUIDsAreIndices = true
		notes := []string{fmt.Sprintf("%v; recording GRES indices %v, not UUIDs", gpu.ErrNoNVML, job.GPUIndices)}
		var err error
		if r.GPUDevices, err = gpuDeviceFiles(g, job.GPUIndices); err != nil {
			notes = append(notes, fmt.Sprintf("the GPUs' device files are not known (%v): every step of the job gets all its GPUs", err))
		}
		return r, notes
	case g.Err != nil:
		r.GPUError = g.Err.Error()
	default:
		uuids, err := gpu.MapSlurmIndices(g.GresFiles, g.FileMinors, g.MIGCaps, g.Devices, job.GPUIndices)
		if err != nil {
			r.GPUError = err.Error()
		} else {
			r.GPUUUIDs = uuids
			r.GPUDevices, _ = gpuDeviceFiles(g, job.GPUIndices) // mapped above: every index has its files
			return r, nil
		}
	}
	return r, []string{fmt.Sprintf("GPUs %v will not be granted to containers: %s", job.GPUIndices, r.GPUError)}
}

// gpuDeviceFiles are the device files of the GPUs at the given GRES
// indices (gres.conf's File= entry of each, MIG capability files
// included), for the record's gpu_devices: with them userdocker tells which
// of a job's GPUs a step or task may use.
func gpuDeviceFiles(g GPUFacts, indices []int) ([][]string, error) {
	if g.GresErr != nil {
		return nil, g.GresErr
	}
	out := make([][]string, 0, len(indices))
	for _, i := range indices {
		if i < 0 || i >= len(g.GresFiles) {
			return nil, fmt.Errorf("GRES index %d out of range: gres.conf lists %d GPU device files", i, len(g.GresFiles))
		}
		out = append(out, gpu.GresEntryFiles(g.GresFiles[i]))
	}
	return out, nil
}

// GPULister is the part of *gpu.Lib the prolog needs.
type GPULister interface {
	Devices() ([]gpu.Device, error)
	Close() error
}

// DefaultDriverRoot is the root of the node's file system, under which
// the NVIDIA driver's files are looked for.
const DefaultDriverRoot = "/"

// PrologConfig is how ud-prolog runs. Zero fields take the defaults of a
// production node; tests replace the edges.
type PrologConfig struct {
	StateDir   string // alloc.DefaultStateDir
	GresConf   string // gpu.GresConfPath
	CgroupRoot string // alloc.DefaultCgroupRoot
	// DriverRoot is where the NVIDIA driver's files are looked for
	// (gpu.DriverMarkers): DefaultDriverRoot.
	DriverRoot string
	Log        io.Writer

	OpenGPUs   func() (GPULister, error)                    // gpu.Open
	StatMinors func(files []string) (map[string]int, error) // gpu.DeviceMinors
	ReadFile   func(path string) ([]byte, error)            // os.ReadFile
	Hostname   func() (string, error)                       // os.Hostname
	Now        func() time.Time                             // time.Now
}

func (c *PrologConfig) setDefaults() {
	if c.StateDir == "" {
		c.StateDir = alloc.DefaultStateDir
	}
	if c.GresConf == "" {
		c.GresConf = gpu.GresConfPath
	}
	if c.CgroupRoot == "" {
		c.CgroupRoot = alloc.DefaultCgroupRoot
	}
	if c.DriverRoot == "" {
		c.DriverRoot = DefaultDriverRoot
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.OpenGPUs == nil {
		c.OpenGPUs = func() (GPULister, error) { return gpu.Open() }
	}
	if c.StatMinors == nil {
		c.StatMinors = gpu.DeviceMinors
	}
	if c.ReadFile == nil {
		c.ReadFile = os.ReadFile
	}
	if c.Hostname == nil {
		c.Hostname = os.Hostname
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Prolog is ud-prolog: it records the job's allocation on this node so that
// userdocker can later give the job's containers exactly the job's GPUs. It
// calls no Slurm command and takes milliseconds. It fails only when no
// record can be written: a failed prolog drains the node and requeues the
// job, which GPU trouble does not deserve (NewRecord records it instead).
// Log lines read "ud-prolog: job <id>: …"; the returned error starts with
// "job <id>: " when the job id is known.
func Prolog(env map[string]string, cfg PrologConfig) error {
	cfg.setDefaults()
	job, notes, err := ParsePrologEnv(env)
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(cfg.Log, "ud-prolog: job %s: %s\n", job.ID, fmt.Sprintf(format, args...))
	}
	for _, n := range notes {
		logf("%s", n)
	}
	removed, err := alloc.RemoveJobRecords(cfg.StateDir, job.ID, job.SLUID)
	if err != nil {
		return fmt.Errorf("job %s: remove records of an earlier run: %w", job.ID, err)
	}
	if len(removed) > 0 {
		logf("removed records of an earlier run (requeued?): %s", strings.Join(removed, " "))
	}

	node := alloc.NodeName(job.Node, cfg.Hostname)
	var g GPUFacts
	if len(job.GPUIndices) > 0 {
		g = GatherGPUFacts(cfg, node, job.GPUIndices)
	}
	rec, notes := NewRecord(job, g, alloc.JobLimitsByID(cfg.CgroupRoot, job.ID, job.SLUID, job.UID), node, cfg.Now())
	for _, n := range notes {
		logf("%s", n)
	}
	if err := alloc.WriteRecord(cfg.StateDir, rec); err != nil {
		return fmt.Errorf("job %s: %w", job.ID, err)
	}
	return nil
}

// GatherGPUFacts asks NVML, gres.conf and the device files what the GPU
// indices of a job on node refer to. It stops at the first failure and
// says what it was in GPUFacts.Err.
//
// Without NVML, GRES indices are recorded as they are only on a node
// without an NVIDIA driver. Where the driver is there (a library missing
// or broken, a driver container), the index would be read by the GPU
// runtime as an NVML index, which can name another job's GPU: that is
// a failure like any other, and the job's GPUs are not granted.
func GatherGPUFacts(cfg PrologConfig, node string, indices []int) GPUFacts {
	var g GPUFacts
	lib, err := cfg.OpenGPUs()
	if errors.Is(err, gpu.ErrNoNVML) {
		if marker, ok := gpu.DriverPresent(cfg.DriverRoot); ok {
			return GPUFacts{Err: fmt.Errorf("NVML cannot be loaded, but this node has an NVIDIA driver (%s): a GRES index could name another job's GPU", marker)}
		}
		g := GPUFacts{NoNVML: true}
		g.GresFiles, g.GresErr = readGresFiles(cfg, node)
		return g
	}
	if err != nil {
		return GPUFacts{Err: err}
	}
	g.Devices, err = lib.Devices()
	lib.Close()
	if err != nil {
		return GPUFacts{Err: fmt.Errorf("list GPUs: %w", err)}
	}
	if g.GresFiles, err = readGresFiles(cfg, node); err != nil {
		return GPUFacts{Err: err}
	}
	var files []string
	mig := false
	for _, i := range indices {
		if i >= 0 && i < len(g.GresFiles) {
			entry := gpu.GresEntryFiles(g.GresFiles[i])
			files = append(files, entry...)
			mig = mig || len(entry) > 1
		}
	}
	if g.FileMinors, err = cfg.StatMinors(files); err != nil {
		return GPUFacts{Err: err}
	}
	if mig {
		text, err := cfg.ReadFile(gpu.MIGMinorsPath)
		if err != nil {
			return GPUFacts{Err: fmt.Errorf("read MIG capability minors: %w", err)}
		}
		if g.MIGCaps, err = gpu.ParseMIGMinors(string(text)); err != nil {
			return GPUFacts{Err: err}
		}
	}
	return g
}

// readGresFiles reads gres.conf's GPU device files of node, in GRES order.
func readGresFiles(cfg PrologConfig, node string) ([]string, error) {
	text, err := cfg.ReadFile(cfg.GresConf)
	if err != nil {
		return nil, fmt.Errorf("read gres.conf: %w", err)
	}
	return gpu.ParseGresConf(string(text), node)
}

// EnvMap turns os.Environ() into a map; later entries win, as in getenv.
func EnvMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
