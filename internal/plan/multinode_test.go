package plan

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// multinodePolicy offers what multi-node jobs need: the host's network
// and IPC, RDMA devices, the launcher's variables and the PMIx directory.
func multinodePolicy() *policy.Policy {
	pol := basePolicy()
	pol.Run.HostNamespaces = []string{"network", "ipc"}
	pol.Run.PassEnv = []string{"SLURM_*", "PMIX_*", "NCCL_DEBUG"}
	pol.Run.PMIx = "mount"
	pol.Run.Devices = policy.Devices{Always: []string{"/dev/infiniband/rdma_cm"}, Available: []string{"/dev/infiniband/uverbs*"}}
	return pol
}

const pmixPath = "/var/spool/slurmd/vm/pmix.42.0"

// multinodeFacts are jobFacts with the devices of an RDMA node, a step's
// launcher variables and its PMIx directory.
func multinodeFacts() Facts {
	f := jobFacts()
	f.Job.Step = "0"
	char := fs.ModeDevice | fs.ModeCharDevice | 0o666
	f.Devices = map[string]DeviceMatches{
		"/dev/infiniband/rdma_cm": {Devices: []Device{{Path: "/dev/infiniband/rdma_cm", Mode: char, Major: 10, Minor: 58}}},
		"/dev/infiniband/uverbs*": {Devices: []Device{
			{Path: "/dev/infiniband/uverbs0", Mode: char, Major: 231, Minor: 192},
			{Path: "/dev/infiniband/uverbs1", Mode: char, Major: 231, Minor: 193},
		}},
	}
	f.Launcher = []string{"SLURM_PROCID=1", "SLURM_JOB_ID=7", "PMIX_RANK=1", "PMIX_SERVER_TMPDIR=" + pmixPath + "/", "NCCL_DEBUG=INFO", "NCCL_IB_HCA=mlx5", "SLURM_PROCID=3"}
	f.PMIx = &PMIxDir{Path: pmixPath, Exists: true, Mode: fs.ModeDir | 0o700, UID: 2001}
	f.Paths[pmixPath] = Path{Resolved: pmixPath}
	return f
}

