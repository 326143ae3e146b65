package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/blkiodev"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

const testImageID = "sha256:abababababababababababababababababababababababababababababababab"

// jobFacts are baseFacts inside job 42 with one GPU, a CUDA-like image
// (its ENV claims every GPU) and the caller's hard limits.
func jobFacts() Facts {
	f := baseFacts()
	f.Job = &Job{ID: "42", CPUs: "2-3", MemoryBytes: 1 << 30}
	f.GPUs = []string{"GPU-a"}
	f.Image = &Image{
		ID:     testImageID,
		Labels: map[string]string{"maintainer": "someone"},
		Env:    []string{"PATH=/bin", "NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=all", "NVIDIA_REQUIRE_CUDA=cuda>=12"},
	}
	f.HardLimits = map[string]uint64{"nofile": 4096, "memlock": 65536, "rtprio": 0, "nice": 0, "core": Unlimited}
	return f
}

// validPlan is the allowed baseline final request: Build's answer for a
// detached run in job 42 with its GPU, from the inspected image.
func validPlan(t *testing.T, pol *policy.Policy, f Facts) *request.Plan {
	t.Helper()
	p, err := build(t, []string{"-d", "ud-test/busybox", "sleep", "1"}, pol, f)
	if err != nil {
		t.Fatalf("baseline refused: %v", err)
	}
	return p
}

