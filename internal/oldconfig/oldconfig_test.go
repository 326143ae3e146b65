package oldconfig

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/golden"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/runflags"
)

func isRunFlag(s string) bool { _, _, ok := runflags.Canonical(s); return ok }

// convertFixture converts testdata/etc: a config.py in the shape of the
// Python userdocker's default config, and override files of every class.
func convertFixture(t *testing.T) Result {
	t.Helper()
	files, err := Collect(os.DirFS("testdata/etc"), "config.py")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := "config.py group/config_50_udtest-gpu.py group/config_99_adm.py gid/config_10_2100.py user/config_udtest-bob.py uid/config_2001.py"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("Collect read %s, want %s (in the Python userdocker's order)", got, want)
	}
	return Convert(files, Options{IsRunFlag: isRunFlag})
}

// TestConvertFixture: the TOML and the report, then what config check
// would say: policy.Parse accepts the result.
func TestConvertFixture(t *testing.T) {
	res := convertFixture(t)
	golden.Check(t, "converted.toml", res.TOML)
	var report bytes.Buffer
	for _, n := range res.Notes {
		report.WriteString(n.String() + "\n")
	}
	golden.Check(t, "report.golden", report.Bytes())
	if _, err := policy.Parse([]policy.File{{Name: "config.toml", Data: res.TOML}}, policy.Options{CheckFlag: runflags.Canonical}); err != nil {
		t.Fatalf("config check of the converted file: %v", err)
	}
}

