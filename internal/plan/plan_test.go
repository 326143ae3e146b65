package plan

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"

	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

// basePolicy is the allowed baseline; each case changes one thing.
func basePolicy() *policy.Policy {
	return &policy.Policy{
		DockerHost:  "unix:///var/run/docker.sock",
		Subcommands: []string{"run"},
		Run: policy.Run{
			Images:          policy.Patterns(`^docker\.io/library/(debian|ubuntu):`, `^ud-test/`),
			Pull:            "missing",
			EnforceUser:     true,
			CapDrop:         []string{"ALL"},
			NoNewPrivileges: true,
			Env:             map[string]string{"HOME": "/home/alice", "USER": "alice"},
			Publish:         policy.Patterns(`^127\.0\.0\.1::[0-9]+$`),
			Args: policy.Args{
				Allowed: flags("-i", "-t", "-d", "--rm", "--read-only", "-w", "--entrypoint", "-e", "--name", "--shm-size", "--label", "--cap-drop", "--cap-add", "-u", "--group-add", "--cpuset-cpus", "-m"),
				Always:  flagArgs("--pids-limit=4096"),
				Default: flagArgs("--shm-size=1g"),
				Values:  valuesOf("--shm-size", `^[0-9]+[kmg]?$`),
			},
			Mounts: policy.Mounts{
				Always:    mounts("/etc/passwd:/etc/passwd:ro"),
				Default:   mounts("/home/alice:/home/alice"),
				Available: mounts("/scratch/alice:/scratch", "/data:/data:ro", "/projects:"),
			},
		},
		GPU:   policy.GPU{Source: "slurm", Delivery: "device-requests", DriverCapabilities: []string{"compute", "utility"}},
		Slurm: policy.Slurm{ConfineCPUs: true, ConfineMemory: true, StopTimeout: 10 * time.Second},
		Audit: policy.Audit{Log: "syslog"},
	}
}

// The typed values of the policy, as its decoder makes them from the
// configuration's strings.

func flags(spellings ...string) []policy.Flag {
	return each(func(s string) (policy.Flag, error) { return policy.NewFlag(s, runflags.Canonical) }, spellings)
}

func flagArgs(texts ...string) []policy.FlagArg {
	return each(func(s string) (policy.FlagArg, error) { return policy.NewFlagArg(s, runflags.Canonical) }, texts)
}

func mounts(specs ...string) []policy.MountSpec { return each(policy.ParseMount, specs) }

// each makes a value of every string with conv, which must accept them.
func each[T any](conv func(string) (T, error), ss []string) []T {
	var out []T
	for _, s := range ss {
		x, err := conv(s)
		if err != nil {
			panic(err)
		}
		out = append(out, x)
	}
	return out
}

// valuesOf is run.args.values with the one entry spelling = patterns.
func valuesOf(spelling string, patterns ...string) map[string]policy.FlagValues {
	return map[string]policy.FlagValues{spelling: {Flag: flags(spelling)[0], Patterns: policy.Patterns(patterns...)}}
}

func baseFacts() Facts {
	ok := func(p string) Path { return Path{Resolved: p} }
	return Facts{
		Caller: request.Caller{UID: 2001, GID: 2001, Name: "alice", Home: "/home/alice", Groups: []uint32{2001, 2100}},
		Paths: map[string]Path{
			"/etc/passwd":       ok("/etc/passwd"),
			"/home/alice":       ok("/home/alice"),
			"/scratch/alice":    ok("/scratch/alice"),
			"/data":             ok("/data"),
			"/projects":         ok("/projects"),
			"/projects/p1":      ok("/projects/p1"),
			"/data/sub":         ok("/data/sub"),
			"/scratch/link":     ok("/etc"),
			"/home/alice/proj":  {Resolved: "/home/alice/proj", Replaceable: []string{"/home/alice/proj"}},
			"/projects/missing": {Err: ErrNotExist},
			"/etc":              ok("/etc"),
			"/":                 ok("/"),
		},
		NameSuffix: "abcd1234",
		Cgroup:     &Cgroup{Parent: "/userdocker/vm/user_2001"},
	}
}

func build(t *testing.T, args []string, pol *policy.Policy, f Facts) (*request.Plan, error) {
	t.Helper()
	req, err := runflags.Parse(args, Layers(pol))
	if err != nil {
		return nil, err
	}
	return Build(req, pol, f)
}

