package plan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
)

// coverage says, for every field of the create request userdocker sends
// (docker/docker v28.5.2 types), which final check judges it, or, with no
// check, why the field is left to the user. TestCoverage fails when a
// field has no row, so a field that a new Docker version adds must be
// decided on before it can pass unjudged.
var coverage = []struct{ field, check, why string }{
	// container.Config: what runs, and what the image fills in.
	{"Config.Hostname", "", "inside the container's own UTS namespace"},
	{"Config.Domainname", "", "inside the container's own UTS namespace"},
	{"Config.User", "user", ""},
	{"Config.AttachStdin", "", "which of the user's own streams are attached"},
	{"Config.AttachStdout", "", "which of the user's own streams are attached"},
	{"Config.AttachStderr", "", "which of the user's own streams are attached"},
	{"Config.ExposedPorts", "publish", "metadata, published only with -P, which checkPublish judges together with the image's"},
	{"Config.Tty", "", "the user's own terminal"},
	{"Config.OpenStdin", "", "the user's own stdin"},
	{"Config.StdinOnce", "", "the user's own stdin"},
	{"Config.Env", "gpus-env", "hook variables; loader-env judges loader variables with GPUs; run.env is enforced by planEnv"},
	{"Config.Cmd", "", "what runs inside the container, as the user"},
	{"Config.Healthcheck", "healthcheck", ""},
	{"Config.ArgsEscaped", "", "Windows only"},
	{"Config.Image", "image", ""},
	{"Config.Volumes", "volumes", ""},
	{"Config.WorkingDir", "", "inside the container"},
	{"Config.Entrypoint", "", "what runs inside the container, as the user"},
	{"Config.NetworkDisabled", "", "only takes the network away"},
	{"Config.MacAddress", "network", ""},
	{"Config.OnBuild", "", "used by builds, not by a container"},
	{"Config.Labels", "labels", ""},
	{"Config.StopSignal", "", "a signal to the container's own processes; stops still end in SIGKILL"},
	{"Config.StopTimeout", "stop-timeout", ""},
	{"Config.Shell", "", "used by builds, not by a container"},

	// container.HostConfig, without its Resources.
	{"HostConfig.Binds", "mounts", ""},
	{"HostConfig.ContainerIDFile", "cidfile", ""},
	{"HostConfig.LogConfig", "logging", ""},
	{"HostConfig.NetworkMode", "network", "host and container: modes are namespaces"},
	{"HostConfig.PortBindings", "publish", ""},
	{"HostConfig.RestartPolicy", "restart", ""},
	{"HostConfig.AutoRemove", "", "removes the user's own container"},
	{"HostConfig.VolumeDriver", "mounts", ""},
	{"HostConfig.VolumesFrom", "namespaces", ""},
	{"HostConfig.ConsoleSize", "", "the size of the user's own terminal"},
	{"HostConfig.Annotations", "runtime", ""},
	{"HostConfig.CapAdd", "capabilities", ""},
	{"HostConfig.CapDrop", "capabilities", ""},
	{"HostConfig.CgroupnsMode", "namespaces", ""},
	{"HostConfig.DNS", "", "the container's own resolv.conf, which it could write itself"},
	{"HostConfig.DNSOptions", "", "the container's own resolv.conf, which it could write itself"},
	{"HostConfig.DNSSearch", "", "the container's own resolv.conf, which it could write itself"},
	{"HostConfig.ExtraHosts", "", "the container's own /etc/hosts, which it could write itself"},
	{"HostConfig.GroupAdd", "user", ""},
	{"HostConfig.IpcMode", "namespaces", ""},
	{"HostConfig.Cgroup", "namespaces", ""},
	{"HostConfig.Links", "namespaces", ""},
	{"HostConfig.OomScoreAdj", "resources", ""},
	{"HostConfig.PidMode", "namespaces", ""},
	{"HostConfig.Privileged", "privileged", ""},
	{"HostConfig.PublishAllPorts", "publish", ""},
	{"HostConfig.ReadonlyRootfs", "", "only takes writes away"},
	{"HostConfig.SecurityOpt", "security-opt", ""},
	{"HostConfig.StorageOpt", "mounts", ""},
	{"HostConfig.Tmpfs", "tmpfs", "targets: mounts; sizes: sizes"},
	{"HostConfig.UTSMode", "namespaces", ""},
	{"HostConfig.UsernsMode", "namespaces", ""},
	{"HostConfig.ShmSize", "sizes", "run.limits.shm_size and the job's memory; unset: the daemon's default"},
	{"HostConfig.Sysctls", "cgroups", ""},
	{"HostConfig.Runtime", "runtime", ""},
	{"HostConfig.Isolation", "runtime", ""},
	{"HostConfig.Mounts", "mounts", ""},
	{"HostConfig.MaskedPaths", "security-opt", ""},
	{"HostConfig.ReadonlyPaths", "security-opt", ""},
	{"HostConfig.Init", "", "docker-init as the container's PID 1, running as the user"},

	// container.Resources, embedded in HostConfig.
	{"Resources.CPUShares", "resources", "raising it is refused, lowering is the user's"},
	{"Resources.Memory", "resources", "within the job's; sizes: within run.limits.memory"},
	{"Resources.NanoCPUs", "", "only limits"},
	{"Resources.CgroupParent", "cgroups", ""},
	{"Resources.BlkioWeight", "resources", ""},
	{"Resources.BlkioWeightDevice", "resources", ""},
	{"Resources.BlkioDeviceReadBps", "", "only limits the container's own I/O"},
	{"Resources.BlkioDeviceWriteBps", "", "only limits the container's own I/O"},
	{"Resources.BlkioDeviceReadIOps", "", "only limits the container's own I/O"},
	{"Resources.BlkioDeviceWriteIOps", "", "only limits the container's own I/O"},
	{"Resources.CPUPeriod", "", "only limits"},
	{"Resources.CPUQuota", "", "only limits"},
	{"Resources.CPURealtimePeriod", "resources", ""},
	{"Resources.CPURealtimeRuntime", "resources", ""},
	{"Resources.CpusetCpus", "resources", ""},
	{"Resources.CpusetMems", "", "where the container's memory is placed, not how much; the job's parent cgroup bounds it"},
	{"Resources.Devices", "devices", ""},
	{"Resources.DeviceCgroupRules", "devices", ""},
	{"Resources.DeviceRequests", "devices", ""},
	{"Resources.KernelMemory", "", "only limits (deprecated)"},
	{"Resources.KernelMemoryTCP", "", "only limits (deprecated)"},
	{"Resources.MemoryReservation", "", "a soft limit below Memory"},
	{"Resources.MemorySwap", "resources", "equal to Memory inside a job"},
	{"Resources.MemorySwappiness", "", "how the container's own memory is reclaimed"},
	{"Resources.OomKillDisable", "resources", ""},
	{"Resources.PidsLimit", "resources", "no limit is refused; unset is the daemon's default (set --pids-limit in run.args.always)"},
	{"Resources.Ulimits", "ulimits", "unset: the daemon's default-ulimits"},
	{"Resources.CPUCount", "", "Windows only"},
	{"Resources.CPUPercent", "", "Windows only"},
	{"Resources.IOMaximumIOps", "", "Windows only"},
	{"Resources.IOMaximumBandwidth", "", "Windows only"},

	// mount.Mount, each of HostConfig.Mounts.
	{"Mount.Type", "mounts", "bind only"},
	{"Mount.Source", "mounts", ""},
	{"Mount.Target", "mounts", "not over the NVIDIA device lists; planMounts checks it against run.mounts"},
	{"Mount.ReadOnly", "", "planMounts makes it read-only where run.mounts says :ro"},
	{"Mount.Consistency", "", "macOS only; ignored on Linux"},
	{"Mount.BindOptions", "mounts", ""},
	{"Mount.VolumeOptions", "mounts", ""},
	{"Mount.ImageOptions", "mounts", ""},
	{"Mount.TmpfsOptions", "mounts", ""},
	{"Mount.ClusterOptions", "mounts", ""},

	// network.EndpointSettings, each of NetworkingConfig.EndpointsConfig.
	{"EndpointSettings.IPAMConfig", "network", ""},
	{"EndpointSettings.Links", "network", ""},
	{"EndpointSettings.Aliases", "network", ""},
	{"EndpointSettings.MacAddress", "network", ""},
	{"EndpointSettings.DriverOpts", "network", ""},
	{"EndpointSettings.GwPriority", "", "which of the container's own networks gives its default route"},
	{"EndpointSettings.NetworkID", "network", ""},
	{"EndpointSettings.EndpointID", "network", ""},
	{"EndpointSettings.Gateway", "network", ""},
	{"EndpointSettings.IPAddress", "network", ""},
	{"EndpointSettings.IPPrefixLen", "network", ""},
	{"EndpointSettings.IPv6Gateway", "network", ""},
	{"EndpointSettings.GlobalIPv6Address", "network", ""},
	{"EndpointSettings.GlobalIPv6PrefixLen", "network", ""},
	{"EndpointSettings.DNSNames", "network", ""},
}

