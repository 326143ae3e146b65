package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp/syntax"
	"testing"
	"time"
)

func readExample(t *testing.T) File {
	t.Helper()
	data, err := os.ReadFile("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	return File{Name: cfgPath, Data: data}
}

// examplePolicy is testdata/example.toml (DESIGN.md §6) without overrides
// and before placeholders expand.
func examplePolicy(t *testing.T) *Policy {
	return &Policy{
		DockerHost:  "unix:///var/run/docker.sock",
		Subcommands: []string{"run", "attach", "stop", "ps", "images", "pull", "load", "logs", "version"},
		Run: Run{
			Images:          Patterns(`^docker\.io/library/(debian|ubuntu):`, `^ud-test/`),
			Pull:            "missing",
			EnforceUser:     true,
			CapDrop:         []string{"ALL"},
			CapAdd:          []string{},
			NoNewPrivileges: true,
			Env:             map[string]string{"HOME": "{home}", "USER": "{user}"},
			Publish:         Patterns(`^127\.0\.0\.1::[0-9]+$`),
			// Not in the example file: the built-in defaults.
			HostNamespaces: []string{},
			PassEnv:        []string{},
			PMIx:           "off",
			Devices:        Devices{Always: []string{}, Available: []string{}},
			Args: Args{
				Allowed: flags(t, "-i", "-t", "-d", "--rm", "--read-only", "-w", "--entrypoint", "-e", "--name", "--shm-size"),
				Always:  flagArgs(t, "--pids-limit=4096"),
				Default: flagArgs(t, "--shm-size=1g"),
				Values:  flagValuesOf(t, map[string][]string{"--shm-size": {`^[0-9]+[kmg]?$`}}),
			},
			Mounts: Mounts{
				Always:    mounts(t, "/etc/passwd:/etc/passwd:ro", "/etc/group:/etc/group:ro"),
				Default:   mounts(t, "{home}:{home}"),
				Available: mounts(t, "/scratch/{user}:/scratch", "/data:/data:ro", "/projects:"),
				UserRoots: []string{},
				Probe:     true,
			},
		},
		GPU: GPU{Source: "slurm", DefaultCount: 1, MaxCount: 2, Exclusive: true, Delivery: "device-requests", DriverCapabilities: []string{"compute", "utility"}},
		Slurm: Slurm{
			StateDir:      "/run/userdocker",
			OutsideJob:    "deny",
			ConfineCPUs:   true,
			ConfineMemory: true,
			// Not in the example file: the built-in defaults.
			MaxContainersPerJob: 64,
			JobPidsLimit:        16384,
			StopTimeout:         10 * time.Second,
			EpilogBudget:        30 * time.Second,
		},
		Limits: CallerLimits{Pids: 16384},
		Load:   ImageLoad{MaxSize: 16 << 30, SpoolDir: "/var/spool/userdocker", MinFree: 2 << 30},
		Audit:  Audit{Log: "syslog"},
	}
}

func TestParseExample(t *testing.T) {
	c := mustParse(t, readExample(t))
	got, prov := c.System()
	if want := examplePolicy(t); !reflect.DeepEqual(asWritten(got), asWritten(want)) {
		t.Errorf("System():\ngot  %#v\nwant %#v", got, want)
	}
	wantOrigins := map[string]string{
		"docker_host":             cfgPath + ":1",
		"run.args.values":         cfgPath + ":18",
		"run.mounts.probe":        cfgPath + ":25",
		"gpu.max_count":           cfgPath + ":31",
		"gpu.delivery":            "built-in default",
		"slurm.stop_timeout":      cfgPath + ":39",
		"audit.log":               cfgPath + ":42",
		"run.env":                 cfgPath + ":11",
		"run.images":              cfgPath + ":5",
		"gpu.max_memory_used_mib": "built-in default",
	}
	for key, want := range wantOrigins {
		if got := prov[key].String(); got != want {
			t.Errorf("provenance of %s = %q, want %q", key, got, want)
		}
	}
	if len(prov) != len(leaves) {
		t.Errorf("provenance has %d keys, want one per leaf (%d)", len(prov), len(leaves))
	}
	// Patterns remember where they were written, element by element.
	for _, tc := range []struct {
		p    Pattern
		want string
		key  string
	}{
		{got.Run.Images[1], cfgPath + ":5", "run.images[1]"},
		{got.Run.Publish[0], cfgPath + ":12", "run.publish[0]"},
		{got.Run.Args.Values["--shm-size"].Patterns[0], cfgPath + ":19", "run.args.values.--shm-size[0]"},
	} {
		if tc.p.At.String() != tc.want || tc.p.At.Key != tc.key {
			t.Errorf("pattern %s written at %s (%s), want %s (%s)", tc.p, tc.p.At, tc.p.At.Key, tc.want, tc.key)
		}
	}
	// Flags are named by their canonical names, with their values.
	if a := got.Run.Args.Always[0]; a.Name != "pids-limit" || a.Value != "4096" {
		t.Errorf("run.args.always[0] = %+v, want pids-limit=4096", a)
	}
}

func TestDefaultIsFreshEachCall(t *testing.T) {
	a := Default()
	a.Run.CapDrop[0] = "NONE"
	a.Run.Env["X"] = "y"
	if b := Default(); b.Run.CapDrop[0] != "ALL" || len(b.Run.Env) != 0 {
		t.Errorf("Default() shares state between calls: %#v", b.Run)
	}
}

func TestParseDropIns(t *testing.T) {
	const dropIn = "/etc/userdocker/conf.d/50-site.toml"
	c := mustParse(t, readExample(t), File{Name: dropIn, Data: []byte(`
[run]
pull = "never"
env = { LANG = "C.UTF-8" }

[gpu]
default_count = 2
`)})
	got, prov := c.System()
	want := examplePolicy(t)
	want.Run.Pull = "never"
	want.Run.Env = map[string]string{"LANG": "C.UTF-8"} // a table is one value: replaced whole
	want.GPU.DefaultCount = 2
	if !reflect.DeepEqual(asWritten(got), asWritten(want)) {
		t.Errorf("System():\ngot  %#v\nwant %#v", got, want)
	}
	for key, want := range map[string]string{
		"run.pull":          dropIn + ":3",
		"run.env":           dropIn + ":4",
		"gpu.default_count": dropIn + ":7",
		"gpu.max_count":     cfgPath + ":31",
	} {
		if got := prov[key].String(); got != want {
			t.Errorf("provenance of %s = %q, want %q", key, got, want)
		}
	}
	if got, want := c.Files(), []string{cfgPath, dropIn}; !reflect.DeepEqual(got, want) {
		t.Errorf("Files() = %q, want %q", got, want)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"toml syntax", "[run\n", []string{
			cfgPath + `:1:5: invalid TOML: expected ']' to close table name`}},
		{"duplicate key", "[run]\npull = 'never'\npull = 'always'\n", []string{
			cfgPath + `:3:1: invalid TOML: key pull is already defined`}},
		{"pull", "[run]\npull = \"sometimes\"\n", []string{
			cfgPath + `:2:1: run.pull: "sometimes" is not one of never, missing, always`}},
		{"gpu source", "[gpu]\nsource = 'nvml'\n", []string{
			cfgPath + `:2:1: gpu.source: "nvml" is not one of slurm, reserve, none`}},
		{"gpu delivery", "gpu.delivery = 'jit-cdi'\n", []string{
			cfgPath + `:1:1: gpu.delivery: "jit-cdi" is not one of device-requests, nvidia-runtime, cdi`}},
		{"driver capability", "[gpu]\ndriver_capabilities = ['compute', 'modeset']\n", []string{
			cfgPath + `:2:35: gpu.driver_capabilities: "modeset" is not one of all, compat32, compute, display, graphics, ngx, utility, video`}},
		{"allow loader env type", "[gpu]\nallow_loader_env = 'yes'\n", []string{
			cfgPath + `:2:1: gpu.allow_loader_env: expected a boolean, found a string`}},
		{"outside job", "[slurm]\noutside_job = 'gpu'\n", []string{
			cfgPath + `:2:1: slurm.outside_job: "gpu" is not one of deny, no-gpu, allow`}},
		{"image regex", "[run]\nimages = [\n  '^ok/',\n  '^(bad',\n]\n", []string{
			cfgPath + `:4:3: run.images: "^(bad" is not a valid regular expression: missing closing )`}},
		{"publish regex", "[run]\npublish = ['[0-9']\n", []string{
			cfgPath + `:2:12: run.publish: "[0-9" is not a valid regular expression: missing closing ]`}},
		{"args values regex", "[run.args.values]\n'--shm-size' = ['^[0-9]+$', '*']\n", []string{
			cfgPath + `:2:29: run.args.values: "*" is not a valid regular expression: missing argument to repetition operator`}},
		{"duration", "[slurm]\nstop_timeout = '10 s'\n", []string{
			cfgPath + `:2:1: slurm.stop_timeout: "10 s" is not a duration such as "10s" or "1m30s"`}},
		{"duration negative", "[slurm]\nstop_timeout = '-1s'\n", []string{
			cfgPath + `:2:1: slurm.stop_timeout: "-1s" is negative`}},
		{"duration type", "[slurm]\nstop_timeout = 10\n", []string{
			cfgPath + `:2:1: slurm.stop_timeout: expected a duration string such as "10s", found an integer`}},
		{"epilog budget zero", "[slurm]\nepilog_budget = '0s'\n", []string{
			cfgPath + `:2:1: slurm.epilog_budget: must be more than 0s`}},
		{"containers per job zero", "[slurm]\nmax_containers_per_job = 0\n", []string{
			cfgPath + `:2:1: slurm.max_containers_per_job: must be at least 1`}},
		{"containers per job negative", "[slurm]\nmax_containers_per_job = -5\n", []string{
			cfgPath + `:2:1: slurm.max_containers_per_job: -5 is negative`}},
		{"job pids zero", "[slurm]\njob_pids_limit = 0\n", []string{
			cfgPath + `:2:1: slurm.job_pids_limit: must be at least 1`}},
		{"limits pids zero", "[limits]\npids = 0\n", []string{
			cfgPath + `:2:1: limits.pids: must be at least 1`}},
		{"limits cpus type", "[limits]\ncpus = '2'\n", []string{
			cfgPath + `:2:1: limits.cpus: expected a number of CPUs such as 2 or 1.5, found a string`}},
		{"limits cpus negative", "[limits]\ncpus = -1\n", []string{
			cfgPath + `:2:1: limits.cpus: -1 is not a number of CPUs`}},
		{"limits cpus tiny", "[limits]\ncpus = 0.001\n", []string{
			cfgPath + `:2:1: limits.cpus: 0.001 is less than 0.01, the least CPU time the kernel bounds`}},
		{"limits cpus nan", "[limits]\ncpus = nan\n", []string{
			cfgPath + `:2:1: limits.cpus: NaN is not a number of CPUs`}},
		{"limits memory", "[limits]\nmemory = '2x'\n", []string{
			cfgPath + `:2:1: limits.memory: "2x" is not a size such as "4g" or "512m"`}},
		{"negative count", "[gpu]\nmax_count = -1\n", []string{
			cfgPath + `:2:1: gpu.max_count: -1 is negative`}},
		{"count type", "[gpu]\nmax_memory_used_mib = 1.5\n", []string{
			cfgPath + `:2:1: gpu.max_memory_used_mib: expected an integer, found a float`}},
		{"default above max", "[gpu]\ndefault_count = 3\nmax_count = 2\n", []string{
			cfgPath + `:3:1: gpu.max_count: 2 is less than gpu.default_count = 3 (from ` + cfgPath + `:2)`}},
		{"default above built-in max", "[gpu]\ndefault_count = 3\n", []string{
			cfgPath + `:2:1: gpu.default_count: 3 is more than gpu.max_count = 1 (built-in default)`}},
		{"override max below default", "[gpu]\ndefault_count = 2\nmax_count = 4\n[[override]]\nuser = 'bob'\ngpu.max_count = 1\n", []string{
			cfgPath + `:6:1: override[0].gpu.max_count: 1 is less than gpu.default_count = 2 (from ` + cfgPath + `:2)`}},
		{"host namespace not offered", "[run]\nhost_namespaces = ['network', 'pid', 'uts']\n", []string{
			cfgPath + `:2:31: run.host_namespaces: "pid" is not one of network, ipc`,
			cfgPath + `:2:38: run.host_namespaces: "uts" is not one of network, ipc`}},
		{"host namespaces with a capability", "[run]\nhost_namespaces = ['network']\ncap_add = ['NET_RAW']\n", []string{
			cfgPath + `:2:1: run.host_namespaces: ['network'] needs run.cap_add = []: a container in the host's namespaces must be no more than its user's shell on the node`}},
		{"host namespaces without the user's identity", "[run]\nhost_namespaces = ['ipc']\nenforce_user = false\nno_new_privileges = false\ncap_drop = []\n", []string{
			cfgPath + `:2:1: run.host_namespaces: ['ipc'] needs run.enforce_user = true, run.no_new_privileges = true, "ALL" in run.cap_drop: a container in the host's namespaces must be no more than its user's shell on the node`}},
		{"override adds a capability to host namespaces", "[run]\nhost_namespaces = ['network']\n[[override]]\ngroup = 'net'\nrun.cap_add = ['NET_ADMIN']\n", []string{
			cfgPath + `:2:1: run.host_namespaces: ['network'] needs run.cap_add = []: a container in the host's namespaces must be no more than its user's shell on the node`}},
		{"pass_env outside the launcher's variables", "[run]\npass_env = ['SLURM_*', 'LD_*', 'SUDO_UID', '*', 'S*', 'PMIX_RANK', 'NCCL_*X', 'CUDA_VISIBLE_DEVICES', 'SLURM_', 'slurm_*']\n", []string{
			cfgPath + `:2:24: run.pass_env: "LD_*" is not among the launcher variables userdocker receives: names of SLURM_, PMIX_, PMI_, OMPI_, NCCL_, UCX_`,
			cfgPath + `:2:32: run.pass_env: "SUDO_UID" is not among the launcher variables userdocker receives: names of SLURM_, PMIX_, PMI_, OMPI_, NCCL_, UCX_`,
			cfgPath + `:2:44: run.pass_env: "*" is not a variable name or a name prefix followed by *`,
			cfgPath + `:2:49: run.pass_env: "S*" is not among the launcher variables userdocker receives: names of SLURM_, PMIX_, PMI_, OMPI_, NCCL_, UCX_`,
			cfgPath + `:2:68: run.pass_env: "NCCL_*X" is not a variable name or a name prefix followed by *`,
			cfgPath + `:2:79: run.pass_env: "CUDA_VISIBLE_DEVICES" is not among the launcher variables userdocker receives: names of SLURM_, PMIX_, PMI_, OMPI_, NCCL_, UCX_`,
			cfgPath + `:2:103: run.pass_env: "SLURM_" is not among the launcher variables userdocker receives: names of SLURM_, PMIX_, PMI_, OMPI_, NCCL_, UCX_`,
			cfgPath + `:2:113: run.pass_env: "slurm_*" is not among the launcher variables userdocker receives: names of SLURM_, PMIX_, PMI_, OMPI_, NCCL_, UCX_`}},
		{"pmix", "[run]\npmix = 'on'\n", []string{
			cfgPath + `:2:1: run.pmix: "on" is not one of off, mount`}},
		{"devices", "[run.devices]\nalways = ['/dev/infiniband/uverbs*', 'dev/x', '/dev/../etc/x', '/dev/*/uverbs0', '/dev/nvidia0', '/dev/nv*', '/dev/dri/card0', '/dev/nvidia-caps/nvidia-cap1', '/dev/[', '/dev/a:rw']\n", []string{
			cfgPath + `:2:38: run.devices.always: "dev/x" is not a clean absolute path under /dev`,
			cfgPath + `:2:47: run.devices.always: "/dev/../etc/x" is not a clean absolute path under /dev`,
			cfgPath + `:2:64: run.devices.always: "/dev/*/uverbs0": only the last element of a device path may hold * ? or [..], and no : , or \`,
			cfgPath + `:2:82: run.devices.always: "/dev/nvidia0" can name a GPU device: a job's GPUs are ud-prolog's to grant, not run.devices'`,
			cfgPath + `:2:98: run.devices.always: "/dev/nv*" can name a GPU device: a job's GPUs are ud-prolog's to grant, not run.devices'`,
			cfgPath + `:2:110: run.devices.always: "/dev/dri/card0" can name a GPU device: a job's GPUs are ud-prolog's to grant, not run.devices'`,
			cfgPath + `:2:128: run.devices.always: "/dev/nvidia-caps/nvidia-cap1" can name a GPU device: a job's GPUs are ud-prolog's to grant, not run.devices'`,
			cfgPath + `:2:160: run.devices.always: "/dev/[" is not a valid glob: syntax error in pattern`,
			cfgPath + `:2:170: run.devices.always: "/dev/a:rw": only the last element of a device path may hold * ? or [..], and no : , or \`}},
		{"mount host relative", "[run.mounts]\nalways = ['etc/passwd:/etc/passwd']\n", []string{
			cfgPath + `:2:11: run.mounts.always: "etc/passwd:/etc/passwd" is not a mount: the host path is not absolute`}},
		{"mount container relative", "[run.mounts]\navailable = ['/data:data']\n", []string{
			cfgPath + `:2:14: run.mounts.available: "/data:data" is not a mount: the container path is not absolute`}},
		{"mount placeholder not a path", "[run.mounts]\ndefault = ['{user}:/u']\n", []string{
			cfgPath + `:2:12: run.mounts.default: "{user}:/u" is not a mount: the host path is not absolute`}},
		{"mount dotdot", "[run.mounts]\navailable = ['/scratch/{user}/../x:/x']\n", []string{
			cfgPath + `:2:14: run.mounts.available: "/scratch/{user}/../x:/x" is not a mount: the host path contains ".."`}},
		{"mount mode", "[run.mounts]\navailable = ['/data:/data:rx']\n", []string{
			cfgPath + `:2:14: run.mounts.available: "/data:/data:rx" is not a mount: the mode must be "ro" or "rw"`}},
		{"mount no colon", "[run.mounts]\navailable = ['/data']\n", []string{
			cfgPath + `:2:14: run.mounts.available: "/data" is not a mount: want HOST:[CONTAINER][:ro|:rw]`}},
		{"mount too many colons", "[run.mounts]\navailable = ['/a:/b:ro:x']\n", []string{
			cfgPath + `:2:14: run.mounts.available: "/a:/b:ro:x" is not a mount: want HOST:[CONTAINER][:ro|:rw]`}},
		{"mount without target", "[run.mounts]\nalways = ['/data:']\n", []string{
			cfgPath + `:2:11: run.mounts.always: "/data:" is not a mount: the container path is missing (only run.mounts.available may leave it to the user)`}},
		{"user root relative", "[run.mounts]\nuser_roots = ['{user}']\n", []string{
			cfgPath + `:2:15: run.mounts.user_roots: "{user}" is not absolute`}},
		{"user root dotdot", "[run.mounts]\nuser_roots = ['{home}/../x']\n", []string{
			cfgPath + `:2:15: run.mounts.user_roots: "{home}/../x" contains ".."`}},
		{"user root not a list", "[run.mounts]\nuser_roots = '{home}'\n", []string{
			cfgPath + `:2:1: run.mounts.user_roots: expected an array of strings, found a string`}},
		{"audit log relative", "[audit]\nlog = 'var/log/ud.log'\n", []string{
			cfgPath + `:2:1: audit.log: "var/log/ud.log" is neither "syslog" nor an absolute path`}},
		{"unknown placeholder", "[audit]\nlog = '/var/log/{host}.log'\n", []string{
			cfgPath + `:2:1: audit.log: "/var/log/{host}.log": unknown placeholder {host} (known: {user}, {uid}, {gid}, {home}, {job})`}},
		{"unknown placeholder in env", "[run]\nenv = { A = '{user}', B = '{User}' }\n", []string{
			cfgPath + `:2:23: run.env: "{User}": unknown placeholder {User} (known: {user}, {uid}, {gid}, {home}, {job})`}},
		{"env name", "[run.env]\n'A=B' = 'x'\n", []string{
			cfgPath + `:2:1: run.env: "A=B" is not an environment variable name`}},
		{"subcommand", "subcommands = ['run', 'shell']\n", []string{
			cfgPath + `:1:23: subcommands: "shell" is not one of run, attach, stop, ps, images, pull, load, logs, version, rm, kill, wait, exec, tag, rmi, inspect`}},
		{"capability", "[run]\ncap_add = ['SYS_ADMNI']\n", []string{
			cfgPath + `:2:12: run.cap_add: "SYS_ADMNI" is not a Linux capability`}},
		{"docker host", "docker_host = 'http://localhost'\n", []string{
			cfgPath + `:1:1: docker_host: "http://localhost" is not a Docker daemon address such as unix:///var/run/docker.sock, tcp://host:port or ssh://user@host`}},
		{"docker host placeholder", "docker_host = 'unix:///run/user/{uid}/docker.sock'\n", []string{
			cfgPath + `:1:1: docker_host: "unix:///run/user/{uid}/docker.sock": {uid} does not expand here`}},
		{"state dir relative", "[slurm]\nstate_dir = 'run/userdocker'\n", []string{
			cfgPath + `:2:1: slurm.state_dir: "run/userdocker" is not absolute`}},
		{"wrong types", "[run]\nenforce_user = 'yes'\ncap_drop = 'ALL'\nenv = ['A=1']\nimages = ['^a', 1]\n", []string{
			cfgPath + `:2:1: run.enforce_user: expected a boolean, found a string`,
			cfgPath + `:3:1: run.cap_drop: expected an array of strings, found a string`,
			cfgPath + `:4:1: run.env: expected a table of strings, found an array`,
			cfgPath + `:5:17: run.images: expected a string, found an integer`}},
		{"table expected", "run = 5\n", []string{
			cfgPath + `:1:1: run: expected a table, found an integer`}},
		{"allowed flag unknown", "[run.args]\nallowed = ['-i', '--privilege']\n", []string{
			cfgPath + `:2:18: run.args.allowed: "--privilege" is not a docker run flag`}},
		{"allowed flag spelling", "[run.args]\nallowed = ['rm', '-it', '---x']\n", []string{
			cfgPath + `:2:12: run.args.allowed: "rm" is not a flag spelling such as -x or --name`,
			cfgPath + `:2:18: run.args.allowed: "-it" is not a flag spelling such as -x or --name`,
			cfgPath + `:2:25: run.args.allowed: "---x" is not a flag spelling such as -x or --name`}},
		{"always flag unknown", "[run.args]\nalways = ['--pids-limt=10']\n", []string{
			cfgPath + `:2:11: run.args.always: "--pids-limt=10": "--pids-limt" is not a docker run flag`}},
		{"always flag without its value", "[run.args]\nalways = ['--rm', '--shm-size']\n", []string{
			cfgPath + `:2:19: run.args.always: "--shm-size" needs a value (--shm-size=VALUE)`}},
		{"default flag placeholder", "[run.args]\ndefault = ['-l=owner={usr}']\n", []string{
			cfgPath + `:2:12: run.args.default: "-l=owner={usr}": unknown placeholder {usr} (known: {user}, {uid}, {gid}, {home}, {job})`}},
		{"values flag unknown", "[run.args.values]\n'--shm' = ['.*']\n", []string{
			cfgPath + `:2:1: run.args.values: "--shm" is not a docker run flag`}},
		{"values same flag twice", "[run.args.values]\n'-e' = ['^A=']\n'--env' = ['^B=']\n", []string{
			cfgPath + `:2:1: run.args.values: "--env" and "-e" are the same flag`}},
		{"override without selector", "[[override]]\npriority = 1\ngpu.max_count = 2\n", []string{
			cfgPath + `:1:3: override[0]: needs one of group, gid, user, uid`}},
		{"override with two selectors", "[[override]]\ngroup = 'a'\nuid = 7\n", []string{
			cfgPath + `:1:3: override[0]: sets group and uid; needs exactly one of group, gid, user, uid`}},
		{"override empty group", "[[override]]\ngroup = ''\n", []string{
			cfgPath + `:2:1: override[0].group: must not be empty`}},
		{"override bad uid", "[[override]]\nuid = -1\n[[override]]\ngid = '100'\n", []string{
			cfgPath + `:2:1: override[0].uid: -1 is not a valid id`,
			cfgPath + `:4:1: override[1].gid: expected an integer, found a string`}},
		{"override user priority", "[[override]]\nuser = 'bob'\npriority = 2\n", []string{
			cfgPath + `:3:1: override[0].priority: only group and gid overrides have a priority: a caller has one user`}},
		{"override system-only", "[[override]]\ngid = 100\ndocker_host = 'tcp://other:2376'\n[override.slurm]\nstate_dir = '/tmp/x'\nepilog_budget = '10m'\n", []string{
			cfgPath + `:3:1: override[0].docker_host: cannot be set in an override: ud-prolog and ud-epilog use the system-wide value`,
			cfgPath + `:5:1: override[0].slurm.state_dir: cannot be set in an override: ud-prolog and ud-epilog use the system-wide value`,
			cfgPath + `:6:1: override[0].slurm.epilog_budget: cannot be set in an override: ud-prolog and ud-epilog use the system-wide value`}},
		{"load sizes", "[load]\nmax_size = '4 gigs'\nmin_free = 2048\n", []string{
			cfgPath + `:2:1: load.max_size: "4 gigs" is not a size such as "4g" or "512m"`,
			cfgPath + `:3:1: load.min_free: expected a size string such as "4g", found an integer`}},
		{"load max size zero", "[load]\nmax_size = '0'\n", []string{
			cfgPath + `:2:1: load.max_size: "0" is less than 1 bytes`}},
		{"load spool relative", "[load]\nspool_dir = 'var/spool/ud'\n", []string{
			cfgPath + `:2:1: load.spool_dir: "var/spool/ud" is not absolute`}},
		{"load spool placeholder", "[load]\nspool_dir = '/var/spool/{user}'\n", []string{
			cfgPath + `:2:1: load.spool_dir: "/var/spool/{user}": {user} does not expand here`}},
		{"load spool in an override", "[[override]]\ngroup = 'g'\n[override.load]\nspool_dir = '/big'\nmin_free = '1g'\nmax_size = '64g'\n", []string{
			cfgPath + `:4:1: override[0].load.spool_dir: cannot be set in an override: a node has one load spool, shared by all users`,
			cfgPath + `:5:1: override[0].load.min_free: cannot be set in an override: a node has one load spool, shared by all users`}},
		{"override bad value", "[[override]]\ngroup = 'g'\n[override.run]\npull = 'often'\n", []string{
			cfgPath + `:4:1: override[0].run.pull: "often" is not one of never, missing, always`}},
		{"override not a table list", "override = 1\n", []string{
			cfgPath + `:1:1: override: expected an array of tables ([[override]]), found an integer`}},
		{"inline override list", "override = [{ user = 'a' }, 'b']\n", []string{
			cfgPath + `:1:29: override[1]: expected a table, found a string`}},
		{"all problems at once", "[run]\npull = 'x'\ncap_add = ['NOPE']\n[gpu]\nsource = 'y'\n", []string{
			cfgPath + `:2:1: run.pull: "x" is not one of never, missing, always`,
			cfgPath + `:3:12: run.cap_add: "NOPE" is not a Linux capability`,
			cfgPath + `:5:1: gpu.source: "y" is not one of slurm, reserve, none`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseOne(tc.src)
			if c != nil {
				t.Errorf("Parse returned a Config despite errors")
			}
			diffLines(t, errorLines(t, err), tc.want)
		})
	}
}

func TestParseUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"top level", "docker_hots = 'unix:///x'\n", "1:1: docker_hots"},
		{"run", "[run]\nimage = []\n", "2:1: run.image"},
		{"run dotted", "run.pul = 'never'\n", "1:1: run.pul"},
		{"run inline", "run = { pull = 'never', pul = 'x' }\n", "1:25: run.pul"},
		{"run.args", "[run.args]\nallow = []\n", "2:1: run.args.allow"},
		{"run.mounts", "[run.mounts]\nprobes = true\n", "2:1: run.mounts.probes"},
		{"gpu", "[gpu]\ncount = 1\n", "2:1: gpu.count"},
		{"slurm", "[slurm]\nstop_timout = '1s'\n", "2:1: slurm.stop_timout"},
		{"audit", "[audit]\nfile = '/x'\n", "2:1: audit.file"},
		{"unknown table", "[network]\nmode = 'none'\n", "1:2: network"},
		{"nested unknown table", "[run.quota]\ncpus = 2\n", "1:6: run.quota"},
		{"override level", "[[override]]\ngroup = 'g'\nprio = 1\n", "3:1: override[0].prio"},
		{"override table", "[[override]]\ngroup = 'g'\n[override.gpus]\nmax_count = 2\n", "3:11: override[0].gpus"},
		{"override nested", "[[override]]\ngroup = 'g'\n[override.gpu]\nmax = 2\n", "4:1: override[0].gpu.max"},
		{"override deep", "[[override]]\nuid = 1\n[[override]]\nuid = 2\n[override.run.args]\nallowd = []\n", "6:1: override[1].run.args.allowd"},
		{"override in override", "[[override]]\nuid = 1\n[[override.override]]\nuid = 2\n", "3:12: override[0].override"},
		{"override inline", "override = [{ uid = 1, gpu = { max_count = 2, min = 1 } }]\n", "1:47: override[0].gpu.min"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOne(tc.src)
			diffLines(t, errorLines(t, err), []string{cfgPath + ":" + tc.want + ": unknown key"})
		})
	}
}