func TestBuildBaseline(t *testing.T) {
	p, err := build(t, []string{"-it", "--rm", "ud-test/busybox", "sh"}, basePolicy(), baseFacts())
	if err != nil {
		t.Fatalf("baseline refused: %v", err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"image", p.Image, "docker.io/ud-test/busybox:latest"},
		{"user", p.Config.User, "2001:2001"},
		{"groups", strings.Join(p.Host.GroupAdd, ","), "2100"},
		{"cap drop", strings.Join(p.Host.CapDrop, ","), "ALL"},
		{"security opt", strings.Join(p.Host.SecurityOpt, ","), "no-new-privileges"},
		{"name", p.Name, "alice-abcd1234"},
		{"pids", *p.Host.PidsLimit, int64(4096)},
		{"shm default", p.Host.ShmSize, int64(1 << 30)},
		{"env", strings.Join(p.Config.Env[:3], " "), "HOME=/home/alice USER=alice NVIDIA_VISIBLE_DEVICES=void"},
		{"uid label", p.Config.Labels[label.UID], "2001"},
		{"user label", p.Config.Labels[label.User], "alice"},
		{"mounts", len(p.Host.Mounts), 2},
		{"pull", p.Pull, "missing"},
		{"device requests", len(p.Host.DeviceRequests), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	wantMounts := []mount.Mount{
		{Type: mount.TypeBind, Source: "/etc/passwd", Target: "/etc/passwd", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/home/alice", Target: "/home/alice"},
	}
	if !slices.EqualFunc(p.Host.Mounts, wantMounts, func(a, b mount.Mount) bool {
		return a.Type == b.Type && a.Source == b.Source && a.Target == b.Target && a.ReadOnly == b.ReadOnly
	}) {
		t.Errorf("mounts = %+v, want %+v", p.Host.Mounts, wantMounts)
	}
}

// TestBuildRefusals: each case is the baseline plus one attempt to get more
// than the policy allows, and names the reason the user reads.
func TestBuildRefusals(t *testing.T) {
	img := "ud-test/busybox"
	cases := []struct {
		name string
		args []string
		pol  func(*policy.Policy)
		want string
	}{
		{name: "privileged", args: []string{"--privileged", img}, want: "--privileged is not allowed on this system"},
		{name: "privileged spelled =true", args: []string{"--privileged=true", img}, want: "--privileged is not allowed on this system"},
		{name: "cap-add not in policy", args: []string{"--cap-add", "SYS_ADMIN", img}, want: "--cap-add SYS_ADMIN is not allowed on this system"},
		{name: "cap-add ALL", args: []string{"--cap-add=ALL", img}, want: "--cap-add ALL is not allowed on this system"},
		{name: "device", args: []string{"--device", "/dev/sda", img}, want: "--device is not allowed on this system"},
		{name: "device cgroup rule", args: []string{"--device-cgroup-rule", "a *:* rwm", img}, want: "--device-cgroup-rule is not allowed on this system"},
		{name: "gpus all outside a job", args: []string{"--gpus", "all", img}, want: "--gpus all: no GPUs are available to you here"},
		{name: "pid host", args: []string{"--pid=host", img}, want: "--pid is not allowed on this system"},
		{name: "ipc host", args: []string{"--ipc", "host", img}, want: "--ipc is not allowed on this system"},
		{name: "net host", args: []string{"--net=host", img}, want: "--network is not allowed on this system"},
		{name: "network container", args: []string{"--network", "container:bob-1", img}, want: "--network is not allowed on this system"},
		{name: "uts host", args: []string{"--uts=host", img}, want: "--uts is not allowed on this system"},
		{name: "userns host", args: []string{"--userns=host", img}, want: "--userns is not allowed on this system"},
		{name: "cgroupns host", args: []string{"--cgroupns=host", img}, want: "--cgroupns is not allowed on this system"},
		{name: "volumes-from", args: []string{"--volumes-from", "bob-1", img}, want: "--volumes-from is not allowed on this system"},
		{name: "mount root", args: []string{"-v", "/:/host", img}, want: "-v /:/host: mounting / at /host is not allowed"},
		{name: "mount etc", args: []string{"-v", "/etc:/etc2", img}, want: "mounting /etc at /etc2 is not allowed"},
		{name: "dotdot escape", args: []string{"-v", "/scratch/alice/../../etc:/scratch", img}, want: "was not looked up"},
		{name: "symlink escape", args: []string{"-v", "/scratch/link:/scratch", img}, want: "mounting /etc at /scratch is not allowed"},
		{name: "swappable subpath", args: []string{"-v", "/home/alice/proj:/work", img}, want: "you could replace /home/alice/proj with a symlink"},
		{name: "missing source", args: []string{"-v", "/projects/missing:/p", img}, want: "/projects/missing: does not exist"},
		{name: "wrong container path", args: []string{"-v", "/scratch/alice:/elsewhere", img}, want: "mounting /scratch/alice at /elsewhere is not allowed"},
		{name: "over always mount", args: []string{"-v", "/projects/p1:/etc/passwd", img}, want: "/etc/passwd is already mounted by the system"},
		{name: "named volume", args: []string{"-v", "myvol:/data", img}, want: "named volumes are not allowed"},
		{name: "anonymous volume", args: []string{"-v", "/data", img}, want: "anonymous volumes are not allowed"},
		{name: "volume driver option", args: []string{"--mount", "type=volume,source=x,target=/x,volume-driver=local,volume-opt=device=/dev/sda", img}, want: "named volumes are not allowed"},
		{name: "bind propagation", args: []string{"--mount", "type=bind,source=/projects/p1,target=/p,bind-propagation=rshared", img}, want: `mount option "bind-propagation=rshared" is not allowed`},
		{name: "selinux relabel", args: []string{"-v", "/projects/p1:/p:Z", img}, want: `mount option "Z" is not allowed`},
		{name: "volume-driver flag", args: []string{"--volume-driver", "rexray", img}, want: "--volume-driver is not allowed on this system"},
		{name: "tmpfs via mount", args: []string{"--mount", "type=tmpfs,target=/t", img}, want: "tmpfs mounts are not allowed"},
		{name: "user root", args: []string{"-u", "0", img}, want: `--user "0" is not allowed: containers run as you (2001:2001)`},
		{name: "user root by name", args: []string{"-u", "root", img}, want: `--user "root" is not allowed`},
		{name: "user own uid group 0", args: []string{"-u", "2001:0", img}, want: `--user "2001:0" is not allowed`},
		{name: "group-add root", args: []string{"--group-add", "0", img}, want: `--group-add "0" is not allowed`},
		{name: "group-add docker by name", args: []string{"--group-add", "docker", img}, want: `--group-add "docker" is not allowed`},
		{name: "security-opt unconfined", args: []string{"--security-opt", "seccomp=unconfined", img}, want: "--security-opt is not allowed on this system"},
		{name: "security-opt apparmor", args: []string{"--security-opt", "apparmor=unconfined", img}, want: "--security-opt is not allowed on this system"},
		{name: "cgroup parent", args: []string{"--cgroup-parent", "/", img}, want: "--cgroup-parent is not allowed on this system"},
		{name: "sysctl", args: []string{"--sysctl", "kernel.shmmax=1", img}, want: "--sysctl is not allowed on this system"},
		{name: "runtime", args: []string{"--runtime", "runc-unsafe", img}, want: "--runtime is not allowed on this system"},
		{name: "oom kill disable", args: []string{"--oom-kill-disable", img}, want: "--oom-kill-disable is not allowed on this system"},
		{name: "annotation", args: []string{"--annotation", "cdi.k8s.io/x=nvidia.com/gpu=all", img}, want: "--annotation is not allowed on this system"},
		{name: "denied image", args: []string{"ud-denied/busybox"}, want: "image docker.io/ud-denied/busybox:latest is not allowed on this system"},
		{name: "image by other registry", args: []string{"evil.example/ud-test/busybox"}, want: "is not allowed on this system"},
		{name: "image injection", args: []string{"--", "--privileged"}, want: `image "--privileged" is not a valid image reference`},
		{name: "image by id", args: []string{"0123456789012345678901234567890123456789012345678901234567890123"}, want: "is not a valid image reference"},
		{name: "forged NVIDIA_VISIBLE_DEVICES", args: []string{"-e", "NVIDIA_VISIBLE_DEVICES=all", img}, want: "-e NVIDIA_VISIBLE_DEVICES is not allowed: userdocker sets it"},
		{name: "forged MIG config", args: []string{"-e", "NVIDIA_MIG_CONFIG_DEVICES=all", img}, want: "-e NVIDIA_MIG_CONFIG_DEVICES is not allowed"},
		{name: "forged HOME", args: []string{"-e", "HOME=/root", img}, want: `-e HOME is not allowed: this system sets it to "/home/alice"`},
		{name: "label spoof uid", args: []string{"--label", "io.userdocker.uid=2002", img}, want: "--label io.userdocker.uid is not allowed"},
		{name: "label spoof case", args: []string{"--label", "IO.USERDOCKER.JOB=1", img}, want: "--label IO.USERDOCKER.JOB is not allowed"},
		{name: "name invalid", args: []string{"--name", "../bob", img}, want: `--name "../bob" is not a valid container name`},
		{name: "publish all interfaces", args: []string{"-p", "8080:80", img}, want: "-p :8080:80 is not allowed on this system"},
		{name: "publish fixed port", args: []string{"-p", "127.0.0.1:80:80", img}, want: "-p 127.0.0.1:80:80 is not allowed"},
		{name: "publish all", args: []string{"-P", img}, want: "-P/--publish-all is not allowed on this system"},
		{name: "always flag changed", args: []string{"--pids-limit", "-1", img}, want: `--pids-limit is fixed to "4096" on this system`},
		{name: "value not allowed", args: []string{"--shm-size", "1t", img}, want: `--shm-size "1t" is not allowed on this system`},
		{name: "link", args: []string{"--link", "bob-1:db", img}, want: "--link is not allowed on this system"},
		{name: "pull always widening", args: []string{"--pull", "always", img}, pol: func(p *policy.Policy) { p.Run.Pull = "never" }, want: "--pull is not allowed on this system"},
		{name: "admin default cannot grant privileged", args: []string{img}, pol: func(p *policy.Policy) { p.Run.Args.Default = flagArgs("--privileged") }, want: "--privileged is not allowed on this system"},
		{name: "cpuset outside job", args: []string{"--cpuset-cpus", "0-7", img}, pol: nil, want: ""},
		{name: "stop-timeout within slurm.stop_timeout", args: []string{"--stop-timeout", "5", img}, pol: stopTimeoutAllowed, want: ""},
		{name: "stop-timeout beyond slurm.stop_timeout", args: []string{"--stop-timeout", "600", img}, pol: stopTimeoutAllowed,
			want: "--stop-timeout 600 is not allowed on this system: from 0 to 5 seconds (slurm.stop_timeout)"},
		{name: "stop-timeout forever", args: []string{"--stop-timeout=-1", img}, pol: stopTimeoutAllowed,
			want: "--stop-timeout -1 is not allowed on this system: from 0 to 5 seconds (slurm.stop_timeout)"},
		{name: "admin default cannot make stop-timeout forever", args: []string{img}, pol: func(p *policy.Policy) {
			stopTimeoutAllowed(p)
			p.Run.Args.Default = flagArgs("--stop-timeout=-1")
		}, want: "--stop-timeout -1 is not allowed on this system"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := basePolicy()
			if c.pol != nil {
				c.pol(pol)
			}
			p, err := build(t, c.args, pol, baseFacts())
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("allowed, want refusal %q; plan: %+v", c.want, p)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
			var u *refusal.UsageError
			if len(refusal.All(err)) == 0 && !errors.As(err, &u) {
				t.Fatalf("error %q is neither a refusal nor a usage error", err)
			}
		})
	}
}

// stopTimeoutAllowed lets users pass --stop-timeout, with the default
// slurm.stop_timeout of 5s.
func stopTimeoutAllowed(p *policy.Policy) {
	p.Run.Args.Allowed = append(p.Run.Args.Allowed, flags("--stop-timeout")...)
	p.Slurm.StopTimeout = 5 * time.Second
}

func TestCheckJobContainers(t *testing.T) {
	pol := basePolicy()
	pol.Slurm.MaxContainersPerJob = 3
	tests := []struct {
		name string
		job  *Job
		want string
	}{
		{"outside a job", nil, ""},
		{"room for one more", &Job{ID: "42", Containers: 2}, ""},
		{"full", &Job{ID: "42", Containers: 3},
			"your job 42 has 3 containers on this node, the most allowed (slurm.max_containers_per_job = 3): remove one first"},
		{"over (the limit was lowered)", &Job{ID: "42", Containers: 5},
			"your job 42 has 5 containers on this node, the most allowed (slurm.max_containers_per_job = 3): remove one first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckJobContainers(pol, tc.job)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			r := refusal.All(err)
			if len(r) != 1 || r[0].Rule != "containers-per-job" || r[0].Msg != tc.want {
				t.Fatalf("CheckJobContainers() = %v, want refusal containers-per-job %q", err, tc.want)
			}
		})
	}
}

func TestBuildAllowedMounts(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		target string
		source string
		ro     bool
	}{
		{"scratch at fixed path", []string{"-v", "/scratch/alice:/scratch"}, "/scratch", "/scratch/alice", false},
		{"scratch default container path", []string{"-v", "/scratch/alice:/scratch:rw"}, "/scratch", "/scratch/alice", false},
		{"data forced read-only", []string{"-v", "/data:/data"}, "/data", "/data", true},
		{"data subdir follows container path", []string{"-v", "/data/sub:/data/sub"}, "/data/sub", "/data/sub", true},
		{"projects user picks", []string{"-v", "/projects/p1:/work"}, "/work", "/projects/p1", false},
		{"mount flag bind ro", []string{"--mount", "type=bind,src=/projects/p1,dst=/w,readonly"}, "/w", "/projects/p1", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := build(t, append(c.args, "ud-test/busybox"), basePolicy(), baseFacts())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Host.Mounts {
				if m.Target == c.target {
					if m.Source != c.source || m.ReadOnly != c.ro {
						t.Fatalf("mount %+v, want source %s ro=%v", m, c.source, c.ro)
					}
					return
				}
			}
			t.Fatalf("no mount at %s in %+v", c.target, p.Host.Mounts)
		})
	}
}

