package policy

import (
	"reflect"
	"strings"
	"testing"
)

func TestForExample(t *testing.T) {
	c := mustParse(t, readExample(t))
	got, prov, err := c.For(alice, "42")
	if err != nil {
		t.Fatal(err)
	}
	want := examplePolicy(t)
	want.GPU.MaxCount = 4
	want.Run.Env = map[string]string{"HOME": "/home/alice", "USER": "alice"}
	want.Run.Mounts.Default = mounts(t, "/home/alice:/home/alice")
	want.Run.Mounts.Available = mounts(t, "/scratch/alice:/scratch", "/data:/data:ro", "/projects:")
	if !reflect.DeepEqual(asWritten(got), asWritten(want)) {
		t.Errorf("For(alice):\ngot  %#v\nwant %#v", got, want)
	}
	wantAt := Origin{File: cfgPath, Line: 48, Column: 1, Key: "override[0].gpu.max_count", Override: `group "gpu-power-users"`}
	if prov["gpu.max_count"] != wantAt {
		t.Errorf("provenance of gpu.max_count = %#v, want %#v", prov["gpu.max_count"], wantAt)
	}
	if got := prov["gpu.max_count"].String(); got != cfgPath+`:48, override group "gpu-power-users"` {
		t.Errorf("provenance text = %q", got)
	}

	// The Config is not changed by resolving it.
	if sys, _ := c.System(); !reflect.DeepEqual(asWritten(sys), asWritten(examplePolicy(t))) {
		t.Errorf("For changed the Config: System() = %#v", sys)
	}
}

// orderConfig has one override of each kind, each setting gpu.max_count
// to a value that names it; gpu.exclusive is set by one override only, to
// show that overrides replace key by key.
var orderConfig = []File{
	{Name: cfgPath, Data: []byte(`
[gpu]
max_count = 1

[[override]]
group = "high"
priority = 10
gpu.max_count = 10

[[override]]
group = "low"
priority = 5
gpu.max_count = 5
gpu.exclusive = false

[[override]]
group = "tie-a"
gpu.max_count = 20

[[override]]
gid = 100
gpu.max_count = 100

[[override]]
gid = 200
priority = -1
gpu.max_count = 200

[[override]]
user = "carol"
gpu.max_count = 1000

[[override]]
uid = 3000
gpu.max_count = 3000
`)},
	{Name: "/etc/userdocker/conf.d/10.toml", Data: []byte(`
[[override]]
group = "tie-b"
gpu.max_count = 21
`)},
}

func TestForOverrideOrder(t *testing.T) {
	c := mustParse(t, orderConfig...)
	tests := []struct {
		name      string
		who       Who
		wantMax   int
		wantFrom  string // provenance of gpu.max_count
		exclusive bool
	}{
		{"no override", Who{User: "x", UID: 1, GID: 1}, 1, cfgPath + ":3", true},
		{"one group", Who{User: "x", UID: 1, GID: 1, GroupNames: []string{"low"}}, 5,
			cfgPath + `:13, override group "low"`, false},
		{"higher priority applies later",
			Who{User: "x", UID: 1, GID: 1, GroupNames: []string{"high", "low"}}, 10,
			cfgPath + `:8, override group "high"`, false},
		{"equal priority: later file wins",
			Who{User: "x", UID: 1, GID: 1, GroupNames: []string{"tie-b", "tie-a"}}, 21,
			`/etc/userdocker/conf.d/10.toml:4, override group "tie-b"`, true},
		{"gid after groups", Who{User: "x", UID: 1, GID: 100, Groups: []uint32{100}, GroupNames: []string{"high"}}, 100,
			cfgPath + `:22, override gid 100`, true},
		{"gid priority", Who{User: "x", UID: 1, GID: 1, Groups: []uint32{1, 100, 200}}, 100,
			cfgPath + `:22, override gid 100`, true},
		{"primary gid", Who{User: "x", UID: 1, GID: 200}, 200,
			cfgPath + `:27, override gid 200`, true},
		{"user after gid", Who{User: "carol", UID: 1, GID: 100, Groups: []uint32{100}, GroupNames: []string{"low"}}, 1000,
			cfgPath + `:31, override user "carol"`, false},
		{"uid last", Who{User: "carol", UID: 3000, GID: 100, Groups: []uint32{100}, GroupNames: []string{"high"}}, 3000,
			cfgPath + `:35, override uid 3000`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, prov, err := c.For(tc.who, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.GPU.MaxCount != tc.wantMax || prov["gpu.max_count"].String() != tc.wantFrom {
				t.Errorf("gpu.max_count = %d from %s, want %d from %s", p.GPU.MaxCount, prov["gpu.max_count"], tc.wantMax, tc.wantFrom)
			}
			if p.GPU.Exclusive != tc.exclusive {
				t.Errorf("gpu.exclusive = %v, want %v", p.GPU.Exclusive, tc.exclusive)
			}
		})
	}
}