func TestCoverage(t *testing.T) {
	var fields []string
	add := func(prefix string, typ reflect.Type, skip string) {
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Name != skip {
				fields = append(fields, prefix+"."+f.Name)
			}
		}
	}
	add("Config", reflect.TypeOf(container.Config{}), "")
	add("HostConfig", reflect.TypeOf(container.HostConfig{}), "Resources")
	add("Resources", reflect.TypeOf(container.Resources{}), "")
	add("Mount", reflect.TypeOf(mount.Mount{}), "")
	add("EndpointSettings", reflect.TypeOf(network.EndpointSettings{}), "")

	names := map[string]bool{}
	for _, c := range checks {
		names[c.name] = true
	}
	rows := map[string]int{}
	for _, r := range coverage {
		rows[r.field]++
		switch {
		case r.check == "" && r.why == "":
			t.Errorf("%s: neither a check nor a reason", r.field)
		case r.check != "" && !names[r.check]:
			t.Errorf("%s: no check named %q", r.field, r.check)
		}
	}
	known := map[string]bool{}
	for _, f := range fields {
		known[f] = true
		if rows[f] != 1 {
			t.Errorf("%s has %d rows in coverage, want 1: decide which check covers it, or why none does", f, rows[f])
		}
	}
	for _, r := range coverage {
		if !known[r.field] {
			t.Errorf("coverage names %s, which the Docker types do not have", r.field)
		}
	}
	if testing.Verbose() {
		var b strings.Builder
		for _, r := range coverage {
			b.WriteString(r.field + "\t" + r.check + "\t" + r.why + "\n")
		}
		t.Log("\n" + b.String())
	}
}
