// Package runflags parses a `docker run` command line the way the docker CLI
// does, into a request.Run. It knows every docker run flag, so that a flag the
// policy does not allow is refused by name rather than reported as unknown.
// It never opens files: --env-file and --label-file are returned as paths for
// the caller to read with the user's rights.
package runflags

import (
	"time"

	"github.com/spf13/pflag"
)

// options holds every docker run flag, grouped by topic as in `docker run --help`.
type options struct {
	// run itself
	detach, rm, quiet, sigProxy, disableTrust bool
	detachKeys, name, platform, pull, cidFile string

	// userdocker's own
	dryRun, noDefaultMounts, noDefaultArgs, help bool

	// process and environment
	interactive, tty, readOnly, init       bool
	attach, env, envFile, label, labelFile *listValue
	annotation                             *listValue
	user, workdir, entrypoint, hostname    string
	domainname, stopSignal, restart        string
	stopTimeout                            int
	groupAdd, ulimit                       *listValue

	// security
	privileged                               bool
	capAdd, capDrop, securityOpt             *listValue
	userns, cgroupns, pid, ipc, uts, runtime string
	isolation, cgroupParent                  string

	// devices and GPUs
	device, deviceCgroupRule                        *listValue
	deviceReadBps, deviceReadIops                   *listValue
	deviceWriteBps, deviceWriteIops, blkioWeightDev *listValue
	gpus                                            string

	// network
	network, mac, ip, ip6                      string
	publish, expose, addHost, dns, dnsOpt      *listValue
	dnsSearch, link, linkLocalIP, networkAlias *listValue
	publishAll                                 bool

	// storage
	volume, mount, tmpfs, volumesFrom, storageOpt *listValue
	volumeDriver                                  string

	// logging
	logDriver string
	logOpt    *listValue

	// health
	healthCmd                              string
	healthInterval, healthTimeout          time.Duration
	healthStartPeriod, healthStartInterval time.Duration
	healthRetries                          int
	noHealthcheck                          bool

	// resources
	memory, memoryReservation, kernelMemory, shmSize bytesValue
	memorySwap                                       swapValue
	cpus                                             nanoCPUsValue
	memorySwappiness                                 int64
	cpuShares, cpuPeriod, cpuQuota                   int64
	cpuRtPeriod, cpuRtRuntime, pidsLimit             int64
	cpuCount, cpuPercent                             int64
	cpusetCPUs, cpusetMems                           string
	blkioWeight                                      uint16
	oomKillDisable                                   bool
	oomScoreAdj                                      int
	sysctl                                           *listValue
	ioMaxBandwidth                                   bytesValue
	ioMaxIOps                                        uint64
}