func TestValidPlanIsPinnedAndExplicit(t *testing.T) {
	p := validPlan(t, basePolicy(), jobFacts())
	if p.Config.Image != testImageID {
		t.Errorf("Config.Image = %q, want the inspected image's ID", p.Config.Image)
	}
	wantLabels := map[string]string{
		label.UID: "2001", label.User: "alice", label.Job: "42", label.GPUs: "GPU-a", label.Image: "docker.io/ud-test/busybox:latest",
	}
	for k, v := range wantLabels {
		if got, ok := p.Config.Labels[k]; !ok || got != v {
			t.Errorf("label %s = %q (set: %v), want %q", k, got, ok, v)
		}
	}
	wantEnv := []string{
		"HOME=/home/alice", "USER=alice",
		"NVIDIA_VISIBLE_DEVICES=GPU-a", "DOCKER_RESOURCE_GPU=GPU-a", "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
		"NVIDIA_MIG_CONFIG_DEVICES=", "NVIDIA_MIG_MONITOR_DEVICES=", "NVIDIA_IMEX_CHANNELS=",
		"NVIDIA_GDS=", "NVIDIA_MOFED=", "NVIDIA_GDRCOPY=", "NVIDIA_NVSWITCH=", "NVIDIA_REQUIRE_JETPACK=",
	}
	if !slices.Equal(p.Config.Env, wantEnv) {
		t.Errorf("env\n%q\nwant\n%q", p.Config.Env, wantEnv)
	}

	// Outside a job and without GPUs every label and variable is still
	// there, empty or void, so that an image's cannot show through.
	f := baseFacts()
	q, err := build(t, []string{"ud-test/busybox"}, basePolicy(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{label.Job, label.GPUs} {
		if v, ok := q.Config.Labels[k]; !ok || v != "" {
			t.Errorf("without job and GPUs: label %s = %q (set: %v), want set and empty", k, v, ok)
		}
	}
	for _, kv := range []string{"NVIDIA_VISIBLE_DEVICES=void", "DOCKER_RESOURCE_GPU=void", "NVIDIA_DRIVER_CAPABILITIES=", "NVIDIA_IMEX_CHANNELS="} {
		if !slices.Contains(q.Config.Env, kv) {
			t.Errorf("without GPUs: env %q lacks %s", q.Config.Env, kv)
		}
	}
	if q.Config.Image != "docker.io/ud-test/busybox:latest" {
		t.Errorf("without image facts: Config.Image = %q, want the normalized reference", q.Config.Image)
	}
}

// TestChecks breaks one field of a valid final request at a time (or one
// fact about the image) and asserts that exactly the named check refuses
// it, with its message. Cases without a want are variations that stay
// allowed.
func TestChecks(t *testing.T) {
	type fix struct {
		p   *request.Plan
		pol *policy.Policy
		f   *Facts
	}
	ep := func(x *fix) *network.EndpointSettings {
		if x.p.Network.EndpointsConfig == nil {
			x.p.Network.EndpointsConfig = map[string]*network.EndpointSettings{}
		}
		e := &network.EndpointSettings{}
		x.p.Network.EndpointsConfig["default"] = e
		return e
	}
	setEnv := func(x *fix, kv string) {
		k, _, _ := strings.Cut(kv, "=")
		for i, e := range x.p.Config.Env {
			if strings.HasPrefix(e, k+"=") {
				x.p.Config.Env[i] = kv
				return
			}
		}
		x.p.Config.Env = append(x.p.Config.Env, kv)
	}
	i64 := func(v int64) *int64 { return &v }
	yes := true
	seconds := func(v int) *int { return &v }
	cases := []struct {
		name   string
		break_ func(x *fix)
		rule   string
		want   string
	}{
		{name: "privileged", break_: func(x *fix) { x.p.Host.Privileged = true }, rule: "privileged", want: "--privileged is not allowed"},

		{name: "user root", break_: func(x *fix) { x.p.Config.User = "0:0" }, rule: "user", want: `the container must run as 2001:2001, not "0:0"`},
		{name: "group not the caller's", break_: func(x *fix) { x.p.Host.GroupAdd = []string{"0"} }, rule: "user", want: `group "0" is not one of yours`},

		{name: "cap add", break_: func(x *fix) { x.p.Host.CapAdd = []string{"SYS_ADMIN"} }, rule: "capabilities", want: "--cap-add SYS_ADMIN is not allowed"},
		{name: "caps kept", break_: func(x *fix) { x.p.Host.CapDrop = nil }, rule: "capabilities", want: "capability ALL must be dropped"},

		{name: "seccomp", break_: func(x *fix) { x.p.Host.SecurityOpt = []string{"seccomp=unconfined"} }, rule: "security-opt", want: "--security-opt seccomp=unconfined is not allowed"},
		{name: "no nnp", break_: func(x *fix) { x.p.Host.SecurityOpt = nil }, rule: "security-opt", want: "no-new-privileges must be set"},
		{name: "unmasked paths", break_: func(x *fix) { x.p.Host.MaskedPaths = []string{} }, rule: "security-opt", want: "masked and read-only paths must be the daemon's defaults"},
		{name: "writable proc paths", break_: func(x *fix) { x.p.Host.ReadonlyPaths = []string{} }, rule: "security-opt", want: "systempaths=unconfined is not allowed"},

		{name: "pid host", break_: func(x *fix) { x.p.Host.PidMode = "host" }, rule: "namespaces", want: "--pid=host is not allowed"},
		{name: "ipc host", break_: func(x *fix) { x.p.Host.IpcMode = "host" }, rule: "namespaces", want: "--ipc=host is not allowed"},
		{name: "net host", break_: func(x *fix) { x.p.Host.NetworkMode = "host" }, rule: "namespaces", want: "--network=host is not allowed"},
		{name: "uts host", break_: func(x *fix) { x.p.Host.UTSMode = "host" }, rule: "namespaces", want: "--uts=host is not allowed"},
		{name: "userns host", break_: func(x *fix) { x.p.Host.UsernsMode = "host" }, rule: "namespaces", want: "--userns=host is not allowed"},
		{name: "cgroupns host", break_: func(x *fix) { x.p.Host.CgroupnsMode = "host" }, rule: "namespaces", want: "--cgroupns=host is not allowed"},
		{name: "volumes from", break_: func(x *fix) { x.p.Host.VolumesFrom = []string{"bob-1"} }, rule: "namespaces", want: "--volumes-from is not allowed"},
		{name: "link", break_: func(x *fix) { x.p.Host.Links = []string{"bob-1:db"} }, rule: "namespaces", want: "--link is not allowed"},
		{name: "cgroup of another", break_: func(x *fix) { x.p.Host.Cgroup = "container:bob-1" }, rule: "namespaces", want: "sharing another container's cgroup"},

		{name: "user-defined network", break_: func(x *fix) { x.p.Host.NetworkMode = "admin-net" }, rule: "network", want: "--network=admin-net is not allowed"},
		{name: "user-defined network the site allows", break_: func(x *fix) {
			x.p.Host.NetworkMode = "jobs"
			x.pol.Run.Args.Allowed = append(x.pol.Run.Args.Allowed, flags("--network")...)
			x.pol.Run.Args.Values["--network"] = valuesOf("--network", `^jobs$`)["--network"]
		}},
		{name: "mac address", break_: func(x *fix) { x.p.Config.MacAddress = "02:42:ac:11:00:02" }, rule: "network", want: "--mac-address is not allowed on this system: the address could be another container's"},
		{name: "endpoint mac", break_: func(x *fix) { ep(x).MacAddress = "02:42:ac:11:00:02" }, rule: "network", want: "--mac-address is not allowed"},
		{name: "endpoint ip", break_: func(x *fix) { ep(x).IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: "172.17.0.2"} }, rule: "network", want: "--ip, --ip6 and --link-local-ip are not allowed"},
		{name: "endpoint alias", break_: func(x *fix) { ep(x).Aliases = []string{"db"} }, rule: "network", want: "--network-alias db is not allowed"},
		{name: "endpoint link", break_: func(x *fix) { ep(x).Links = []string{"bob-1:db"} }, rule: "network", want: "--link is not allowed"},
		{name: "endpoint driver options", break_: func(x *fix) { ep(x).DriverOpts = map[string]string{"x": "y"} }, rule: "network", want: "network driver options are not allowed"},
		{name: "endpoint address", break_: func(x *fix) { ep(x).IPAddress = "172.17.0.2" }, rule: "network", want: "the daemon's to set"},

		{name: "device", break_: func(x *fix) { x.p.Host.Devices = []container.DeviceMapping{{PathOnHost: "/dev/sda"}} }, rule: "devices", want: "--device /dev/sda is not allowed"},
		{name: "device cgroup rule", break_: func(x *fix) { x.p.Host.DeviceCgroupRules = []string{"a *:* rwm"} }, rule: "devices", want: "--device-cgroup-rule"},
		{name: "other GPUs", break_: func(x *fix) { x.p.Host.DeviceRequests[0].DeviceIDs = []string{"GPU-b"} }, rule: "devices", want: "device requests other than your granted GPUs"},

		{name: "binds", break_: func(x *fix) { x.p.Host.Binds = []string{"/:/host"} }, rule: "mounts", want: "bind mounts must come from the site's policy"},
		{name: "volume driver", break_: func(x *fix) { x.p.Host.VolumeDriver = "local" }, rule: "mounts", want: "--volume-driver is not allowed"},
		{name: "volume mount", break_: func(x *fix) {
			x.p.Host.Mounts = append(x.p.Host.Mounts, mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/v"})
		}, rule: "mounts", want: "--mount type=volume is not allowed"},
		{name: "non-recursive bind", break_: func(x *fix) { x.p.Host.Mounts[0].BindOptions = &mount.BindOptions{NonRecursive: true} }, rule: "mounts", want: "mount options for /etc/passwd are not allowed"},
		{name: "bind creating its source", break_: func(x *fix) { x.p.Host.Mounts[0].BindOptions = &mount.BindOptions{CreateMountpoint: true} }, rule: "mounts", want: "mount options for /etc/passwd"},
		{name: "empty bind options", break_: func(x *fix) { x.p.Host.Mounts[0].BindOptions = &mount.BindOptions{} }},
		{name: "unknown source", break_: func(x *fix) {
			x.p.Host.Mounts = append(x.p.Host.Mounts, mount.Mount{Type: mount.TypeBind, Source: "/var/run", Target: "/r"})
		}, rule: "mounts", want: "mount source /var/run is not a path the site's policy allows"},
		{name: "device list mount", break_: func(x *fix) {
			x.p.Host.Mounts = append(x.p.Host.Mounts, mount.Mount{Type: mount.TypeBind, Source: "/data", Target: "/var/run/nvidia-container-devices/all"})
		}, rule: "mounts", want: "mounting at /var/run/nvidia-container-devices/all is not allowed on this system: the NVIDIA hook takes device requests from there"},
		{name: "device list tmpfs under /run", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/run/nvidia-container-devices": "size=1m"} }, rule: "mounts", want: "mounting at /run/nvidia-container-devices is not allowed"},
		{name: "device list prefix", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/var/run/nvidia-container-devicesX": "size=1m"} }, rule: "mounts", want: "mounting at /var/run/nvidia-container-devicesX"},
		{name: "storage opt", break_: func(x *fix) { x.p.Host.StorageOpt = map[string]string{"size": "1T"} }, rule: "mounts", want: "--storage-opt is not allowed"},

		{name: "tmpfs suid", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=1m,suid"} }, rule: "tmpfs", want: `--tmpfs /t: option "suid" is not allowed`},
		{name: "tmpfs dev", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=1m,dev"} }, rule: "tmpfs", want: `option "dev" is not allowed`},
		{name: "tmpfs unknown option", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=1m,huge=always"} }, rule: "tmpfs", want: `option "huge=always" is not allowed`},
		{name: "tmpfs usual options", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "rw,exec,size=64m,mode=1777,uid=2001"} }},

		{name: "anonymous volume", break_: func(x *fix) { x.p.Config.Volumes = map[string]struct{}{"/v": {}} }, rule: "volumes", want: "anonymous volume /v is not allowed"},
		{name: "image volume", break_: func(x *fix) { x.f.Image.Volumes = []string{"/var/lib/db"} }, rule: "volumes",
			want: "image docker.io/ud-test/busybox:latest declares VOLUME /var/lib/db, and anonymous volumes are not allowed on this system"},
		{name: "image volume under a tmpfs", break_: func(x *fix) {
			x.f.Image.Volumes = []string{"/var/lib/db/"}
			x.p.Host.Tmpfs = map[string]string{"/var/lib/db": "size=1m"}
		}},
		{name: "image volume under a mount", break_: func(x *fix) { x.f.Image.Volumes = []string{"/home/alice"} }},

		{name: "runtime", break_: func(x *fix) { x.p.Host.Runtime = "runc-unsafe" }, rule: "runtime", want: "--runtime=runc-unsafe is not allowed"},
		{name: "isolation", break_: func(x *fix) { x.p.Host.Isolation = "hyperv" }, rule: "runtime", want: "--isolation is not allowed"},
		{name: "annotation", break_: func(x *fix) { x.p.Host.Annotations = map[string]string{"cdi.k8s.io/x": "nvidia.com/gpu=all"} }, rule: "runtime", want: "--annotation is not allowed"},

		{name: "cgroup parent", break_: func(x *fix) { x.p.Host.CgroupParent = "/" }, rule: "cgroups",
			want: `the container's cgroup parent must be /userdocker/vm/user_2001, not "/"`},
		{name: "no cgroup parent", break_: func(x *fix) { x.p.Host.CgroupParent = "" }, rule: "cgroups",
			want: `the container's cgroup parent must be /userdocker/vm/user_2001, not ""`},
		{name: "cgroup parent not known", break_: func(x *fix) { x.f.Cgroup = nil }, rule: "cgroups",
			want: "the cgroup that would hold your containers is not known, and none may run without one"},
		{name: "sysctl", break_: func(x *fix) { x.p.Host.Sysctls = map[string]string{"kernel.shmmax": "1"} }, rule: "cgroups", want: "--sysctl is not allowed"},

		{name: "all GPUs", break_: func(x *fix) { setEnv(x, "NVIDIA_VISIBLE_DEVICES=all") }, rule: "gpus-env",
			want: "the container's environment must set NVIDIA_VISIBLE_DEVICES=GPU-a exactly once: it decides GPUs"},
		{name: "IMEX channels", break_: func(x *fix) { setEnv(x, "NVIDIA_IMEX_CHANNELS=all") }, rule: "gpus-env", want: "must set NVIDIA_IMEX_CHANNELS= exactly once: it decides IMEX channel devices"},
		{name: "MIG monitor unset", break_: func(x *fix) {
			x.p.Config.Env = slices.DeleteFunc(x.p.Config.Env, func(kv string) bool { return strings.HasPrefix(kv, "NVIDIA_MIG_MONITOR_DEVICES=") })
		}, rule: "gpus-env", want: "must set NVIDIA_MIG_MONITOR_DEVICES= exactly once"},
		{name: "GPUs twice", break_: func(x *fix) { x.p.Config.Env = append(x.p.Config.Env, "NVIDIA_VISIBLE_DEVICES=GPU-a") }, rule: "gpus-env", want: "NVIDIA_VISIBLE_DEVICES=GPU-a exactly once"},
		{name: "driver capabilities", break_: func(x *fix) { setEnv(x, "NVIDIA_DRIVER_CAPABILITIES=all") }, rule: "gpus-env", want: "NVIDIA_DRIVER_CAPABILITIES=compute,utility exactly once"},
		{name: "swarm resource", break_: func(x *fix) { setEnv(x, "DOCKER_RESOURCE_GPU=all") }, rule: "gpus-env", want: "DOCKER_RESOURCE_GPU=GPU-a exactly once"},

		{name: "LD_PRELOAD", break_: func(x *fix) { x.p.Config.Env = append(x.p.Config.Env, "LD_PRELOAD=/proc/self/cwd/x.so") }, rule: "loader-env",
			want: "LD_PRELOAD is not allowed in a container with GPUs on this system: NVIDIA Container Toolkit before 1.17.8 runs a hook as root with it (CVE-2025-23266; see gpu.allow_loader_env)"},
		{name: "LD_AUDIT without a value", break_: func(x *fix) { x.p.Config.Env = append(x.p.Config.Env, "LD_AUDIT") }, rule: "loader-env", want: "LD_AUDIT is not allowed"},
		{name: "image LD_LIBRARY_PATH", break_: func(x *fix) { x.f.Image.Env = append(x.f.Image.Env, "LD_LIBRARY_PATH=/proc/self/cwd") }, rule: "loader-env",
			want: "image docker.io/ud-test/busybox:latest sets LD_LIBRARY_PATH, which is not allowed in a container with GPUs"},
		{name: "image GLIBC_TUNABLES", break_: func(x *fix) { x.f.Image.Env = append(x.f.Image.Env, "GLIBC_TUNABLES=x") }, rule: "loader-env", want: "sets GLIBC_TUNABLES"},
		{name: "LD_PRELOAD where the site allows it", break_: func(x *fix) {
			x.pol.GPU.AllowLoaderEnv = true
			x.p.Config.Env = append(x.p.Config.Env, "LD_PRELOAD=/opt/lib.so")
			x.f.Image.Env = append(x.f.Image.Env, "LD_LIBRARY_PATH=/usr/local/nvidia/lib")
		}},

		{name: "image by reference", break_: func(x *fix) { x.p.Config.Image = "docker.io/ud-test/busybox:latest" }, rule: "image",
			want: `the container must be created from the checked image ` + testImageID + `, not "docker.io/ud-test/busybox:latest"`},
		{name: "image by another ID", break_: func(x *fix) { x.f.Image.ID = "sha256:" + strings.Repeat("cd", 32) }, rule: "image", want: "must be created from the checked image sha256:cdcd"},
		{name: "another user's own image", break_: func(x *fix) {
			x.pol.Run.OwnImages = true
			setImage(x.p, "docker.io/local/bob/x:1", "never")
		}, rule: "image", want: "image docker.io/local/bob/x:1 is not allowed: it is in the image namespace of user bob (local/bob/): only they may run it"},
		{name: "own image where they are off", break_: func(x *fix) { setImage(x.p, "docker.io/local/alice/x:1", "never") }, rule: "image",
			want: "image docker.io/local/alice/x:1 is not allowed: it is in your own image namespace local/alice/, which this system does not enable (run.own_images)"},
		{name: "own image pulled", break_: func(x *fix) {
			x.pol.Run.OwnImages = true
			setImage(x.p, "docker.io/local/alice/x:1", "missing")
		}, rule: "image", want: `image docker.io/local/alice/x:1 must not be pulled (pull "missing"): images under local/ are never pulled`},
		{name: "own image, never pulled", break_: func(x *fix) {
			x.pol.Run.OwnImages = true
			setImage(x.p, "docker.io/local/alice/x:1", "never")
		}},

		{name: "owner label", break_: func(x *fix) { x.p.Config.Labels[label.UID] = "0" }, rule: "labels", want: `the container's label io.userdocker.uid must be "2001", not "0"`},
		{name: "job label", break_: func(x *fix) { x.p.Config.Labels[label.Job] = "7" }, rule: "labels", want: `label io.userdocker.job must be "42", not "7"`},
		{name: "GPU label unset", break_: func(x *fix) { delete(x.p.Config.Labels, label.GPUs) }, rule: "labels", want: `label io.userdocker.gpus must be "GPU-a", not ""`},
		{name: "image label", break_: func(x *fix) { x.p.Config.Labels[label.Image] = "docker.io/ud-test/cuda:latest" }, rule: "labels", want: `label io.userdocker.image must be "docker.io/ud-test/busybox:latest"`},
		{name: "foreign label", break_: func(x *fix) { x.p.Config.Labels["io.userdocker.owner"] = "bob" }, rule: "labels", want: "label io.userdocker.owner is not allowed"},
		{name: "foreign label in capitals", break_: func(x *fix) { x.p.Config.Labels["IO.USERDOCKER.JOB"] = "7" }, rule: "labels", want: "label IO.USERDOCKER.JOB is not allowed"},
		{name: "image with a foreign label", break_: func(x *fix) { x.f.Image.Labels["io.userdocker.reservation"] = "GPU-b" }, rule: "labels",
			want: "image docker.io/ud-test/busybox:latest carries the label io.userdocker.reservation: io.userdocker.* labels are userdocker's own, so this image cannot run here"},
		{name: "image with userdocker's own labels", break_: func(x *fix) {
			x.f.Image.Labels[label.Job] = "7"
			x.f.Image.Labels[label.GPUs] = "0,1,2,3"
		}},

		{name: "name", break_: func(x *fix) { x.p.Name = "bob-x" }, rule: "name", want: "the container name must start with alice-"},

		{name: "port on all interfaces", break_: func(x *fix) {
			x.p.Host.PortBindings = nat.PortMap{"80/tcp": {{HostPort: "8080"}}}
		}, rule: "publish", want: `-p :8080:80 is not allowed on this system (allowed: 127.0.0.1::PORT)`},
		{name: "publish all of the image's ports", break_: func(x *fix) {
			x.p.Host.PublishAllPorts = true
			x.f.Image.ExposedPorts = []string{"8888/tcp"}
		}, rule: "publish", want: "-P/--publish-all would publish port 8888/tcp on every interface of the host (::8888)"},
		{name: "publish all with nothing exposed", break_: func(x *fix) { x.p.Host.PublishAllPorts = true }},

		{name: "log driver", break_: func(x *fix) { x.p.Host.LogConfig = container.LogConfig{Type: "syslog"} }, rule: "logging", want: "--log-driver syslog is not allowed"},
		{name: "log options", break_: func(x *fix) {
			x.p.Host.LogConfig = container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1t"}}
			x.pol.Run.Args.Allowed = append(x.pol.Run.Args.Allowed, flags("--log-driver", "--log-opt")...)
			x.pol.Run.Args.Values["--log-opt"] = valuesOf("--log-opt", `^max-size=[0-9]+m$`)["--log-opt"]
		}, rule: "logging", want: "--log-opt max-size=1t is not allowed"},
		{name: "log driver the site sets", break_: func(x *fix) {
			x.p.Host.LogConfig = container.LogConfig{Type: "journald"}
			x.pol.Run.Args.Always = append(x.pol.Run.Args.Always, flagArgs("--log-driver=journald")...)
		}},

		{name: "restart always", break_: func(x *fix) { x.p.Host.RestartPolicy = container.RestartPolicy{Name: "always"} }, rule: "restart", want: "--restart=always is not allowed"},
		{name: "restart on failure", break_: func(x *fix) {
			x.p.Host.RestartPolicy = container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 9}
			x.pol.Run.Args.Allowed = append(x.pol.Run.Args.Allowed, flags("--restart")...)
			x.pol.Run.Args.Values["--restart"] = valuesOf("--restart", `^on-failure:[1-3]$`)["--restart"]
		}, rule: "restart", want: "--restart=on-failure:9 is not allowed"},

		{name: "stop timeout long", break_: func(x *fix) { x.p.Config.StopTimeout = seconds(3600) }, rule: "stop-timeout", want: "--stop-timeout 3600 is not allowed on this system: from 0 to 10 seconds (slurm.stop_timeout)"},
		{name: "stop timeout forever", break_: func(x *fix) { x.p.Config.StopTimeout = seconds(-1) }, rule: "stop-timeout", want: "--stop-timeout -1 is not allowed"},
		{name: "stop timeout short", break_: func(x *fix) { x.p.Config.StopTimeout = seconds(10) }},

		{name: "health check storm", break_: func(x *fix) {
			x.p.Config.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Millisecond}
		},
			rule: "healthcheck", want: "the container's health check has an interval of 1ms: more often than every 1s is not allowed"},
		{name: "image health check storm", break_: func(x *fix) {
			x.f.Image.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "true"}, StartInterval: 10 * time.Millisecond}
		}, rule: "healthcheck", want: "the health check of image docker.io/ud-test/busybox:latest has a start interval of 10ms"},
		{name: "image health check, request's interval", break_: func(x *fix) {
			x.f.Image.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Millisecond}
			x.p.Config.Healthcheck = &container.HealthConfig{Interval: time.Minute}
		}},
		{name: "image health check disabled", break_: func(x *fix) {
			x.f.Image.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Millisecond}
			x.p.Config.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		}},

		{name: "real-time priority", break_: func(x *fix) { x.p.Host.Ulimits = []*container.Ulimit{{Name: "rtprio", Soft: 99, Hard: 99}} }, rule: "ulimits",
			want: "--ulimit rtprio=99:99 is more than your own hard limit (rtprio=0)"},
		{name: "open files", break_: func(x *fix) { x.p.Host.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 8192}} }, rule: "ulimits", want: "--ulimit nofile=1024:8192 is more than your own hard limit (nofile=4096)"},
		{name: "unlimited memlock", break_: func(x *fix) { x.p.Host.Ulimits = []*container.Ulimit{{Name: "memlock", Soft: -1, Hard: -1}} }, rule: "ulimits", want: "--ulimit memlock=unlimited:unlimited is more than your own hard limit (memlock=65536)"},
		{name: "limit not known", break_: func(x *fix) { x.p.Host.Ulimits = []*container.Ulimit{{Name: "msgqueue", Soft: 1, Hard: 1}} }, rule: "ulimits", want: "your own msgqueue limit is not known"},
		{name: "limits within the caller's", break_: func(x *fix) {
			x.p.Host.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}, {Name: "core", Soft: -1, Hard: -1}}
		}},
		{name: "limit the site sets", break_: func(x *fix) {
			x.p.Host.Ulimits = []*container.Ulimit{{Name: "memlock", Soft: -1, Hard: -1}}
			x.pol.Run.Args.Always = append(x.pol.Run.Args.Always, flagArgs("--ulimit=memlock=-1:-1")...)
		}},

		{name: "oom kill disable", break_: func(x *fix) { x.p.Host.OomKillDisable = &yes }, rule: "resources", want: "--oom-kill-disable is not allowed"},
		{name: "oom score", break_: func(x *fix) { x.p.Host.OomScoreAdj = -500 }, rule: "resources", want: "--oom-score-adj below 0 is not allowed"},
		{name: "real-time runtime", break_: func(x *fix) { x.p.Host.CPURealtimeRuntime = 950000 }, rule: "resources", want: "real-time CPU scheduling is not allowed"},
		{name: "no process limit", break_: func(x *fix) { x.p.Host.PidsLimit = i64(-1) }, rule: "resources", want: "--pids-limit -1 (no limit) is not allowed"},
		{name: "cpu shares", break_: func(x *fix) { x.p.Host.CPUShares = 262144 }, rule: "resources", want: "--cpu-shares 262144 is not allowed on this system: at most 1024"},
		{name: "cpu shares lowered", break_: func(x *fix) { x.p.Host.CPUShares = 512 }},
		{name: "blkio weight", break_: func(x *fix) { x.p.Host.BlkioWeight = 1000 }, rule: "resources", want: "--blkio-weight and --blkio-weight-device are not allowed"},
		{name: "blkio weight device", break_: func(x *fix) { x.p.Host.BlkioWeightDevice = []*blkiodev.WeightDevice{{Path: "/dev/sda", Weight: 1000}} }, rule: "resources", want: "--blkio-weight and --blkio-weight-device"},
		{name: "cpus outside the job", break_: func(x *fix) { x.p.Host.CpusetCpus = "0-7" }, rule: "resources", want: `the container's CPUs "0-7" are not within your job's 2-3`},
		{name: "memory above the job", break_: func(x *fix) { x.p.Host.Memory = 2 << 30 }, rule: "resources", want: "memory limit must be within your job's"},

		{name: "shared memory above the job", break_: func(x *fix) { x.p.Host.ShmSize = 2 << 30 }, rule: "sizes", want: "the container's /dev/shm of 2g is more than your job's memory (1g)"},
		{name: "shared memory above the site's", break_: func(x *fix) {
			x.p.Host.ShmSize = 512 << 20
			x.pol.Run.Limits.ShmSize = policy.Limit{Max: 256 << 20, Text: "256m"}
		}, rule: "sizes", want: "/dev/shm of 512m is more than the 256m this system allows (run.limits.shm_size)"},
		{name: "shared memory within", break_: func(x *fix) { x.p.Host.ShmSize = 1 << 30 }},
		{name: "memory above the site's", break_: func(x *fix) { x.pol.Run.Limits.Memory = policy.Limit{Max: 512 << 20, Text: "512m"} }, rule: "sizes", want: "memory limit must be within the 512m this system allows"},
		{name: "tmpfs above the job", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=2g"} }, rule: "sizes", want: "tmpfs /t: size=2g is not within your job's memory (1g)"},
		{name: "tmpfs in octal", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=0100m"} }},
		{name: "tmpfs in hex above", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=0x41000000"} }, rule: "sizes", want: "size=0x41000000 is not within"},
		{name: "tmpfs without a size", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "mode=1777"} }, rule: "sizes", want: "tmpfs /t must have one size within your job's memory"},
		{name: "tmpfs as a share of memory", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=50%"} }, rule: "sizes", want: "size=50% is not within"},
		{name: "tmpfs in pages", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "nr_blocks=10"} }, rule: "sizes", want: "nr_blocks=10 is not within"},
		{name: "tmpfs sized twice", break_: func(x *fix) { x.p.Host.Tmpfs = map[string]string{"/t": "size=1m,size=2m"} }, rule: "sizes", want: "tmpfs /t must have one size"},
		{name: "tmpfs outside a job", break_: func(x *fix) {
			x.f.Job = nil
			x.p.Host.Tmpfs = map[string]string{"/t": ""}
			x.p.Config.Labels[label.Job] = ""
			x.p.Host.CpusetCpus, x.p.Host.Memory, x.p.Host.MemorySwap = "", 0, 0
		}},

		{name: "cidfile by the daemon", break_: func(x *fix) { x.p.Host.ContainerIDFile = "/etc/cid" }, rule: "cidfile", want: "the daemon may not write a container ID file"},

		{name: "CDI request with NVIDIA delivery", break_: func(x *fix) { x.p.Host.DeviceRequests = cdiRequest("nvidia.com/gpu=GPU-a") }, rule: "devices", want: "device requests other than your granted GPUs"},
		{name: "CDI request for every GPU", break_: func(x *fix) {
			x.pol.GPU.Delivery = "cdi"
			x.p.Host.DeviceRequests = cdiRequest("nvidia.com/gpu=all")
		}, rule: "devices", want: "device requests other than your granted GPUs"},
		{name: "CDI request with options", break_: func(x *fix) {
			x.pol.GPU.Delivery = "cdi"
			x.p.Host.DeviceRequests = cdiRequest("nvidia.com/gpu=GPU-a")
			x.p.Host.DeviceRequests[0].Options = map[string]string{"x": "y"}
		}, rule: "devices", want: "device requests other than your granted GPUs"},
		{name: "CDI request of the grant", break_: func(x *fix) {
			x.pol.GPU.Delivery = "cdi"
			x.p.Host.DeviceRequests = cdiRequest("nvidia.com/gpu=GPU-a")
		}},

		{name: "GPUs on dockerd", break_: func(x *fix) { x.f.Daemon = &docker2010 }},
		{name: "GPUs on Podman", break_: func(x *fix) { x.f.Daemon = &podman431 }, rule: "daemon",
			want: `GPUs cannot be delivered by Podman 4.3.1 with gpu.delivery = "device-requests"`},
		{name: "nvidia runtime on Podman", break_: func(x *fix) {
			x.f.Daemon, x.pol.GPU.Delivery = &podman431, "nvidia-runtime"
			x.p.Host.DeviceRequests, x.p.Host.Runtime = nil, "nvidia"
		}, rule: "daemon", want: `GPUs cannot be delivered by Podman 4.3.1 with gpu.delivery = "nvidia-runtime"`},
		{name: "CDI on dockerd 20.10", break_: func(x *fix) {
			x.f.Daemon, x.pol.GPU.Delivery = &docker2010, "cdi"
			x.p.Host.DeviceRequests = cdiRequest("nvidia.com/gpu=GPU-a")
		}, rule: "daemon", want: `gpu.delivery is "cdi", and Docker 20.10.24 does not inject CDI devices (Docker needs 25 or later`},
		{name: "CDI on Podman 4.3", break_: func(x *fix) {
			x.f.Daemon, x.pol.GPU.Delivery = &podman431, "cdi"
			x.p.Host.DeviceRequests = cdiRequest("nvidia.com/gpu=GPU-a")
		}, rule: "daemon", want: "Podman 4.3.1 does not inject CDI devices (Podman takes CDI device requests from 5.5.0 on)"},
		{name: "CDI on Podman 5.5", break_: func(x *fix) {
			x.f.Daemon, x.pol.GPU.Delivery = &request.Daemon{Engine: request.EnginePodman, Version: "5.5.0", API: "1.41", CDI: true}, "cdi"
			x.p.Host.DeviceRequests = cdiRequest("nvidia.com/gpu=GPU-a")
		}},
	}
	fired := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := jobFacts()
			x := &fix{p: clonePlan(validPlan(t, basePolicy(), f)), pol: basePolicy(), f: &f}
			c.break_(x)
			errs := Check(x.p, x.pol, *x.f)
			if c.want == "" {
				if len(errs) != 0 {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("allowed, want %s to refuse with %q", c.rule, c.want)
			}
			for _, err := range errs {
				r := err.(*refusal.Refusal)
				if r.Rule != c.rule {
					t.Errorf("check %s refused too: %q", r.Rule, r.Msg)
				}
			}
			if msg := errs[0].Error(); !strings.Contains(msg, c.want) {
				t.Errorf("message %q, want it to contain %q", msg, c.want)
			}
		})
		fired[c.rule] = true
	}
	for _, c := range checks {
		if !fired[c.name] {
			t.Errorf("check %s has no case here", c.name)
		}
	}
}