func TestParseErrorsAcrossFiles(t *testing.T) {
	_, err := Parse([]File{
		{Name: cfgPath, Data: []byte("[run]\npull = 'x'\n")},
		{Name: "/etc/userdocker/conf.d/a.toml", Data: []byte("[gpu\n")},
		{Name: "/etc/userdocker/conf.d/b.toml", Data: []byte("\n\nfoo = 1\n")},
	}, testOptions)
	diffLines(t, errorLines(t, err), []string{
		cfgPath + `:2:1: run.pull: "x" is not one of never, missing, always`,
		`/etc/userdocker/conf.d/a.toml:1:5: invalid TOML: expected ']' to close table name`,
		`/etc/userdocker/conf.d/b.toml:3:1: foo: unknown key`,
	})
}

func TestParseWithoutFlagChecker(t *testing.T) {
	src := "[run.args]\nallowed = ['--no-such-flag']\nalways = ['--xy=1', 'y']\n"
	_, err := Parse([]File{{Name: cfgPath, Data: []byte(src)}}, Options{})
	diffLines(t, errorLines(t, err), []string{
		cfgPath + `:3:21: run.args.always: "y": "y" is not a flag spelling such as -x or --name`,
	})
}

func TestParseErrorUnwraps(t *testing.T) {
	_, err := parseOne("[run]\nimages = ['(']\n")
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *ConfigError", err)
	}
	if ce.Key != "run.images" || ce.Line != 2 || ce.Column != 11 {
		t.Errorf("ConfigError at %s:%d:%d about %q, want %s:2:11 about run.images", ce.File, ce.Line, ce.Column, ce.Key, cfgPath)
	}
	var se *syntax.Error
	if !errors.As(err, &se) || se.Code != syntax.ErrMissingParen {
		t.Errorf("error %v does not wrap the regexp/syntax error", err)
	}
}

