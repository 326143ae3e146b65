// Package policy loads userdocker's configuration (DESIGN.md §6), merges the
// overrides that apply to a caller, and judges requests against the result.
package policy

import (
	"strconv"
	"time"
)

// Policy is the effective configuration for one caller: the system-wide
// values with every matching override applied and placeholders ({user},
// {uid}, {gid}, {home}, {job}) expanded where they appear in paths and env.
type Policy struct {
	DockerHost  string
	Subcommands []string
	Run         Run
	GPU         GPU
	Slurm       Slurm
	Limits      CallerLimits
	Load        ImageLoad
	Audit       Audit
}

// Run is the [run] table: what `userdocker run` may do.
type Run struct {
	Images []Pattern // on the normalized reference
	// OwnImages lets each user load, tag, run and remove images in a
	// namespace of their own, local/<user>/, which no one else can
	// (internal/plan's ownimages.go); run.images does not apply there.
	OwnImages       bool
	Pull            string // "never", "missing" or "always"
	EnforceUser     bool
	CapDrop         []string
	CapAdd          []string
	NoNewPrivileges bool
	Env             map[string]string
	Publish         []Pattern // on the canonical -p spec
	// HostNamespaces are the host's namespaces ("network", "ipc") that a
	// container in a Slurm job may join (--network=host, --ipc=host):
	// what the job's user has in a shell on the node anyway
	// (docs/security-model.md). Only with EnforceUser, NoNewPrivileges,
	// every capability dropped and none added (checkHostNamespaces).
	HostNamespaces []string
	// PassEnv are the names, a trailing * matching any rest, of the
	// launcher's variables (SLURM_*, PMIX_*, …: launch.IsLauncherVar)
	// that are copied from userdocker's environment into the container,
	// as data for the container's programs; they decide nothing.
	PassEnv []string
	// PMIx is "mount" to mount the job step's PMIx server directory into
	// a container on the host network, or "off".
	PMIx    string
	Args    Args
	Limits  Limits
	Mounts  Mounts
	Devices Devices
}

// Devices is [run.devices]: host devices a container in a Slurm job may
// have, as absolute paths under /dev with a glob (*, ?, [..]) allowed in
// the last element, expanded on the node at run time. GPUs are never
// among them: they are the job's, through the prolog's record.
type Devices struct {
	Always    []string // given to every container in a job
	Available []string // what --device may ask for: a match, or the pattern itself for all its matches
}

// Limits is [run.limits]: the largest sizes a container may ask for, each
// per container. Inside a job none may exceed the job's memory either
// (where slurm.confine_memory holds), whatever the limit says.
type Limits struct {
	// ShmSize bounds --shm-size.
	ShmSize Limit
	// Memory bounds --memory; a container without --memory gets it.
	Memory Limit
	// TmpfsSize bounds each tmpfs mount's size; a tmpfs without one gets
	// it.
	TmpfsSize Limit
}

// Limit is a size limit of run.limits, written as docker writes sizes
// ("8g", "512m", "1GB"); the zero Limit is none of the site's own.
type Limit struct {
	Max Bytes
	// Text is the limit as written, which messages repeat.
	Text string
}

// Set reports whether the site set the limit.
func (l Limit) Set() bool { return l.Max > 0 }

// String is the limit as written.
func (l Limit) String() string { return l.Text }

// Args is [run.args]: which docker run flags a user may pass.
type Args struct {
	Allowed []Flag    // the flags a user may pass
	Always  []FlagArg // flags and values the user cannot change
	Default []FlagArg // flags and values applied unless the user passes the flag
	// Values are, by flag spelling as written, the patterns the values a
	// user passes for that flag must match.
	Values map[string]FlagValues
}

// Mounts is [run.mounts].
type Mounts struct {
	Always    []MountSpec
	Default   []MountSpec // unless --no-default-mounts
	Available []MountSpec // these alone may let the user pick the container path
	// UserRoots are directories under which the user may mount any
	// directory they can reach, anywhere, rw or ro as they ask: the edge
	// opens it as the caller and stages it, so no swap can change it.
	UserRoots []string
	Probe     bool
}