func TestBuildJob(t *testing.T) {
	f := baseFacts()
	f.Job = &Job{ID: "42", CPUs: "2-3", MemoryBytes: 1 << 30}
	f.GPUs = []string{"GPU-a", "GPU-b"}
	p, err := build(t, []string{"ud-test/busybox"}, basePolicy(), f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "alice-42-abcd1234" || p.Config.Labels[label.Job] != "42" {
		t.Errorf("name %q job label %q", p.Name, p.Config.Labels[label.Job])
	}
	if p.Host.CpusetCpus != "2-3" || p.Host.Memory != 1<<30 || p.Host.MemorySwap != 1<<30 {
		t.Errorf("resources cpuset %q memory %d swap %d", p.Host.CpusetCpus, p.Host.Memory, p.Host.MemorySwap)
	}
	if len(p.Host.DeviceRequests) != 1 || strings.Join(p.Host.DeviceRequests[0].DeviceIDs, ",") != "GPU-a,GPU-b" {
		t.Errorf("device requests %+v", p.Host.DeviceRequests)
	}
	if !slices.Contains(p.Config.Env, "NVIDIA_VISIBLE_DEVICES=GPU-a,GPU-b") {
		t.Errorf("env %v", p.Config.Env)
	}

	narrow := []struct {
		name, gpus string
		want       string
		refusal    string
	}{
		{"count", "1", "GPU-a", ""},
		{"by position", "device=1", "GPU-b", ""},
		{"by uuid", "device=GPU-b", "GPU-b", ""},
		{"too many", "3", "", "--gpus 3: only 2 GPU(s) are available to you"},
		{"foreign uuid", "device=GPU-z", "", "--gpus device=GPU-z: not one of your GPUs"},
	}
	for _, c := range narrow {
		t.Run(c.name, func(t *testing.T) {
			p, err := build(t, []string{"--gpus", c.gpus, "ud-test/busybox"}, basePolicy(), f)
			if c.refusal != "" {
				if err == nil || !strings.Contains(err.Error(), c.refusal) {
					t.Fatalf("err %v, want %q", err, c.refusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(p.Host.DeviceRequests[0].DeviceIDs, ","); got != c.want {
				t.Fatalf("granted %s, want %s", got, c.want)
			}
		})
	}

	for _, c := range []struct{ name, args, want string }{
		{"cpuset outside job", "--cpuset-cpus=0-3", `--cpuset-cpus "0-3" is outside your job's CPUs 2-3`},
		{"memory above job", "-m=2g", "-m/--memory 2g is more than your job's memory (1g)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(t, []string{c.args, "ud-test/busybox"}, basePolicy(), f)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

// TestBuildHookRefusals: what the user types that would reach the NVIDIA
// hook, in a job with a GPU.
func TestBuildHookRefusals(t *testing.T) {
	f := baseFacts()
	f.Job = &Job{ID: "42", CPUs: "2-3", MemoryBytes: 1 << 30}
	f.GPUs = []string{"GPU-a"}
	tmpfs := func(p *policy.Policy) { p.Run.Args.Allowed = append(p.Run.Args.Allowed, flags("--tmpfs")...) }
	cases := []struct {
		name  string
		args  []string
		pol   func(*policy.Policy)
		facts Facts
		want  string
	}{
		{name: "LD_PRELOAD", args: []string{"-e", "LD_PRELOAD=/proc/self/cwd/x.so"}, facts: f,
			want: "LD_PRELOAD is not allowed in a container with GPUs on this system: NVIDIA Container Toolkit before 1.17.8 runs a hook as root with it"},
		{name: "LD_LIBRARY_PATH", args: []string{"-e", "LD_LIBRARY_PATH=."}, facts: f, want: "LD_LIBRARY_PATH is not allowed in a container with GPUs"},
		{name: "LD_PRELOAD without GPUs", args: []string{"-e", "LD_PRELOAD=/x.so"}, facts: baseFacts()},
		{name: "LD_PRELOAD where the site allows it", args: []string{"-e", "LD_PRELOAD=/x.so"}, facts: f,
			pol: func(p *policy.Policy) { p.GPU.AllowLoaderEnv = true }},
		{name: "driver capabilities", args: []string{"-e", "NVIDIA_DRIVER_CAPABILITIES=all"}, facts: f,
			want: "-e NVIDIA_DRIVER_CAPABILITIES is not allowed: userdocker sets it"},
		{name: "IMEX channels", args: []string{"-e", "NVIDIA_IMEX_CHANNELS=all"}, facts: f, want: "-e NVIDIA_IMEX_CHANNELS is not allowed"},
		{name: "GDS", args: []string{"-e", "NVIDIA_GDS=enabled"}, facts: f, want: "-e NVIDIA_GDS is not allowed"},
		{name: "device list by a mount", args: []string{"-v", "/projects/p1:/var/run/nvidia-container-devices/all"}, facts: f,
			want: "mounting at /var/run/nvidia-container-devices/all is not allowed on this system: the NVIDIA hook takes device requests from there"},
		{name: "device list by a tmpfs", args: []string{"--tmpfs", "/var/run/nvidia-container-devices"}, pol: tmpfs, facts: f,
			want: "mounting at /var/run/nvidia-container-devices is not allowed"},
		{name: "tmpfs suid", args: []string{"--tmpfs", "/t:suid"}, pol: tmpfs, facts: f, want: `--tmpfs /t: option "suid" is not allowed`},
		{name: "tmpfs by --mount keeps readonly", args: []string{"--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,readonly"}, pol: tmpfs, facts: f},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := basePolicy()
			if c.pol != nil {
				c.pol(pol)
			}
			p, err := build(t, append(c.args, "ud-test/busybox"), pol, c.facts)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if v, ok := p.Host.Tmpfs["/t"]; ok && v != "size=1048576,ro" {
					t.Fatalf("tmpfs options %q, want size=1048576,ro", v)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

// TestBuildLeavesTheRequestAlone: the edge builds twice from one request
// (before and after the image is inspected); the first call must not
// change what the second sees.
func TestBuildLeavesTheRequestAlone(t *testing.T) {
	pol := basePolicy()
	pol.Run.Args.Allowed = append(pol.Run.Args.Allowed, flags("--tmpfs")...)
	req, err := runflags.Parse([]string{"--tmpfs", "/a:size=1m", "--mount", "type=tmpfs,dst=/b", "-e", "A=1", "--label", "x=y", "ud-test/busybox"},
		Layers(pol))
	if err != nil {
		t.Fatal(err)
	}
	first, err := Build(req, pol, baseFacts())
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Host.Tmpfs) != 1 || len(req.Config.Env) != 1 || len(req.Config.Labels) != 1 {
		t.Fatalf("Build changed the request: tmpfs %v, env %v, labels %v", req.Host.Tmpfs, req.Config.Env, req.Config.Labels)
	}
	second, err := Build(req, pol, baseFacts())
	if err != nil || !reflect.DeepEqual(first, second) {
		t.Fatalf("a second Build differs: %v\n%+v\n%+v", err, first, second)
	}
}