// addFlags declares every docker run flag on fs, bound to o. The names,
// shorthands and defaults are docker's; only --dry-run, --no-default-mounts
// and --no-default-args are userdocker's own.
func (o *options) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.detach, "detach", "d", false, "Run container in background and print container ID")
	fs.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	fs.StringVar(&o.name, "name", "", "Assign a name to the container")
	fs.StringVar(&o.platform, "platform", "", "Set platform if server is multi-platform capable")
	fs.StringVar(&o.pull, "pull", "", `Pull image before running ("always", "missing", "never")`)
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the pull output")
	fs.BoolVar(&o.rm, "rm", false, "Automatically remove the container when it exits")
	fs.BoolVar(&o.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	fs.BoolVar(&o.disableTrust, "disable-content-trust", true, "Skip image verification")
	fs.StringVar(&o.cidFile, "cidfile", "", "Write the container ID to the file")

	fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "Print the final request as JSON and change nothing (userdocker)")
	fs.BoolVar(&o.noDefaultMounts, "no-default-mounts", false, "Do not add the site's default mounts (userdocker)")
	fs.BoolVar(&o.noDefaultArgs, "no-default-args", false, "Do not add the site's default flags (userdocker)")
	fs.BoolVar(&o.help, "help", false, "Print usage")

	o.attach = newList(checkAttach)
	o.env = newList(checkEnv)
	o.envFile = newList(nil)
	o.label = newList(checkNotEmpty)
	o.labelFile = newList(nil)
	o.annotation = newList(checkKeyValue)
	o.groupAdd = newList(checkNotEmpty)
	o.ulimit = newList(checkUlimit)
	fs.BoolVarP(&o.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fs.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fs.BoolVar(&o.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	fs.BoolVar(&o.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	fs.VarP(o.attach, "attach", "a", "Attach to STDIN, STDOUT or STDERR")
	fs.VarP(o.env, "env", "e", "Set environment variables")
	fs.Var(o.envFile, "env-file", "Read in a file of environment variables")
	fs.VarP(o.label, "label", "l", "Set meta data on a container")
	fs.Var(o.labelFile, "label-file", "Read in a line delimited file of labels")
	fs.Var(o.annotation, "annotation", "Add an annotation to the container (passed through to the OCI runtime)")
	fs.StringVarP(&o.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	fs.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	fs.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	fs.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	fs.StringVar(&o.domainname, "domainname", "", "Container NIS domain name")
	fs.StringVar(&o.stopSignal, "stop-signal", "", "Signal to stop the container")
	fs.IntVar(&o.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	fs.StringVar(&o.restart, "restart", "no", "Restart policy to apply when a container exits")
	fs.Var(o.groupAdd, "group-add", "Add additional groups to join")
	fs.Var(o.ulimit, "ulimit", "Ulimit options")

	o.capAdd = newList(checkNotEmpty)
	o.capDrop = newList(checkNotEmpty)
	o.securityOpt = newList(checkNotEmpty)
	fs.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to this container")
	fs.Var(o.capAdd, "cap-add", "Add Linux capabilities")
	fs.Var(o.capDrop, "cap-drop", "Drop Linux capabilities")
	fs.Var(o.securityOpt, "security-opt", "Security Options")
	fs.StringVar(&o.userns, "userns", "", "User namespace to use")
	fs.StringVar(&o.cgroupns, "cgroupns", "", `Cgroup namespace to use ("host" or "private")`)
	fs.StringVar(&o.pid, "pid", "", "PID namespace to use")
	fs.StringVar(&o.ipc, "ipc", "", "IPC mode to use")
	fs.StringVar(&o.uts, "uts", "", "UTS namespace to use")
	fs.StringVar(&o.runtime, "runtime", "", "Runtime to use for this container")
	fs.StringVar(&o.isolation, "isolation", "", "Container isolation technology")
	fs.StringVar(&o.cgroupParent, "cgroup-parent", "", "Optional parent cgroup for the container")

	o.device = newList(checkNotEmpty)
	o.deviceCgroupRule = newList(checkNotEmpty)
	o.deviceReadBps = newList(checkNotEmpty)
	o.deviceReadIops = newList(checkNotEmpty)
	o.deviceWriteBps = newList(checkNotEmpty)
	o.deviceWriteIops = newList(checkNotEmpty)
	o.blkioWeightDev = newList(checkNotEmpty)
	fs.Var(o.device, "device", "Add a host device to the container")
	fs.Var(o.deviceCgroupRule, "device-cgroup-rule", "Add a rule to the cgroup allowed devices list")
	fs.Var(o.deviceReadBps, "device-read-bps", "Limit read rate (bytes per second) from a device")
	fs.Var(o.deviceReadIops, "device-read-iops", "Limit read rate (IO per second) from a device")
	fs.Var(o.deviceWriteBps, "device-write-bps", "Limit write rate (bytes per second) to a device")
	fs.Var(o.deviceWriteIops, "device-write-iops", "Limit write rate (IO per second) to a device")
	fs.Var(o.blkioWeightDev, "blkio-weight-device", "Block IO weight (relative device weight)")
	fs.StringVar(&o.gpus, "gpus", "", `GPU devices to add to the container ("all" to pass all GPUs)`)

	o.publish = newList(checkNotEmpty)
	o.expose = newList(checkNotEmpty)
	o.addHost = newList(checkNotEmpty)
	o.dns = newList(checkNotEmpty)
	o.dnsOpt = newList(checkNotEmpty)
	o.dnsSearch = newList(checkNotEmpty)
	o.link = newList(checkNotEmpty)
	o.linkLocalIP = newList(checkNotEmpty)
	o.networkAlias = newList(checkNotEmpty)
	fs.StringVar(&o.network, "network", "", "Connect a container to a network")
	fs.StringVar(&o.network, "net", "", "Connect a container to a network")
	fs.StringVar(&o.mac, "mac-address", "", "Container MAC address")
	fs.StringVar(&o.ip, "ip", "", "IPv4 address")
	fs.StringVar(&o.ip6, "ip6", "", "IPv6 address")
	fs.VarP(o.publish, "publish", "p", "Publish a container's port(s) to the host")
	fs.BoolVarP(&o.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
	fs.Var(o.expose, "expose", "Expose a port or a range of ports")
	fs.Var(o.addHost, "add-host", "Add a custom host-to-IP mapping (host:ip)")
	fs.Var(o.dns, "dns", "Set custom DNS servers")
	fs.Var(o.dnsOpt, "dns-option", "Set DNS options")
	fs.Var(o.dnsOpt, "dns-opt", "Set DNS options")
	fs.Var(o.dnsSearch, "dns-search", "Set custom DNS search domains")
	fs.Var(o.link, "link", "Add link to another container")
	fs.Var(o.linkLocalIP, "link-local-ip", "Container IPv4/IPv6 link-local addresses")
	fs.Var(o.networkAlias, "network-alias", "Add network-scoped alias for the container")
	fs.Var(o.networkAlias, "net-alias", "Add network-scoped alias for the container")

	o.volume = newList(checkNotEmpty)
	o.mount = newList(checkNotEmpty)
	o.tmpfs = newList(checkNotEmpty)
	o.volumesFrom = newList(checkNotEmpty)
	o.storageOpt = newList(checkNotEmpty)
	fs.VarP(o.volume, "volume", "v", "Bind mount a volume")
	fs.Var(o.mount, "mount", "Attach a filesystem mount to the container")
	fs.Var(o.tmpfs, "tmpfs", "Mount a tmpfs directory")
	fs.Var(o.volumesFrom, "volumes-from", "Mount volumes from the specified container(s)")
	fs.Var(o.storageOpt, "storage-opt", "Storage driver options for the container")
	fs.StringVar(&o.volumeDriver, "volume-driver", "", "Optional volume driver for the container")

	o.logOpt = newList(checkNotEmpty)
	fs.StringVar(&o.logDriver, "log-driver", "", "Logging driver for the container")
	fs.Var(o.logOpt, "log-opt", "Log driver options")

	fs.StringVar(&o.healthCmd, "health-cmd", "", "Command to run to check health")
	fs.DurationVar(&o.healthInterval, "health-interval", 0, "Time between running the check")
	fs.DurationVar(&o.healthTimeout, "health-timeout", 0, "Maximum time to allow one check to run")
	fs.DurationVar(&o.healthStartPeriod, "health-start-period", 0, "Start period for the container to initialize")
	fs.DurationVar(&o.healthStartInterval, "health-start-interval", 0, "Time between running the check during the start period")
	fs.IntVar(&o.healthRetries, "health-retries", 0, "Consecutive failures needed to report unhealthy")
	fs.BoolVar(&o.noHealthcheck, "no-healthcheck", false, "Disable any container-specified HEALTHCHECK")

	o.sysctl = newList(checkKeyValue)
	fs.VarP(&o.memory, "memory", "m", "Memory limit")
	fs.Var(&o.memoryReservation, "memory-reservation", "Memory soft limit")
	fs.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	fs.Var(&o.kernelMemory, "kernel-memory", "Kernel memory limit")
	fs.Var(&o.shmSize, "shm-size", "Size of /dev/shm")
	fs.Int64Var(&o.memorySwappiness, "memory-swappiness", -1, "Tune container memory swappiness (0 to 100)")
	fs.Var(&o.cpus, "cpus", "Number of CPUs")
	fs.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fs.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	fs.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	fs.Int64Var(&o.cpuRtPeriod, "cpu-rt-period", 0, "Limit CPU real-time period in microseconds")
	fs.Int64Var(&o.cpuRtRuntime, "cpu-rt-runtime", 0, "Limit CPU real-time runtime in microseconds")
	fs.Int64Var(&o.cpuCount, "cpu-count", 0, "CPU count (Windows only)")
	fs.Int64Var(&o.cpuPercent, "cpu-percent", 0, "CPU percent (Windows only)")
	fs.StringVar(&o.cpusetCPUs, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fs.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	fs.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	fs.Uint16Var(&o.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable")
	fs.BoolVar(&o.oomKillDisable, "oom-kill-disable", false, "Disable OOM Killer")
	fs.IntVar(&o.oomScoreAdj, "oom-score-adj", 0, "Tune host's OOM preferences (-1000 to 1000)")
	fs.Var(o.sysctl, "sysctl", "Sysctl options")
	fs.Var(&o.ioMaxBandwidth, "io-maxbandwidth", "Maximum IO bandwidth limit for the system drive (Windows only)")
	fs.Uint64Var(&o.ioMaxIOps, "io-maxiops", 0, "Maximum IOps limit for the system drive (Windows only)")
}

// aliases maps docker's alternative long names to the canonical one, so that
// the policy sees one name whatever spelling the user chose.
var aliases = map[string]string{
	"net":       "network",
	"net-alias": "network-alias",
	"dns-opt":   "dns-option",
}