// GPU is [gpu].
type GPU struct {
	Source       string // "slurm", "reserve" or "none"
	DefaultCount int
	MaxCount     int
	Exclusive    bool
	// Delivery says how granted GPUs reach Docker: "device-requests"
	// (default) or "nvidia-runtime" (sites on nvidia-docker2).
	Delivery string
	// MaxMemoryUsedMiB: in reserve mode, a GPU using more memory than this
	// counts as busy even without a reservation (0: any use counts).
	MaxMemoryUsedMiB int
	// DriverCapabilities are the NVIDIA driver capabilities a container
	// with GPUs gets (NVIDIA_DRIVER_CAPABILITIES): which parts of the
	// driver, device nodes among them, the NVIDIA hook adds.
	DriverCapabilities []string
	// AllowLoaderEnv lets containers with GPUs have LD_PRELOAD and the
	// other dynamic loader variables: NVIDIA Container Toolkit before
	// 1.17.8 runs a hook as root with them (CVE-2025-23266).
	AllowLoaderEnv bool
}

// Slurm is [slurm].
type Slurm struct {
	StateDir      string
	OutsideJob    string // "deny", "no-gpu" or "allow"
	ConfineCPUs   bool
	ConfineMemory bool
	// MaxContainersPerJob bounds the containers a job may have on a node
	// at once, in any state: each costs ud-epilog time (DESIGN.md §3.11).
	MaxContainersPerJob int
	// JobPidsLimit bounds the processes of all of a job's containers on
	// a node together: the pids limit of the job's parent cgroup.
	JobPidsLimit int
	// StopTimeout is how long ud-epilog lets the job's running containers,
	// all signalled at once, take to end before it kills them.
	StopTimeout time.Duration
	// EpilogBudget bounds ud-epilog's whole cleanup; it must stay below
	// slurm.conf's PrologEpilogTimeout, or slurmd kills the epilog and
	// drains the node.
	EpilogBudget time.Duration
}

// CallerLimits is [limits]: what all of a caller's containers may use
// together outside a Slurm job (slurm.outside_job "no-gpu" or "allow",
// and gpu.source "reserve"), as the limits of the caller's parent cgroup.
// Inside a job, the job's own limits hold instead. (run.limits, Limits,
// bounds each container's flags.)
type CallerLimits struct {
	// Memory bounds the memory of the caller's containers together; 0:
	// no limit of its own.
	Memory Bytes
	// CPUs bounds their CPU time together, in CPUs' worth (a CFS quota);
	// 0: no limit.
	CPUs NanoCPUs
	// Pids bounds their processes together.
	Pids int
}

// NanoCPUs is an amount of CPU time per period in billionths of a CPU,
// as Docker counts --cpus; written in the config as a number of CPUs
// ("cpus = 2", "cpus = 1.5").
type NanoCPUs int64

// String writes n as the config does: a number of CPUs.
func (n NanoCPUs) String() string {
	return strconv.FormatFloat(float64(n)/1e9, 'f', -1, 64)
}

// ImageLoad is [load]: what `userdocker load` may make root write.
type ImageLoad struct {
	// MaxSize bounds an archive as the daemon unpacks it: the spool file
	// userdocker writes, each layer counted at its unpacked size.
	MaxSize Bytes
	// SpoolDir is where the archive is kept while it is checked: root's
	// alone, made 0700 if missing.
	SpoolDir string
	// MinFree is the free space (as users count it: root's reserved
	// blocks aside) that a load leaves on the spool's file system and on
	// Docker's data root.
	MinFree Bytes
}

// Bytes is a size, written in the config as docker writes sizes ("4g",
// "512m", "100000").
type Bytes int64

// Audit is [audit].
type Audit struct {
	Log string // "syslog" or an absolute file path
}

// String writes b as the config does: in the largest of t, g, m, k that
// divides it, else in bytes.
func (b Bytes) String() string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"t", 40}, {"g", 30}, {"m", 20}, {"k", 10}} {
		if b != 0 && b%(1<<u.shift) == 0 {
			return strconv.FormatInt(int64(b>>u.shift), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}