func envOf(p *request.Plan, name string) (string, bool) {
	for _, kv := range p.Config.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

// TestBuildMultinode: what a container of a multi-node job gets where the
// site offers it, each case the baseline run in job 42 plus flags, a
// policy change or other facts, and what is refused.
func TestBuildMultinode(t *testing.T) {
	img := "ud-test/busybox"
	outside := func(f *Facts) { f.Job, f.GPUs = nil, nil }
	tests := []struct {
		name  string
		args  []string
		pol   func(*policy.Policy)
		facts func(*Facts)
		want  string // a refusal's message, or "" for a plan that check checks
		check func(t *testing.T, p *request.Plan)
	}{
		{name: "host network and IPC", args: []string{"--network=host", "--ipc", "host", img}, check: func(t *testing.T, p *request.Plan) {
			if !p.Host.NetworkMode.IsHost() || !p.Host.IpcMode.IsHost() {
				t.Errorf("network %q, ipc %q; want host, host", p.Host.NetworkMode, p.Host.IpcMode)
			}
			if p.Config.User != "2001:2001" || !slices.Equal(p.Host.CapDrop, []string{"ALL"}) || !slices.Equal(p.Host.SecurityOpt, []string{"no-new-privileges"}) ||
				p.Host.PidMode != "" || p.Host.UTSMode != "" || p.Host.UsernsMode != "" {
				t.Errorf("user %q, cap drop %v, security %v, pid %q, uts %q, userns %q: every other invariant must hold",
					p.Config.User, p.Host.CapDrop, p.Host.SecurityOpt, p.Host.PidMode, p.Host.UTSMode, p.Host.UsernsMode)
			}
		}},
		{name: "host network spelled --net", args: []string{"--net", "host", img}, check: func(t *testing.T, p *request.Plan) {
			if !p.Host.NetworkMode.IsHost() {
				t.Errorf("network %q, want host", p.Host.NetworkMode)
			}
		}},
		{name: "host network outside a job", args: []string{"--network=host", img}, facts: outside,
			want: "--network=host is allowed only inside a Slurm job on this system: srun ... userdocker run --network=host ..."},
		{name: "host IPC outside a job", args: []string{"--ipc=host", img}, facts: outside, want: "--ipc=host is allowed only inside a Slurm job on this system"},
		{name: "host network not offered", args: []string{"--network=host", img}, pol: func(p *policy.Policy) { p.Run.HostNamespaces = []string{"ipc"} },
			want: "--network is not allowed on this system"},
		{name: "host network not offered, --network allowed", args: []string{"--network=host", img}, pol: func(p *policy.Policy) {
			p.Run.HostNamespaces = nil
			p.Run.Args.Allowed = append(p.Run.Args.Allowed, flags("--network")...)
		}, want: "--network=host is not allowed on this system: containers get their own network namespace"},
		{name: "host network with a capability", args: []string{"--network=host", img}, pol: func(p *policy.Policy) { p.Run.CapAdd = []string{"NET_RAW"} },
			want: "--network is not allowed on this system"},
		{name: "other host namespaces stay refused", args: []string{"--pid=host", "--uts=host", "--userns=host", "--cgroupns=host", img},
			want: "--pid is not allowed on this system"},
		{name: "another container's network", args: []string{"--network=container:bob-1", img}, want: "--network is not allowed on this system"},
		{name: "another container's IPC", args: []string{"--ipc=container:bob-1", img}, pol: func(p *policy.Policy) {
			p.Run.Args.Allowed = append(p.Run.Args.Allowed, flags("--ipc")...)
		}, want: "--ipc=container:bob-1 is not allowed on this system: containers get their own IPC namespace"},
		{name: "ports on the host network", args: []string{"--network=host", "-p", "127.0.0.1::80", img},
			want: "-p and -P do not go with --network=host: the container listens on the node's ports itself"},

		{name: "devices: always, and one asked for", args: []string{"--device", "/dev/infiniband/uverbs1", img}, check: func(t *testing.T, p *request.Plan) {
			want := []container.DeviceMapping{
				{PathOnHost: "/dev/infiniband/rdma_cm", PathInContainer: "/dev/infiniband/rdma_cm", CgroupPermissions: "rw"},
				{PathOnHost: "/dev/infiniband/uverbs1", PathInContainer: "/dev/infiniband/uverbs1", CgroupPermissions: "rw"},
			}
			if !slices.Equal(p.Host.Devices, want) {
				t.Errorf("devices %+v, want %+v", p.Host.Devices, want)
			}
		}},
		{name: "devices: a pattern for all its matches, read only", args: []string{"--device", "/dev/infiniband/uverbs*:r", img}, check: func(t *testing.T, p *request.Plan) {
			var got []string
			for _, d := range p.Host.Devices {
				got = append(got, d.PathOnHost+":"+d.CgroupPermissions)
			}
			if want := []string{"/dev/infiniband/rdma_cm:rw", "/dev/infiniband/uverbs0:r", "/dev/infiniband/uverbs1:r"}; !slices.Equal(got, want) {
				t.Errorf("devices %v, want %v", got, want)
			}
		}},
		{name: "devices: none outside a job", args: []string{img}, facts: outside, check: func(t *testing.T, p *request.Plan) {
			if len(p.Host.Devices) != 0 {
				t.Errorf("devices %+v outside a job", p.Host.Devices)
			}
		}},
		{name: "device outside a job", args: []string{"--device", "/dev/infiniband/uverbs0", img}, facts: outside,
			want: "--device is allowed only inside a Slurm job on this system"},
		{name: "device not listed", args: []string{"--device", "/dev/sda", img},
			want: "--device /dev/sda is not allowed on this system (available: /dev/infiniband/uverbs*)"},
		{name: "device by another spelling", args: []string{"--device", "/dev/infiniband/../infiniband/uverbs0", img},
			want: "--device /dev/infiniband/../infiniband/uverbs0 is not allowed on this system"},
		{name: "device at another path", args: []string{"--device", "/dev/infiniband/uverbs0:/dev/uverbs0", img},
			want: "--device /dev/infiniband/uverbs0: a device keeps its path in the container, not /dev/uverbs0"},
		{name: "device with mknod", args: []string{"--device", "/dev/infiniband/uverbs0:rwm", img},
			want: "--device /dev/infiniband/uverbs0:rwm: only r and w are allowed on this system, not m (mknod)"},
		{name: "device that is a symlink", args: []string{"--device", "/dev/infiniband/uverbs9", img}, facts: func(f *Facts) {
			m := f.Devices["/dev/infiniband/uverbs*"]
			m.Devices = append(m.Devices, Device{Path: "/dev/infiniband/uverbs9", Mode: fs.ModeSymlink | 0o777})
			f.Devices["/dev/infiniband/uverbs*"] = m
		}, want: "--device /dev/infiniband/uverbs9 is a symbolic link; tell your admin"},
		{name: "a pattern with a bad match", args: []string{"--device", "/dev/infiniband/uverbs*", img}, facts: func(f *Facts) {
			m := f.Devices["/dev/infiniband/uverbs*"]
			m.Devices = append(m.Devices, Device{Path: "/dev/infiniband/uverbs9", Mode: fs.ModeDevice | fs.ModeCharDevice, Major: 195, GPU: true})
			f.Devices["/dev/infiniband/uverbs*"] = m
		}, want: "--device /dev/infiniband/uverbs*: /dev/infiniband/uverbs9 is a GPU (device 195:0): GPUs come from your Slurm job; tell your admin"},
		{name: "an always device in a writable directory", args: []string{img}, facts: func(f *Facts) {
			f.Devices["/dev/infiniband/rdma_cm"].Devices[0].UnsafeDir = "/dev/infiniband"
		}, want: "run.devices.always entry /dev/infiniband/rdma_cm: /dev/infiniband/rdma_cm is in /dev/infiniband, which users other than root may change; tell your admin"},
		{name: "a block device", args: []string{"--device", "/dev/infiniband/uverbs0", img}, facts: func(f *Facts) {
			f.Devices["/dev/infiniband/uverbs*"].Devices[0].Mode = fs.ModeDevice | 0o660
		}, want: "--device /dev/infiniband/uverbs0 is not a character device; tell your admin"},
		{name: "a pattern matching nothing here", args: []string{"--device", "/dev/infiniband/uverbs*", img}, facts: func(f *Facts) {
			f.Devices = map[string]DeviceMatches{}
		}, want: "--device /dev/infiniband/uverbs* matches no device on this node"},
		{name: "an always pattern matching nothing here", args: []string{img}, facts: func(f *Facts) { f.Devices = map[string]DeviceMatches{} },
			check: func(t *testing.T, p *request.Plan) {
				if len(p.Host.Devices) != 0 || !slices.Contains(p.Notes, "run.devices.always entry /dev/infiniband/rdma_cm matches no device on this node") {
					t.Errorf("devices %+v, notes %q", p.Host.Devices, p.Notes)
				}
			}},
		{name: "a pattern that could not be expanded", args: []string{img}, facts: func(f *Facts) {
			f.Devices["/dev/infiniband/rdma_cm"] = DeviceMatches{Err: errors.New("permission denied")}
		}, want: "run.devices.always entry /dev/infiniband/rdma_cm: permission denied; tell your admin"},
		{name: "device without run.devices.available", args: []string{"--device", "/dev/infiniband/uverbs0", img},
			pol: func(p *policy.Policy) { p.Run.Devices.Available = nil }, want: "--device is not allowed on this system"},

		{name: "launcher variables", args: []string{"-e", "PMIX_RANK=9", img}, check: func(t *testing.T, p *request.Plan) {
			for name, want := range map[string]string{"SLURM_PROCID": "3", "SLURM_JOB_ID": "7", "PMIX_RANK": "9", "NCCL_DEBUG": "INFO"} {
				if got, _ := envOf(p, name); got != want {
					t.Errorf("%s=%q, want %q (env %q)", name, got, want, p.Config.Env)
				}
			}
			if v, ok := envOf(p, "NCCL_IB_HCA"); ok {
				t.Errorf("NCCL_IB_HCA=%q passed, run.pass_env names only NCCL_DEBUG", v)
			}
			if p.Config.Labels["io.userdocker.job"] != "42" {
				t.Errorf("SLURM_JOB_ID=7 passed on made the job label %q, want 42", p.Config.Labels["io.userdocker.job"])
			}
		}},
		{name: "launcher variables outside a job", args: []string{img}, facts: outside, check: func(t *testing.T, p *request.Plan) {
			if v, ok := envOf(p, "SLURM_PROCID"); ok {
				t.Errorf("SLURM_PROCID=%q passed outside a job", v)
			}
		}},
		{name: "launcher variables never set the site's or the hook's", args: []string{img}, facts: func(f *Facts) {
			f.Launcher = append(f.Launcher, "NVIDIA_VISIBLE_DEVICES=all", "LD_PRELOAD=/x.so", "HOME=/root", "SLURM_HOME=/x")
		}, pol: func(p *policy.Policy) {
			p.Run.PassEnv = append(p.Run.PassEnv, "SLURM_HOME")
			p.Run.Env["SLURM_HOME"] = "/site"
		}, check: func(t *testing.T, p *request.Plan) {
			for name, want := range map[string]string{"NVIDIA_VISIBLE_DEVICES": "GPU-a", "HOME": "/home/alice", "SLURM_HOME": "/site"} {
				if got, _ := envOf(p, name); got != want {
					t.Errorf("%s=%q, want %q", name, got, want)
				}
			}
			if _, ok := envOf(p, "LD_PRELOAD"); ok {
				t.Errorf("LD_PRELOAD passed")
			}
		}},
		{name: "too many launcher variables", args: []string{img}, facts: func(f *Facts) {
			for i := range 300 {
				f.Launcher = append(f.Launcher, "SLURM_X"+strings.Repeat("A", i)+"=1")
			}
		}, want: "the launcher's variables that run.pass_env names (305, 47654 bytes) are more than userdocker passes on (256, 65536 bytes)"},

		{name: "PMIx directory on the host network", args: []string{"--network=host", img}, check: func(t *testing.T, p *request.Plan) {
			want := mount.Mount{Type: mount.TypeBind, Source: pmixPath, Target: pmixPath}
			if !slices.ContainsFunc(p.Host.Mounts, func(m mount.Mount) bool {
				return m.Type == want.Type && m.Source == want.Source && m.Target == want.Target && !m.ReadOnly
			}) {
				t.Errorf("mounts %+v lack %+v", p.Host.Mounts, want)
			}
		}},
		{name: "no PMIx directory off the host network", args: []string{img}, check: noPMIxMount("")},
		{name: "no PMIx directory with run.pmix off", args: []string{"--network=host", img}, pol: func(p *policy.Policy) { p.Run.PMIx = "off" }, check: noPMIxMount("")},
		{name: "PMIx directory of another user", args: []string{"--network=host", img}, facts: func(f *Facts) { f.PMIx.UID = 2002 },
			check: noPMIxMount("PMIx server directory " + pmixPath + " not mounted: owned by uid 2002, not by you")},
		{name: "PMIx directory that is a symlink", args: []string{"--network=host", img}, facts: func(f *Facts) { f.PMIx.Mode = fs.ModeSymlink | 0o777 },
			check: noPMIxMount("PMIx server directory " + pmixPath + " not mounted: not a directory")},
		{name: "PMIx directory the step has not", args: []string{"--network=host", img}, facts: func(f *Facts) { f.PMIx.Exists = false },
			check: noPMIxMount("PMIx server directory " + pmixPath + " not mounted: this job step has none (srun --mpi=pmix starts a PMIx server)")},
		{name: "PMIx directory other than the server says", args: []string{"--network=host", img}, facts: func(f *Facts) {
			f.Launcher = append(f.Launcher, "PMIX_SERVER_TMPDIR=/tmp/x")
		}, check: noPMIxMount("PMIx server directory " + pmixPath + " not mounted: PMIX_SERVER_TMPDIR names /tmp/x, another directory")},
		{name: "PMIx directory a user could swap", args: []string{"--network=host", img}, facts: func(f *Facts) {
			f.Paths[pmixPath] = Path{Resolved: pmixPath, Replaceable: []string{pmixPath}}
		}, check: noPMIxMount("PMIx server directory " + pmixPath + " not mounted: PMIx server directory: " + pmixPath + " is not allowed: you could replace " + pmixPath + " with a symlink before it is mounted; mount a directory the site lists")},

		{name: "GPUs of the step: none", args: []string{"--gpus", "1", img}, facts: func(f *Facts) {
			f.Job.GPUIndices, f.GPUs = []int{0}, nil
		}, want: "--gpus 1: this job step may use none of your job's GPUs (srun --gres=none?): a step gets GPUs with srun --gres=gpu:N, --gpus or --gpus-per-task"},
		{name: "GPUs of the step: none, void", args: []string{img}, facts: func(f *Facts) { f.Job.GPUIndices, f.GPUs = []int{0}, nil },
			check: func(t *testing.T, p *request.Plan) {
				if v, _ := envOf(p, EnvVisibleDevices); v != "void" || len(p.Host.DeviceRequests) != 0 {
					t.Errorf("NVIDIA_VISIBLE_DEVICES=%q, device requests %+v; want void, none", v, p.Host.DeviceRequests)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := multinodePolicy()
			if tc.pol != nil {
				tc.pol(pol)
			}
			f := multinodeFacts()
			if tc.facts != nil {
				tc.facts(&f)
			}
			p, err := build(t, tc.args, pol, f)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// noPMIxMount checks that no mount of the PMIx directory is in the plan,
// and that the plan notes why (note, unless empty).
func noPMIxMount(note string) func(t *testing.T, p *request.Plan) {
	return func(t *testing.T, p *request.Plan) {
		t.Helper()
		if slices.ContainsFunc(p.Host.Mounts, func(m mount.Mount) bool { return m.Source == pmixPath }) {
			t.Errorf("the PMIx directory is mounted: %+v", p.Host.Mounts)
		}
		if note != "" && !slices.Contains(p.Notes, note) {
			t.Errorf("notes %q lack %q", p.Notes, note)
		}
	}
}

func TestStepGPUs(t *testing.T) {
	job := &Job{ID: "42"}
	ids := []string{"0", "1", "2", "3"}
	ok, denied := GPUAccess{}, GPUAccess{Denied: true}
	tests := []struct {
		name   string
		access []GPUAccess
		want   []string
		err    string
	}{
		{name: "no device files recorded: the job's", want: ids},
		{name: "a task's one GPU", access: []GPUAccess{denied, denied, ok, denied}, want: []string{"2"}},
		{name: "a step's two", access: []GPUAccess{ok, denied, ok, denied}, want: []string{"0", "2"}},
		{name: "srun --gres=none", access: []GPUAccess{denied, denied, denied, denied}, want: nil},
		{name: "ConstrainDevices=no: all", access: []GPUAccess{ok, ok, ok, ok}, want: ids},
		{name: "a device file gone", access: []GPUAccess{ok, {Err: errors.New("device file /dev/nvidia1: no such file or directory")}, ok, ok},
			err: "job 42: your job's GPU 1 cannot be checked on this node: device file /dev/nvidia1: no such file or directory; tell your admin"},
		{name: "fewer files than GPUs", access: []GPUAccess{ok}, err: "job 42: the record names device files for 1 GPUs, and 4 GPUs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := StepGPUs(job, ids, tc.access)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("StepGPUs() = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