// TestExplainConverted: config explain of the converted file shows the
// old values, for a caller the group, gid and uid overrides select.
func TestExplainConverted(t *testing.T) {
	res := convertFixture(t)
	cfg, err := policy.Parse([]policy.File{{Name: "config.toml", Data: res.TOML}}, policy.Options{CheckFlag: runflags.Canonical})
	if err != nil {
		t.Fatal(err)
	}
	alice := policy.Who{User: "udtest-alice", UID: 2001, GID: 2001, Groups: []uint32{2001, 2100},
		GroupNames: []string{"udtest-alice", "udtest-gpu"}, Home: "/home/udtest-alice"}
	pol, prov, err := cfg.For(alice, "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := policy.Explain(&out, pol, prov); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "explain-alice.golden", out.Bytes())
}

// TestConvertSettings: one old setting at a time, what it becomes and what
// the report says about it.
func TestConvertSettings(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		toml  string // a line the output must contain
		notes []string
	}{
		{"pull default is missing", "RUN_PULL = 'default'", "pull = 'missing'", nil},
		{"pull unknown", "RUN_PULL = 'sometimes'", "", []string{`config.py:1: RUN_PULL: "sometimes" is not one of default, never, always: not converted`}},
		{"aliases and a fixed value", "ARGS_AVAILABLE = {'run': [('-t', '--tty'), '--shm-size=16g']}",
			"allowed = ['-t', '--tty', '--shm-size', '-w', '--entrypoint']", nil},
		{"value of an allowed flag", "ARGS_AVAILABLE = {'run': ['--shm-size=16g']}", `values = { '--shm-size' = ['^16g$'] }`, nil},
		{"unknown run flag", "ARGS_AVAILABLE = {'run': ['--frobnicate']}", "allowed = ['-w', '--entrypoint']",
			[]string{`config.py:1: ARGS_AVAILABLE: "--frobnicate" is not a docker run flag userdocker knows: left out`}},
		{"placeholders", "VOLUME_MOUNTS_DEFAULT = [user_home + ':/home/' + user_name]", "default = ['{home}:/home/{user}']", nil},
		{"group_name has no placeholder", "ENV_VARS = ['G=' + group_name]", "env = { 'USERDOCKER_UID' = '{uid}', 'USERDOCKER_USER' = '{user}' }",
			[]string{"config.py:1: ENV_VARS: group_name is computed in Python and has no placeholder (known: user_home, user_name, uid, gid): left out"}},
		{"literal braces", "ENV_VARS = ['X={user}']", "",
			[]string{`config.py:1: ENV_VARS: "X={user}" contains {user}, which userdocker would read as a placeholder: left out`}},
		{"anonymous volume", "VOLUME_MOUNTS_AVAILABLE = ['/data']", "available = []",
			[]string{`config.py:1: VOLUME_MOUNTS_AVAILABLE: "/data": anonymous volumes were never supported: left out`}},
		{"user-chosen target outside available", "VOLUME_MOUNTS_DEFAULT = ['/data:']", "default = []",
			[]string{`config.py:1: VOLUME_MOUNTS_DEFAULT: "/data:" leaves the container path to the user, which only run.mounts.available may: left out`}},
		{"no limit", "NV_MAX_GPU_COUNT_RESERVATION = -1", "",
			[]string{"config.py:1: NV_MAX_GPU_COUNT_RESERVATION: -1 (no limit) has no equivalent: set gpu.max_count to a number (see config explain for the built-in value)"}},
		{"no GPUs", "NV_ALLOWED_GPUS = []", "source = 'none'",
			[]string{`config.py: NV_ALLOWED_GPUS: no GPUs: written as gpu.source = "none" and slurm.outside_job = "allow" (no Slurm job needed)`}},
		{"GPU subset", "NV_ALLOWED_GPUS = [1, 3]", "source = 'reserve'",
			[]string{"config.py:1: NV_ALLOWED_GPUS: a subset of GPUs has no equivalent: limit the GPUs Slurm may allocate (gres.conf) instead"}},
		{"unanchored image pattern", "ALLOWED_IMAGE_REGEXPS = ['ud-test/', '^debian:']", `images = ['^(?:ud-test/)', '^debian:']`,
			[]string{`config.py:1: ALLOWED_IMAGE_REGEXPS: "ud-test/": written as "^(?:ud-test/)", anchored at the start as Python's re.match anchored it`}},
		{"unanchored port pattern", "ALLOWED_PORT_MAPPINGS = ['[0-9]+$']", `publish = ['^::(?:[0-9]+$)']`,
			[]string{`config.py:1: ALLOWED_PORT_MAPPINGS: "[0-9]+$": written as "^(?:[0-9]+$)", anchored at the start as Python's re.match anchored it`,
				`config.py:1: ALLOWED_PORT_MAPPINGS: "[0-9]+$": -p specs are now matched in the form HOSTIP:HOSTPORT:CONTAINERPORT: written as "^::(?:[0-9]+$)"`}},
		{"look-around", "ALLOWED_IMAGE_REGEXPS = ['^(?!evil)']", "images = []",
			[]string{`config.py:1: ALLOWED_IMAGE_REGEXPS: "^(?!evil)" is not a regular expression Go accepts (RE2: no look-around or back-references): left out`}},
		{"computed", "CAPS_DROP = ['ALL'] * 2", "",
			[]string{`config.py:1: CAPS_DROP: not read: a computed value ("*"), not a literal`}},
		{"wrong type", "USER_IN_CONTAINER = 'yes'", "",
			[]string{"config.py:1: USER_IN_CONTAINER: expected True or False, found a string: not converted"}},
		{"dockviz", "ALLOWED_SUBCOMMANDS = ['run', 'dockviz', 'build']", "subcommands = ['run']",
			[]string{`config.py:1: ALLOWED_SUBCOMMANDS: "dockviz" was removed: it ran a third-party image as root; userdocker images --tree shows the image tree`,
				`config.py:1: ALLOWED_SUBCOMMANDS: "build" is not a subcommand of the Python userdocker: left out`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Convert([]File{{Name: "config.py", Data: []byte(tt.src)}}, Options{IsRunFlag: isRunFlag})
			if tt.toml != "" && !strings.Contains(string(res.TOML), "\n"+tt.toml+"  #") {
				t.Errorf("Convert(%q) has no line %q:\n%s", tt.src, tt.toml, res.TOML)
			}
			var got []string
			for _, n := range res.Notes {
				if n.Line > 0 || n.Setting == "NV_ALLOWED_GPUS" {
					got = append(got, n.String())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.notes, "\n") {
				t.Errorf("Convert(%q) notes:\n%s\nwant:\n%s", tt.src, strings.Join(got, "\n"), strings.Join(tt.notes, "\n"))
			}
		})
	}
}

func TestParseOverrideName(t *testing.T) {
	tests := []struct {
		class, base string
		want        File
		ok          bool
	}{
		{"group", "config_50_gpu-users.py", File{Class: "group", Selector: "gpu-users", Priority: 50}, true},
		{"gid", "config_07_2100.py", File{Class: "gid", Selector: "2100", Priority: 7}, true},
		{"gid", "config_07_gpu.py", File{}, false},
		{"user", "config_alice.py", File{Class: "user", Selector: "alice"}, true},
		{"uid", "config_2001.py", File{Class: "uid", Selector: "2001"}, true},
		{"group", "config_gpu.py", File{}, false},
		{"group", "config_50_gpu.py.bak", File{}, false},
		{"other", "config_1.py", File{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseOverrideName(tt.class, tt.base)
		if ok != tt.ok || got.Class != tt.want.Class || got.Selector != tt.want.Selector || got.Priority != tt.want.Priority {
			t.Errorf("ParseOverrideName(%q, %q) = %+v, %v; want %+v, %v", tt.class, tt.base, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzConvert: whatever the old files hold, the output is valid TOML (the
// policy may still refuse its values; config import reports that).
func FuzzConvert(f *testing.F) {
	f.Add([]byte("ENV_VARS = ['A=' + user_home, \"B='\\n\"]\nARGS_AVAILABLE = {'run': ['--x=\\t']}"), "g'r\"p")
	f.Add([]byte("VOLUME_MOUNTS_DEFAULT = [user_home + ':' + user_home]\nNV_ALLOWED_GPUS = None"), "gpu")
	f.Add([]byte("ARGS_AVAILABLE={'\x1c':[]}"), "0") // a control character once reached a comment
	f.Fuzz(func(t *testing.T, src []byte, group string) {
		res := Convert([]File{{Name: "config.py", Data: src}, {Name: "group/x.py", Data: src, Class: "group", Selector: group}}, Options{})
		var v map[string]any
		if err := toml.Unmarshal(res.TOML, &v); err != nil {
			t.Fatalf("Convert(%q) wrote invalid TOML: %v\n%s", src, err, res.TOML)
		}
	})
}