// TestBuildWithImage: Build without the image judges the request alone
// and names the image by reference; with the inspected image (the same
// request, policy and facts, as the edge calls it after the pull) it
// creates from the image's ID and judges what the image adds. GPUs the
// user narrowed with --gpus stay narrowed in both.
func TestBuildWithImage(t *testing.T) {
	f := jobFacts()
	f.GPUs = []string{"GPU-a", "GPU-b"}
	img := f.Image
	f.Image = nil
	args := []string{"--gpus", "1", "ud-test/busybox"}
	p, err := build(t, args, basePolicy(), f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Config.Image != "docker.io/ud-test/busybox:latest" {
		t.Fatalf("before the image is known: Config.Image = %q", p.Config.Image)
	}
	f.Image = img
	q, err := build(t, args, basePolicy(), f)
	if err != nil {
		t.Fatal(err)
	}
	if q.Config.Image != testImageID || q.Config.Labels[label.GPUs] != "GPU-a" {
		t.Fatalf("with the image: Config.Image = %q, GPU label %q; want %s and the narrowed GPU-a", q.Config.Image, q.Config.Labels[label.GPUs], testImageID)
	}
	img.Env = append(img.Env, "LD_PRELOAD=/x.so")
	img.Labels["io.userdocker.owner"] = "bob"
	_, err = build(t, args, basePolicy(), f)
	var rules []string
	for _, r := range refusal.All(err) {
		rules = append(rules, r.Rule)
	}
	if !slices.Equal(rules, []string{"loader-env", "labels"}) {
		t.Fatalf("a hostile image: %v (rules %v), want loader-env and labels refusals", err, rules)
	}
}

func clonePlan(p *request.Plan) *request.Plan {
	q := *p
	c, h := *p.Config, *p.Host
	c.Env = slices.Clone(c.Env)
	c.Labels = map[string]string{}
	for k, v := range p.Config.Labels {
		c.Labels[k] = v
	}
	h.Mounts = slices.Clone(h.Mounts)
	h.DeviceRequests = slices.Clone(h.DeviceRequests)
	for i := range h.DeviceRequests {
		h.DeviceRequests[i].DeviceIDs = slices.Clone(h.DeviceRequests[i].DeviceIDs)
	}
	q.Config, q.Host = &c, &h
	q.Network = copyNetworking(*p.Network)
	return &q
}

// setImage makes p a request for the image ref, pulled as pull says.
func setImage(p *request.Plan, ref, pull string) {
	p.Image, p.Pull = ref, pull
	p.Config.Labels[label.Image] = ref
}

var (
	docker2010 = request.Daemon{Engine: request.EngineDocker, Version: "20.10.24", API: "1.41", CDIKnown: true}
	podman431  = request.Daemon{Engine: request.EnginePodman, Version: "4.3.1", API: "1.41", CDIKnown: true}
)

func cdiRequest(ids ...string) []container.DeviceRequest {
	return []container.DeviceRequest{{Driver: "cdi", DeviceIDs: ids}}
}
