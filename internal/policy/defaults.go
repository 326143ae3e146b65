package policy

import "time"

// DefaultPath is the main configuration file. Drop-ins are read from
// conf.d/*.toml beside it.
//
// It is a variable only so that packagers can move it at link time:
//
//	go build -ldflags "-X github.com/userdocker/userdocker/internal/policy.DefaultPath=/opt/userdocker/config.toml"
//
// Nothing reads it from the environment or the command line of an
// unprivileged caller, and nothing in the program assigns it: under sudo,
// a config path that the caller could choose would be a way to choose the
// policy (DESIGN.md §3.2).
var DefaultPath = "/etc/userdocker/config.toml"

// Default returns the built-in policy: what applies to every key that no
// configuration file sets. Every built-in value is here and nowhere else.
// Slices and maps are never nil, so that an empty value from a file and an
// empty default look the same.
func Default() *Policy {
	return &Policy{
		DockerHost: "unix:///var/run/docker.sock",
		// inspect shows only the caller's containers and the images they
		// may run; tag and rmi act in the caller's own image namespace
		// alone, and tag only where run.own_images enables it.
		Subcommands: []string{"run", "attach", "stop", "ps", "images", "pull", "load", "logs", "version", "inspect", "tag", "rmi"},
		Run: Run{
			Images: []Pattern{},
			// Off: a site that lists its images in run.images decides
			// to let users run images of their own.
			OwnImages:       false,
			Pull:            "missing",
			EnforceUser:     true,
			CapDrop:         []string{"ALL"},
			CapAdd:          []string{},
			NoNewPrivileges: true,
			Env:             map[string]string{},
			Publish:         []Pattern{},
			HostNamespaces:  []string{},
			PassEnv:         []string{},
			PMIx:            "off",
			Args: Args{
				Allowed: []Flag{},
				Always:  []FlagArg{},
				Default: []FlagArg{},
				Values:  map[string]FlagValues{},
			},
			Mounts: Mounts{
				Always:    []MountSpec{},
				Default:   []MountSpec{},
				Available: []MountSpec{},
				UserRoots: []string{},
				Probe:     true,
			},
			Devices: Devices{Always: []string{}, Available: []string{}},
		},
		GPU: GPU{
			Source:       "slurm",
			DefaultCount: 1,
			MaxCount:     1,
			Exclusive:    true,
			Delivery:     "device-requests",
			// The toolkit's own default for an image that names none.
			DriverCapabilities: []string{"compute", "utility"},
		},
		Slurm: Slurm{
			StateDir:      "/run/userdocker",
			OutsideJob:    "deny",
			ConfineCPUs:   true,
			ConfineMemory: true,
			// ud-epilog removes a container in about 50 ms of dockerd's
			// time on a 2-vCPU node (measured, README "Performance"):
			// 64 take a few seconds, well inside the budget below even
			// on a busy node.
			MaxContainersPerJob: 64,
			// Well above the per-container --pids-limit sites set
			// (often 4096), and far below the kernel's pid_max: a
			// fork bomb spread over a job's containers stops here.
			JobPidsLimit: 16384,
			// One grace period for all of a job's containers together,
			// not one each: the job is over, and a detached container
			// that wants a clean end gets SIGTERM and this long.
			StopTimeout: 5 * time.Second,
			// Well below the PrologEpilogTimeout sites set (often
			// 60-300 s; slurmd's default is to wait forever).
			EpilogBudget: 30 * time.Second,
		},
		Limits: CallerLimits{
			// Memory and CPU time are the machine's to share outside a
			// job only where the site says how (see [limits]); a fork
			// bomb spread over containers is stopped everywhere.
			Pids: 16384,
		},
		Load: ImageLoad{
			MaxSize:  16 << 30,
			SpoolDir: "/var/spool/userdocker",
			MinFree:  2 << 30,
		},
		Audit: Audit{
			Log: "syslog",
		},
	}
}

// knownSubcommands are the subcommands userdocker implements; the
// subcommands key may only name these.
var knownSubcommands = []string{
	"run", "attach", "stop", "ps", "images", "pull", "load", "logs",
	"version", "rm", "kill", "wait", "exec", "tag", "rmi", "inspect",
}

// driverCapabilities are the NVIDIA driver capabilities the NVIDIA
// Container Toolkit knows (NVIDIA_DRIVER_CAPABILITIES).
var driverCapabilities = []string{"all", "compat32", "compute", "display", "graphics", "ngx", "utility", "video"}

// capabilities are the Linux capability names cap_add and cap_drop accept
// (without the CAP_ prefix, which may be written), besides "ALL".
var capabilities = []string{
	"AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF",
	"CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH",
	"FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
	"LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
	"NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP",
	"SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT",
	"SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
}