func TestForOverrideReplacesTablesWhole(t *testing.T) {
	c := mustParse(t, File{Name: cfgPath, Data: []byte(`
[run]
env = { A = "1", B = "2" }
images = ['^a/']
[run.args.values]
"--shm-size" = ['^1g$']
"-e" = ['^X=']

[[override]]
user = "bob"
[override.run]
env = { C = "3" }
[override.run.args.values]
"--shm-size" = ['^[0-9]+g$']
`)})
	p, _, err := c.For(bob, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"C": "3"}; !reflect.DeepEqual(p.Run.Env, want) {
		t.Errorf("run.env = %v, want %v", p.Run.Env, want)
	}
	if want := flagValuesOf(t, map[string][]string{"--shm-size": {"^[0-9]+g$"}}); !reflect.DeepEqual(asWritten(p).Run.Args.Values, asWritten(&Policy{Run: Run{Args: Args{Values: want}}}).Run.Args.Values) {
		t.Errorf("run.args.values = %v, want %v", p.Run.Args.Values, want)
	}
	if want := []string{"^a/"}; !reflect.DeepEqual(Sources(p.Run.Images), want) {
		t.Errorf("run.images = %v, want %v (not set by the override)", p.Run.Images, want)
	}
}

const placeholderConfig = `
docker_host = "unix:///var/run/docker.sock"
[run]
env = { HOME = "{home}", WHO = "{user}:{uid}:{gid}", JSON = '{"a": 1}' }
images = ['^ud-[0-9]{2}/']
[run.args]
always = ["--label=io.example.job={job}"]
default = ["-w={home}"]
[run.mounts]
always = ["/scratch/{user}/{job}:/scratch"]
default = ["{home}:{home}"]
available = ["/data/{gid}:"]
[slurm]
state_dir = "/run/userdocker"
[audit]
log = "/var/log/userdocker/{uid}.log"
`

func TestForPlaceholders(t *testing.T) {
	c := mustParse(t, File{Name: cfgPath, Data: []byte(placeholderConfig)})
	p, _, err := c.For(bob, "77")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Run.Env = map[string]string{"HOME": "/home/bob", "WHO": "bob:2002:100", "JSON": `{"a": 1}`}
	want.Run.Images = Patterns(`^ud-[0-9]{2}/`)
	want.Run.Args.Always = flagArgs(t, "--label=io.example.job=77")
	want.Run.Args.Default = flagArgs(t, "-w=/home/bob")
	want.Run.Mounts.Always = mounts(t, "/scratch/bob/77:/scratch")
	want.Run.Mounts.Default = mounts(t, "/home/bob:/home/bob")
	want.Run.Mounts.Available = mounts(t, "/data/100:")
	want.Audit.Log = "/var/log/userdocker/2002.log"
	if !reflect.DeepEqual(asWritten(p), asWritten(want)) {
		t.Errorf("For(bob):\ngot  %#v\nwant %#v", p, want)
	}
}

// TestForUserRoots: user roots expand for the caller.
func TestForUserRoots(t *testing.T) {
	c := mustParse(t, File{Name: cfgPath, Data: []byte("[run.mounts]\nuser_roots = ['{home}', '/scratch/{user}']\n")})
	p, _, err := c.For(bob, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/home/bob", "/scratch/bob"}; !reflect.DeepEqual(p.Run.Mounts.UserRoots, want) {
		t.Errorf("user roots %q, want %q", p.Run.Mounts.UserRoots, want)
	}
	if sys, _ := c.System(); !reflect.DeepEqual(sys.Run.Mounts.UserRoots, []string{"{home}", "/scratch/{user}"}) {
		t.Errorf("For changed the system policy: %q", sys.Run.Mounts.UserRoots)
	}
}

func TestForErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		who  Who
		job  string
		want []string
	}{
		{"job outside a job", placeholderConfig, bob, "", []string{
			cfgPath + `:7:1: run.args.always: "--label=io.example.job={job}": {job} is empty: the call is not inside a Slurm job`,
			cfgPath + `:10:1: run.mounts.always: "/scratch/{user}/{job}:/scratch": {job} is empty: the call is not inside a Slurm job`,
		}},
		{"no home", "[run.mounts]\ndefault = ['{home}:{home}']\n", Who{User: "x", UID: 5}, "1", []string{
			cfgPath + `:2:1: run.mounts.default: "{home}:{home}": {home} is empty for this caller`,
		}},
		{"home that breaks a mount", "[run.mounts]\ndefault = ['{home}:/home']\n", Who{User: "x", Home: "/a:/b"}, "1", []string{
			cfgPath + `:2:1: run.mounts.default: "/a:/b:/home" is not a mount: the mode must be "ro" or "rw"`,
		}},
		{"relative home as a user root", "[run.mounts]\nuser_roots = ['{home}']\n", Who{User: "x", Home: "home/x"}, "1", []string{
			cfgPath + `:2:1: run.mounts.user_roots: "home/x" is not absolute`,
		}},
		{"relative home", "[audit]\nlog = '{home}/ud.log'\n", Who{User: "x", Home: "home/x"}, "1", []string{
			cfgPath + `:2:1: audit.log: "home/x/ud.log" is neither "syslog" nor an absolute path`,
		}},
		{"overrides that clash together",
			"[[override]]\ngroup = 'a'\ngpu.default_count = 3\ngpu.max_count = 3\n[[override]]\nuser = 'bob'\ngpu.max_count = 2\n",
			Who{User: "bob", GroupNames: []string{"a"}, Home: "/home/bob"}, "", []string{
				cfgPath + `:7:1: override[1].gpu.max_count: 2 is less than gpu.default_count = 3 (from ` + cfgPath + `:3, override group "a")`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, File{Name: cfgPath, Data: []byte(tc.src)})
			p, prov, err := c.For(tc.who, tc.job)
			if p != nil || prov != nil {
				t.Error("For returned a policy despite errors")
			}
			diffLines(t, errorLines(t, err), tc.want)
		})
	}
}

func TestPlaceholdersNotExpanded(t *testing.T) {
	c := mustParse(t, File{Name: cfgPath, Data: []byte("[run]\npublish = ['^{user}$']\n")})
	p, _, err := c.For(bob, "1")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Sources(p.Run.Publish), ","); got != "^{user}$" {
		t.Errorf("run.publish = %q: placeholders must not expand in regexes", got)
	}
}

// TestForLoadSizes: a group may load bigger archives; the spool and its
// reserve are the node's.
func TestForLoadSizes(t *testing.T) {
	c := mustParse(t, File{Name: cfgPath, Data: []byte(`
[load]
max_size = "4g"
spool_dir = "/scratch/userdocker-spool"
min_free = "10g"
[[override]]
group = "gpu-power-users"
load.max_size = "1.5t"
`)})
	for _, tc := range []struct {
		who  Who
		want ImageLoad
	}{
		{alice, ImageLoad{MaxSize: 1536 << 30, SpoolDir: "/scratch/userdocker-spool", MinFree: 10 << 30}},
		{bob, ImageLoad{MaxSize: 4 << 30, SpoolDir: "/scratch/userdocker-spool", MinFree: 10 << 30}},
	} {
		p, _, err := c.For(tc.who, "")
		if err != nil || p.Load != tc.want {
			t.Errorf("For(%s).Load = %+v, %v; want %+v", tc.who.User, p.Load, err, tc.want)
		}
	}
}

func TestBytesString(t *testing.T) {
	for b, want := range map[Bytes]string{0: "0", 1: "1", 1023: "1023", 1024: "1k", 3 << 20: "3m", 1536 << 30: "1536g", 2 << 40: "2t", 1<<30 + 1: "1073741825"} {
		if got := b.String(); got != want {
			t.Errorf("Bytes(%d).String() = %q, want %q", int64(b), got, want)
		}
	}
}

// TestLimitsPerUser: [limits] takes a number of CPUs as an integer or a
// float and a size, and an override replaces one key of it.
func TestLimitsPerUser(t *testing.T) {
	c := mustParse(t, File{Name: cfgPath, Data: []byte("[limits]\ncpus = 1.5\nmemory = '2g'\n[[override]]\nuser = 'alice'\nlimits.cpus = 4\nlimits.pids = 100\n")})
	sys, _ := c.System()
	if want := (CallerLimits{Memory: 2 << 30, CPUs: 1_500_000_000, Pids: 16384}); sys.Limits != want {
		t.Errorf("system-wide [limits] = %+v, want %+v", sys.Limits, want)
	}
	got, _, err := c.For(alice, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := (CallerLimits{Memory: 2 << 30, CPUs: 4_000_000_000, Pids: 100}); got.Limits != want {
		t.Errorf("alice's [limits] = %+v, want %+v", got.Limits, want)
	}
	if s := got.Limits.CPUs.String(); s != "4" {
		t.Errorf("4 CPUs written as %q", s)
	}
}
