// Package request holds the values that flow through userdocker's pure core:
// who asks (Caller), what a user asked for (Run), and what will be sent to
// Docker (Plan).
// Nothing here does I/O.
package request

import (
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
)

// Caller is the person userdocker acts for, as internal/caller
// established it from sudo and the system's user database.
type Caller struct {
	UID  uint32
	GID  uint32 // primary group
	Name string
	Home string
	// Groups are all the caller's group ids from the system database,
	// the primary group included.
	Groups []uint32
	// GroupNames are the names of Groups, in the same order ("" when a gid has no name).
	GroupNames []string
	// Root is true when the real caller is root (SUDO_UID=0, or run as root without sudo).
	Root bool
}

// Run is a parsed `docker run` command line, before any policy applies.
// Config, Host and Network are filled exactly as the docker CLI would fill
// them, except for what needs files (env and label files: see EnvFiles,
// LabelFiles) and mounts, which are kept as Mounts for the policy to judge.
type Run struct {
	// Args are the arguments after "run", as typed: the plan parses
	// them again without the flags it refused, to find every other
	// reason at once (runflags.ParseWithout).
	Args []string
	// Image is the image argument as typed; Config.Image holds the same.
	Image   string
	Name    string
	Config  container.Config
	Host    container.HostConfig
	Network network.NetworkingConfig

	// Set holds the flags the user typed, by canonical long name (without
	// dashes), with their raw values in command-line order. Boolean flags
	// have "true"/"false". Flags applied from policy defaults or always-lists
	// are not in Set: the policy judges the user's flags against args.allowed.
	Set map[string][]string
	// Order lists the keys of Set in the order they first appeared.
	Order []string

	// Mounts are the -v/--volume and --mount requests, parsed but not
	// resolved; Host.Binds and Host.Mounts stay empty until the plan.
	Mounts []Mount

	// Files named on the command line. They are read at the edge with the
	// caller's rights (never root's), never by the parser.
	EnvFiles   []string
	LabelFiles []string
	CIDFile    string
	// FileEnv and FileLabels are what the edge read from EnvFiles and
	// LabelFiles. The plan puts them before the flags' own, as docker
	// does: -e and --label win.
	FileEnv    []string
	FileLabels map[string]string

	Detach     bool
	SigProxy   bool
	DetachKeys string
	Pull       string // --pull as typed ("" when not set)
	Platform   string
	GPUs       string // --gpus as typed ("" when not set)

	// NoDefaultMounts is userdocker's own --no-default-mounts.
	NoDefaultMounts bool
	// NoDefaultArgs is userdocker's own --no-default-args.
	NoDefaultArgs bool
	// DryRun is userdocker's own -n/--dry-run.
	DryRun bool
}

// MountType says what kind of mount a user asked for.
type MountType string

// Mount types a user may name; only bind mounts and tmpfs can pass policy.
const (
	MountBind   MountType = "bind"
	MountVolume MountType = "volume"
	MountTmpfs  MountType = "tmpfs"
	MountOther  MountType = "other"
)

// Mount is one -v/--volume or --mount request.
type Mount struct {
	Flag     string    // "volume" or "mount": the flag that asked for it
	Spec     string    // the value as typed, for messages
	Type     MountType // bind for -v with an absolute host path, volume for a named or anonymous volume
	Source   string    // host path (bind) or volume name (volume); empty for anonymous volumes
	Target   string    // path inside the container
	ReadOnly bool
	// Options are the mode or key=value options besides ro/rw, as typed
	// (propagation, volume-driver, volume-opt, bind-propagation, …). The policy
	// refuses what it does not know.
	Options []string
}

// Plan is the final request: exactly what userdocker sends to Docker, and
// what --dry-run prints.
type Plan struct {
	Name    string                    `json:"name"`
	Image   string                    `json:"image"` // normalized reference
	Pull    string                    `json:"pull"`  // never, missing or always
	Config  *container.Config         `json:"config"`
	Host    *container.HostConfig     `json:"host_config"`
	Network *network.NetworkingConfig `json:"networking_config"`

	Detach     bool   `json:"detach"`
	SigProxy   bool   `json:"sig_proxy"`
	DetachKeys string `json:"detach_keys,omitempty"`
	CIDFile    string `json:"cidfile,omitempty"`
	// Notes are one-line remarks for the user about what the policy changed
	// (e.g. "name set to alice-3f2a"); shown with --debug.
	Notes []string `json:"notes,omitempty"`
	// Say are the notes the user is told on stderr when the container is
	// created, because they change what the container gets (a mount made
	// read-only by the policy).
	Say []string `json:"say,omitempty"`
	// Staged are the directories under run.mounts.user_roots that the
	// edge binds onto root-owned staging directories before the create;
	// the container's mounts name the staging directories.
	Staged []Staged `json:"staged,omitempty"`
}

// Staged is one directory of a user's own, opened as the caller, and
// where it is bound for Docker.
type Staged struct {
	Source  string `json:"source"`  // as the user wrote it
	Opened  string `json:"opened"`  // where the kernel found the directory opened
	Staging string `json:"staging"` // the root-owned directory it is bound onto
}
