package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// limited is basePolicy with --memory, --tmpfs and the size flags allowed,
// no run.args.values, and the limits of run.limits that limits sets.
func limited(limits policy.Limits) *policy.Policy {
	pol := basePolicy()
	pol.Run.Args.Allowed = append(pol.Run.Args.Allowed, flags("--tmpfs")...)
	pol.Run.Args.Values = map[string]policy.FlagValues{}
	pol.Run.Args.Default = nil
	pol.Run.Limits = limits
	return pol
}

func limitOf(text string) policy.Limit {
	l, err := policy.ParseLimit(text)
	if err != nil {
		panic(err)
	}
	return l
}

// TestBuildLimits: run.limits and the job's memory bound --shm-size,
// --memory and each tmpfs; a refusal quotes the size as it was written.
func TestBuildLimits(t *testing.T) {
	job := baseFacts()
	job.Job = &Job{ID: "42", CPUs: "2-3", MemoryBytes: 256 << 20}
	site := policy.Limits{ShmSize: limitOf("8g"), Memory: limitOf("2g"), TmpfsSize: limitOf("1g")}
	cases := []struct {
		name   string
		args   []string
		limits policy.Limits
		facts  Facts
		pol    func(*policy.Policy)
		want   string // a refusal, or
		check  func(t *testing.T, shm, mem int64, tmpfs map[string]string)
	}{
		{name: "docker's units", args: []string{"--shm-size", "1GB"}, limits: site, facts: baseFacts(),
			check: func(t *testing.T, shm, _ int64, _ map[string]string) {
				if shm != 1<<30 {
					t.Errorf("shm %d, want 1 GiB", shm)
				}
			}},
		{name: "shm above the site's", args: []string{"--shm-size", "16g"}, limits: site, facts: baseFacts(),
			want: "--shm-size 16g is more than the 8g this system allows (run.limits.shm_size)"},
		{name: "shm above the job's memory", args: []string{"--shm-size", "100g"}, facts: job,
			want: "--shm-size 100g is more than your job's memory (256m)"},
		{name: "shm above both: the smaller bound", args: []string{"--shm-size", "100g"}, limits: site, facts: job,
			want: "--shm-size 100g is more than your job's memory (256m)"},
		{name: "shm of the site's default is lowered", args: nil, limits: site, facts: job,
			pol: func(p *policy.Policy) { p.Run.Args.Default = flagArgs("--shm-size=1g") },
			check: func(t *testing.T, shm, _ int64, _ map[string]string) {
				if shm != 256<<20 {
					t.Errorf("shm %d, want the site's 1g lowered to the job's 256m", shm)
				}
			}},
		{name: "shm of the site's always is lowered", args: nil, limits: site, facts: baseFacts(),
			pol: func(p *policy.Policy) { p.Run.Args.Always = flagArgs("--shm-size=16g") },
			check: func(t *testing.T, shm, _ int64, _ map[string]string) {
				if shm != 8<<30 {
					t.Errorf("shm %d, want the site's 16g lowered to its run.limits 8g", shm)
				}
			}},
		{name: "tmpfs of the site's default is lowered", args: nil, facts: job,
			pol: func(p *policy.Policy) { p.Run.Args.Default = flagArgs("--tmpfs=/t:size=1g") },
			check: func(t *testing.T, _, _ int64, tmpfs map[string]string) {
				if tmpfs["/t"] != "size=268435456" {
					t.Errorf("tmpfs %q, want the job's 256m", tmpfs["/t"])
				}
			}},
		{name: "memory in the user's units", args: []string{"-m", "1024m"}, facts: job,
			want: "-m/--memory 1024m is more than your job's memory (256m)"},
		{name: "memory above the site's", args: []string{"--memory", "3g"}, limits: site, facts: baseFacts(),
			want: "-m/--memory 3g is more than the 2g this system allows (run.limits.memory)"},
		{name: "memory from the site's limit", args: nil, limits: site, facts: baseFacts(),
			check: func(t *testing.T, _, mem int64, _ map[string]string) {
				if mem != 2<<30 {
					t.Errorf("memory %d, want the site's 2g", mem)
				}
			}},
		{name: "memory from the job below the site's", args: nil, limits: site, facts: job,
			check: func(t *testing.T, _, mem int64, _ map[string]string) {
				if mem != 256<<20 {
					t.Errorf("memory %d, want the job's 256m", mem)
				}
			}},
		{name: "site's memory below the job's", args: nil, limits: policy.Limits{Memory: limitOf("128m")}, facts: job,
			check: func(t *testing.T, _, mem int64, _ map[string]string) {
				if mem != 128<<20 {
					t.Errorf("memory %d, want the site's 128m", mem)
				}
			}},
		{name: "tmpfs gets the bound", args: []string{"--tmpfs", "/t:mode=1777"}, limits: site, facts: baseFacts(),
			check: func(t *testing.T, _, _ int64, tmpfs map[string]string) {
				if tmpfs["/t"] != "mode=1777,size=1073741824" {
					t.Errorf("tmpfs %q, want the site's size added", tmpfs["/t"])
				}
			}},
		{name: "tmpfs in docker's units", args: []string{"--tmpfs", "/t:size=512MB"}, limits: site, facts: baseFacts(),
			check: func(t *testing.T, _, _ int64, tmpfs map[string]string) {
				if tmpfs["/t"] != "size=536870912" {
					t.Errorf("tmpfs %q, want its size in bytes, which the kernel reads", tmpfs["/t"])
				}
			}},
		{name: "tmpfs in the kernel's units", args: []string{"--tmpfs", "/t:size=512m"}, limits: site, facts: baseFacts(),
			check: func(t *testing.T, _, _ int64, tmpfs map[string]string) {
				if tmpfs["/t"] != "size=512m" {
					t.Errorf("tmpfs %q, want it as written", tmpfs["/t"])
				}
			}},
		{name: "tmpfs of --mount", args: []string{"--mount", "type=tmpfs,target=/t,tmpfs-size=300m"}, facts: job,
			want: "--tmpfs /t: size=314572800 is more than your job's memory (256m)"},
		{name: "tmpfs above the site's", args: []string{"--tmpfs", "/t:size=2g"}, limits: site, facts: baseFacts(),
			want: "--tmpfs /t: size=2g is more than the 1g this system allows (run.limits.tmpfs_size)"},
		{name: "tmpfs as a share of memory", args: []string{"--tmpfs", "/t:size=50%"}, limits: site, facts: baseFacts(),
			want: "--tmpfs /t: size=50% is not a size such as 1g or 512m"},
		{name: "tmpfs in pages", args: []string{"--tmpfs", "/t:nr_blocks=100"}, facts: job,
			want: "--tmpfs /t: nr_blocks is not allowed on this system: give size= instead"},
		{name: "tmpfs sized twice", args: []string{"--tmpfs", "/t:size=1m,size=2g"}, facts: job,
			want: "--tmpfs /t: give its size once"},
		{name: "no bound outside a job", args: []string{"--shm-size", "100g", "--tmpfs", "/t"}, facts: baseFacts(),
			check: func(t *testing.T, shm, mem int64, tmpfs map[string]string) {
				if shm != 100<<30 || mem != 0 || tmpfs["/t"] != "" {
					t.Errorf("shm %d memory %d tmpfs %q, want them as asked", shm, mem, tmpfs["/t"])
				}
			}},
		{name: "no job bound where memory is not confined", args: []string{"--shm-size", "100g"}, facts: job,
			pol: func(p *policy.Policy) { p.Slurm.ConfineMemory = false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := limited(c.limits)
			if c.pol != nil {
				c.pol(pol)
			}
			p, err := build(t, append(c.args, "ud-test/busybox"), pol, c.facts)
			if c.want != "" {
				rs := refusal.All(err)
				if len(rs) != 1 || rs[0].Msg != c.want {
					t.Fatalf("err %v, want only %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, p.Host.ShmSize, p.Host.Memory, p.Host.Tmpfs)
			}
		})
	}
}

func TestKernelSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"4096", 4096, true}, {"64k", 64 << 10, true}, {"1G", 1 << 30, true}, {"2e", 2 << 60, true},
		{"010", 8, true}, {"0x10m", 16 << 20, true}, {"0", 0, true},
		{"1GB", 0, false}, {"1.5g", 0, false}, {"50%", 0, false}, {"", 0, false}, {"k", 0, false},
		{"0x", 0, false}, {"99999999999e", 0, false}, {"-1", 0, false},
	} {
		got, ok := kernelSize(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("kernelSize(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestBuildEveryReason: a request that breaks several rules hears of all
// of them at once, each once: flags the policy does not allow, values a
// step refuses, and what the final checks refuse of the rest.
func TestBuildEveryReason(t *testing.T) {
	withNetwork := func(p *policy.Policy) { p.Run.Args.Allowed = append(p.Run.Args.Allowed, flags("--network")...) }
	cases := []struct {
		name string
		args []string
		pol  func(*policy.Policy)
		want []string
	}{
		{name: "a step's refusal and a final check's", args: []string{"--cap-add", "SYS_ADMIN", "--network", "host"}, pol: withNetwork,
			want: []string{
				"--cap-add SYS_ADMIN is not allowed on this system",
				"--network=host is not allowed on this system: containers get their own network namespace",
			}},
		{name: "a flag not allowed is named once", args: []string{"--network", "host", "--cap-add", "SYS_ADMIN"},
			want: []string{"--network is not allowed on this system", "--cap-add SYS_ADMIN is not allowed on this system"}},
		{name: "the same reason once", args: []string{"--privileged", "--pid", "host"},
			want: []string{"--privileged is not allowed on this system", "--pid is not allowed on this system"}},
		{name: "an image refused and a flag", args: []string{"--privileged", "alpine"},
			want: []string{"--privileged is not allowed on this system", "image docker.io/library/alpine:latest is not allowed on this system (see run.images)"}},
		{name: "a value refused and a fixed flag", args: []string{"--shm-size", "1t", "--pids-limit", "0", "-u", "root"},
			want: []string{
				`--shm-size "1t" is not allowed on this system (allowed: N, Ng, Nk or Nm)`,
				`--pids-limit is fixed to "4096" on this system`,
				`--user "root" is not allowed: containers run as you (2001:2001)`,
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := basePolicy()
			if c.pol != nil {
				c.pol(pol)
			}
			args := c.args
			if !slices.Contains(args, "alpine") {
				args = append(slices.Clone(args), "ud-test/busybox")
			}
			_, err := build(t, args, pol, baseFacts())
			var got []string
			for _, r := range refusal.All(err) {
				got = append(got, r.Msg)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("refusals\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestGroupAddByName(t *testing.T) {
	f := baseFacts()
	f.Caller.GroupNames = []string{"alice", "udtest-gpu"}
	for _, c := range []struct{ group, want string }{
		{"udtest-gpu", ""},
		{"2100", ""},
		{"docker", `--group-add "docker" is not allowed: only your own groups can be added (alice, udtest-gpu)`},
		{"0", `--group-add "0" is not allowed: only your own groups can be added (alice, udtest-gpu)`},
	} {
		t.Run(c.group, func(t *testing.T) {
			p, err := build(t, []string{"--group-add", c.group, "ud-test/busybox"}, basePolicy(), f)
			if c.want != "" {
				if rs := refusal.All(err); len(rs) != 1 || rs[0].Msg != c.want {
					t.Fatalf("err %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Host.GroupAdd, []string{"2100"}) {
				t.Fatalf("groups %v, want the caller's supplementary group 2100", p.Host.GroupAdd)
			}
		})
	}
}
