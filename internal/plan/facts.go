// Package plan is userdocker's pure core, where every refusal is decided.
// For `run` it judges a parsed request against the caller's policy and the
// facts the edge gathered (internal/gather), and returns the final Docker
// request or every reason it was refused (Build, and the checks of the
// final request in checks.go); the other subcommands' refusals are named
// checks here too (exec, pull, load, ps, the subcommand list, the caller's
// job). It does no I/O: no Docker, no filesystem, no clock, no randomness.
package plan

import (
	"errors"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/userdocker/userdocker/internal/request"
)

// Facts are what the edge found out before planning.
type Facts struct {
	Caller request.Caller
	// Job is the caller's Slurm job, nil outside a job.
	Job *Job
	// GPUs are the GPU IDs this run may use (UUIDs, or indices where NVML is
	// absent), already decided by the GPU source; nil or empty: none.
	GPUs []string
	// Paths describes every host path named by the request and by the
	// policy's mount entries, keyed by the path as written (placeholders
	// expanded).
	Paths map[string]Path
	// Opened are the sources of the user's bind mounts that the edge
	// opened as the caller, when the policy has run.mounts.user_roots,
	// keyed by the path as written.
	Opened map[string]Opened
	// StagingDir is the root-owned directory, new for this run, under
	// which the edge binds the opened directories the plan mounts.
	StagingDir string
	// NameSuffix makes automatic names unique (random, from the edge).
	NameSuffix string
	// Image is the configuration of the image the request names, as the
	// daemon reported it after the image was made available; nil when it
	// is not known (a dry run of an image the daemon does not have).
	Image *Image
	// Cgroup is the parent cgroup the container goes below (cgroup.go);
	// nil refuses the run: a container must not go where no limits hold.
	Cgroup *Cgroup
	// HardLimits are the caller's hard resource limits, by the names
	// --ulimit uses ("nofile", "memlock", …); Unlimited for none. A limit
	// that is not in the map is not known, and --ulimit cannot raise it.
	HardLimits map[string]uint64
	// Devices are what each pattern of run.devices (always and
	// available, as written) matches on this node now.
	Devices map[string]DeviceMatches
	// Launcher are the launcher's variables in userdocker's environment
	// ("NAME=value", launch.IsLauncherVar names only, in their order):
	// what run.pass_env may copy into the container. They are what the
	// caller's sudo passed on, so the caller may have written any of them.
	Launcher []string
	// PMIx is the PMIx server directory of the caller's job step, looked
	// for only inside a job step with run.pmix = "mount"; nil otherwise.
	PMIx *PMIxDir
	// Daemon is the container engine behind docker_host, with CDI known
	// when gpu.delivery is "cdi"; nil before the edge asked (the first
	// Build of a run, a dry run the daemon was not asked for).
	Daemon *request.Daemon
}

// Unlimited is a HardLimits value: no limit (RLIM_INFINITY).
const Unlimited = ^uint64(0)

// Image is what Docker takes from an image's configuration into a
// container created from it, besides the file system: the labels and
// environment variables the request does not set, the image's volumes and
// exposed ports, and the health check fields the request leaves unset.
type Image struct {
	// ID is the image's content-addressable ID ("sha256:…"). The
	// container is created from it, so that a tag moved after the check
	// cannot put another image in its place.
	ID string
	// RepoDigests are the repository digests the daemon knows the image
	// by ("registry/name@sha256:…"), one per repository it was pulled
	// from or pushed to.
	RepoDigests []string
	Labels      map[string]string
	Env         []string
	// Volumes are the container paths of the image's VOLUME entries.
	Volumes []string
	// ExposedPorts are the image's EXPOSE entries ("80/tcp").
	ExposedPorts []string
	Healthcheck  *container.HealthConfig
}

// Job is what userdocker knows of the caller's job.
type Job struct {
	ID string
	// CPUs is the job's cpuset ("0-3,8"), empty when unknown.
	CPUs string
	// Mems are the memory nodes of the job's cpuset, empty with CPUs.
	Mems string
	// MemoryBytes is the job's memory limit, 0 when unknown or unlimited.
	MemoryBytes int64
	// Containers is how many containers the job has on this node, in
	// any state: counted by the edge under the job's lock, right before
	// a create (CheckJobContainers), and 0 before that.
	Containers int
	// GPUError is why ud-prolog could not tell which GPUs the job's GRES
	// indices (GPUIndices) are, "" when it could (CheckJobGPUs).
	GPUError   string
	GPUIndices []int
	// Step is the caller's job step as the cgroup names it ("0",
	// "batch", …), "" when the caller is in the job but in no step.
	Step string
}

// Path is what the edge found at a host path.
type Path struct {
	// Resolved is the absolute path with every symlink and .. resolved.
	Resolved string
	// Err is set when the path could not be resolved (missing, no access).
	Err error
	// Replaceable lists the resolved path's entries, from / down to the
	// path itself, that the caller could rename or replace (write access to
	// the parent, sticky bit considered). Such an entry could be swapped for
	// a symlink between the check and the mount.
	Replaceable []string
}

// Opened is a directory the edge opened as the caller (following
// symlinks as the caller would, with the caller's rights): what the plan
// judges is the directory now held open, not a name the caller can change.
type Opened struct {
	// Path is where the kernel says the opened directory is.
	Path string
	// Err is why it could not be opened as a directory.
	Err error
}

// ErrNotExist is the Path.Err of a path that does not exist.
var ErrNotExist = errors.New("does not exist")

// within reports whether path p is dir or below it.
func within(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