func TestLoad(t *testing.T) {
	example, err := os.ReadFile("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("main and drop-ins in lexical order", func(t *testing.T) {
		dir := t.TempDir()
		main := filepath.Join(dir, "config.toml")
		write(t, main, string(example))
		write(t, filepath.Join(dir, "conf.d", "20-b.toml"), "[run]\npull = 'always'\n")
		write(t, filepath.Join(dir, "conf.d", "10-a.toml"), "[run]\npull = 'never'\n")
		write(t, filepath.Join(dir, "conf.d", ".#20-b.toml"), "not toml")
		write(t, filepath.Join(dir, "conf.d", "30-c.toml.bak"), "not toml")
		c, err := Load(main, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		p, prov := c.System()
		if p.Run.Pull != "always" || prov["run.pull"].File != filepath.Join(dir, "conf.d", "20-b.toml") {
			t.Errorf("run.pull = %q from %s, want \"always\" from conf.d/20-b.toml", p.Run.Pull, prov["run.pull"])
		}
		want := []string{main, filepath.Join(dir, "conf.d", "10-a.toml"), filepath.Join(dir, "conf.d", "20-b.toml")}
		if got := c.Files(); !reflect.DeepEqual(got, want) {
			t.Errorf("Files() = %q, want %q", got, want)
		}
	})
	t.Run("no conf.d", func(t *testing.T) {
		dir := t.TempDir()
		main := filepath.Join(dir, "config.toml")
		write(t, main, string(example))
		if _, err := Load(main, testOptions); err != nil {
			t.Errorf("Load without conf.d: %v", err)
		}
	})
	t.Run("missing main file", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "conf.d", "10-a.toml"), "[run]\npull = 'never'\n")
		_, err := Load(filepath.Join(dir, "config.toml"), testOptions)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load of a missing file: error %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("bad drop-in fails closed", func(t *testing.T) {
		dir := t.TempDir()
		main := filepath.Join(dir, "config.toml")
		write(t, main, string(example))
		write(t, filepath.Join(dir, "conf.d", "10-a.toml"), "\n[gpu]\nmax_count = 'four'\n")
		c, err := Load(main, testOptions)
		if c != nil {
			t.Error("Load returned a Config despite errors")
		}
		diffLines(t, errorLines(t, err), []string{
			filepath.Join(dir, "conf.d", "10-a.toml") + ":3:1: gpu.max_count: expected an integer, found a string",
		})
	})
}

func TestParseQuotedKeyPositions(t *testing.T) {
	_, err := parseOne("[run.env]\nA = 'x'\n\"B C\" = 1\n\"\" = 'y'\n[run.\"x.y\"]\n")
	diffLines(t, errorLines(t, err), []string{
		cfgPath + `:3:1: run.env: expected a string, found an integer`,
		cfgPath + `:4:1: run.env: "" is not an environment variable name`,
		cfgPath + `:5:6: run."x.y": unknown key`,
	})
}
