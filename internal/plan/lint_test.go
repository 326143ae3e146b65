package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/runflags"
)

func lintOf(t *testing.T, config string, f LintFacts) []string {
	t.Helper()
	cfg, err := policy.Parse([]policy.File{{Name: "c.toml", Data: []byte(config)}}, policy.Options{CheckFlag: runflags.Canonical})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range Lint(cfg.Views(), f) {
		out = append(out, fmt.Sprintf("%s: %s: %s | %s", w.At, w.Key, w.Msg, w.Fix))
	}
	return out
}

// TestLint: config check's warnings, each at the line that set the value,
// once, and none for a configuration that does what it says.
func TestLint(t *testing.T) {
	cases := []struct {
		name   string
		config string
		facts  LintFacts
		want   []string
	}{
		{name: "clean", config: `
[run]
images = ['^ud-test/']
publish = ['^127\.0\.0\.1::[0-9]+$']
[run.args]
allowed = ["-i", "--shm-size"]
always = ["--pids-limit=4096"]
default = ["--shm-size=1g", "--workdir={home}"]
[run.args.values]
"--shm-size" = ['^[0-9]+[kmg]?$']
[gpu]
source = "reserve"
max_count = 2
`},
		{name: "gpu keys with slurm", config: `
[gpu]
max_count = 4
[[override]]
group = "gpu"
[override.gpu]
max_count = 8
exclusive = false
`, want: []string{
			`c.toml:3: gpu.max_count: gpu.max_count has no effect with gpu.source = "slurm": only "reserve" reads it | remove it; with gpu.source = "slurm" a container's GPUs are its job's (srun --gres=gpu:N)`,
			`c.toml:7, override group "gpu": gpu.max_count: gpu.max_count has no effect with gpu.source = "slurm": only "reserve" reads it | remove it; with gpu.source = "slurm" a container's GPUs are its job's (srun --gres=gpu:N)`,
			`c.toml:8, override group "gpu": gpu.exclusive: gpu.exclusive has no effect with gpu.source = "slurm": only "reserve" reads it | remove it; with gpu.source = "slurm" a container's GPUs are its job's (srun --gres=gpu:N)`,
		}},
		{name: "flags always refused", config: `
[run.args]
allowed = ["-i", "--privileged", "--cap-add", "--device"]
always = ["--cap-add=SYS_ADMIN", "--pids-limit=10"]
`, want: []string{
			`c.toml:3: run.args.allowed: --privileged is allowed, but the final checks refuse it on every run: users would only be told no | remove --privileged from run.args.allowed`,
			`c.toml:3: run.args.allowed: --cap-add is allowed, but run.cap_add is empty: every --cap-add is refused | list the capabilities users may add in run.cap_add, or remove --cap-add`,
			`c.toml:3: run.args.allowed: --device is allowed, but run.devices.available is empty: every --device is refused | list the devices users may add in run.devices.available (which then needs no --device here), or remove --device`,
			`c.toml:4: run.args.always: --cap-add=SYS_ADMIN: every run would be refused: --cap-add SYS_ADMIN is not allowed on this system | remove --cap-add=SYS_ADMIN from run.args.always, or change the key that refuses it`,
		}},
		{name: "devices the site offers", config: `
[run.args]
allowed = ["--device"]
[run.devices]
available = ["/dev/infiniband/uverbs*"]
`},
		{name: "unanchored", config: `
[run]
images = ['ubuntu:', '^ud-test/']
publish = ['127\.0\.0\.1::[0-9]+']
[run.args]
allowed = ["--shm-size"]
[run.args.values]
"--shm-size" = ['^[0-9]+g']
`, want: []string{
			`c.toml:3: run.images: image pattern 'ubuntu:' is not anchored: it also matches where it appears inside another reference | write '^ubuntu:' to match from the start of the reference`,
			`c.toml:4: run.publish: -p pattern '127\.0\.0\.1::[0-9]+' is not anchored at both ends: it also matches any value that contains such a text | write '^127\.0\.0\.1::[0-9]+$' to match whole values (end it with .*$ where any rest is meant)`,
			`c.toml:7: run.args.values: --shm-size pattern '^[0-9]+g' is not anchored at both ends: it also matches any value that contains such a text | write '^[0-9]+g$' to match whole values (end it with .*$ where any rest is meant)`,
		}},
		{name: "mounts never mounted", config: `
[run.mounts]
always = ["/etc/passwd:/etc/passwd:ro", "/srv/gone:/gone"]
available = ["/data:/run/nvidia-container-devices/x"]
`, facts: LintFacts{MissingPaths: map[string]bool{"/srv/gone": true}}, want: []string{
			`c.toml:3: run.mounts.always: /srv/gone:/gone: /srv/gone does not exist on this node, so it cannot be mounted here | create /srv/gone on every node, or remove the entry`,
			`c.toml:4: run.mounts.available: /data:/run/nvidia-container-devices/x: mounting at /run/nvidia-container-devices/x is always refused: the NVIDIA hook takes device requests from there | mount it elsewhere in the container`,
		}},
		{name: "unknown group and user", config: `
[[override]]
group = "no-such-group"
[override.run]
pull = "never"
[[override]]
user = "alice"
[override.run]
pull = "never"
[[override]]
uid = 4242
[override.run]
pull = "never"
`, facts: LintFacts{UnknownSelectors: map[string]bool{`group "no-such-group"`: true, "uid 4242": true}}, want: []string{
			`c.toml:3: override.group: override group "no-such-group": no such group on this system, so it applies to no one | check the spelling (getent group), or remove the entry`,
			`c.toml:11: override.uid: override uid 4242: no such user on this system, so it applies to no one | check the spelling (getent passwd), or remove the entry`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := lintOf(t, c.config, c.facts)
			if !slices.Equal(got, c.want) {
				t.Fatalf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestNeverAllowedIsRefused: each flag Lint calls always refused is
// refused by Build even where run.args.allowed lists it, for the values
// a user would try.
func TestNeverAllowedIsRefused(t *testing.T) {
	values := map[string][]string{
		"privileged": {"--privileged"}, "pid": {"--pid=host", "--pid=container:x"}, "uts": {"--uts=host"},
		"userns": {"--userns=host"}, "volumes-from": {"--volumes-from=x"}, "link": {"--link=x:y"},
		"device-cgroup-rule": {"--device-cgroup-rule=c 1:3 r"},
		"cgroup-parent":      {"--cgroup-parent=/x"}, "sysctl": {"--sysctl=net.ipv4.ip_forward=1"},
		"volume-driver": {"--volume-driver=local"}, "annotation": {"--annotation=a=b"},
		"mac-address": {"--mac-address=02:42:ac:11:00:02"}, "ip": {"--ip=172.17.0.9"}, "ip6": {"--ip6=fd00::9"},
		"link-local-ip": {"--link-local-ip=169.254.0.9"}, "storage-opt": {"--storage-opt=size=1G"},
	}
	for _, name := range neverAllowed {
		vs, ok := values[name]
		if !ok {
			t.Errorf("%s: no value to try", name)
			continue
		}
		for _, v := range vs {
			pol := basePolicy()
			pol.Run.Args.Allowed = append(pol.Run.Args.Allowed, flags(runflags.Spelling(name))...)
			_, err := build(t, []string{v, "ud-test/busybox"}, pol, baseFacts())
			if len(refusal.All(err)) == 0 {
				t.Errorf("%s allowed: Build did not refuse it (%v)", v, err)
			}
		}
	}
}

func TestAnchored(t *testing.T) {
	for _, c := range []struct {
		re         string
		start, end bool
	}{
		{`^a$`, true, true}, {`^a`, true, false}, {`a$`, false, true}, {`a`, false, false},
		{`^(a|b)$`, true, true}, {`^a|b$`, false, false}, {`\Aa\z`, true, true}, {`^`, true, false},
	} {
		if s, e := anchored(c.re); s != c.start || e != c.end {
			t.Errorf("anchored(%q) = %v, %v; want %v, %v", c.re, s, e, c.start, c.end)
		}
	}
}
