package runflags

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/request"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, r *request.Run)
	}{
		{"combined short flags", []string{"-itd", "img"}, func(t *testing.T, r *request.Run) {
			if !r.Config.Tty || !r.Config.OpenStdin || !r.Detach {
				t.Errorf("tty %v stdin %v detach %v", r.Config.Tty, r.Config.OpenStdin, r.Detach)
			}
			if !slices.Equal(r.Order, []string{"interactive", "tty", "detach"}) {
				t.Errorf("order %v", r.Order)
			}
		}},
		{"flag=value and repeats", []string{"--env=A=1", "-e", "B=2", "-eC=3", "img"}, func(t *testing.T, r *request.Run) {
			if !slices.Equal(r.Config.Env, []string{"A=1", "B=2", "C=3"}) || len(r.Set["env"]) != 3 {
				t.Errorf("env %v set %v", r.Config.Env, r.Set["env"])
			}
		}},
		{"command after image is not parsed", []string{"img", "--privileged", "-v", "/:/x"}, func(t *testing.T, r *request.Run) {
			if r.Host.Privileged || len(r.Mounts) != 0 || !slices.Equal(r.Config.Cmd, []string{"--privileged", "-v", "/:/x"}) {
				t.Errorf("privileged %v mounts %v cmd %v", r.Host.Privileged, r.Mounts, r.Config.Cmd)
			}
		}},
		{"double dash", []string{"--rm", "--", "img", "sh"}, func(t *testing.T, r *request.Run) {
			if r.Image != "img" || !r.Host.AutoRemove {
				t.Errorf("image %q rm %v", r.Image, r.Host.AutoRemove)
			}
		}},
		{"alias net records network", []string{"--net=none", "img"}, func(t *testing.T, r *request.Run) {
			if r.Host.NetworkMode != "none" || r.Set["network"] == nil {
				t.Errorf("mode %q set %v", r.Host.NetworkMode, r.Set)
			}
		}},
		{"volume kinds", []string{"-v", "/a:/b:ro", "-v", "vol:/c", "-v", "/d", "img"}, func(t *testing.T, r *request.Run) {
			want := []request.MountType{request.MountBind, request.MountVolume, request.MountVolume}
			for i, m := range r.Mounts {
				if m.Type != want[i] {
					t.Errorf("mount %d type %s, want %s", i, m.Type, want[i])
				}
			}
			if !r.Mounts[0].ReadOnly || r.Mounts[2].Source != "" {
				t.Errorf("mounts %+v", r.Mounts)
			}
		}},
		{"attach streams default", []string{"img"}, func(t *testing.T, r *request.Run) {
			if r.Config.AttachStdin || !r.Config.AttachStdout || !r.Config.AttachStderr {
				t.Errorf("attach %v %v %v", r.Config.AttachStdin, r.Config.AttachStdout, r.Config.AttachStderr)
			}
		}},
		{"gpus device list", []string{"--gpus", `"device=0,1"`, "img"}, func(t *testing.T, r *request.Run) {
			if len(r.Host.DeviceRequests) != 1 || !slices.Equal(r.Host.DeviceRequests[0].DeviceIDs, []string{"0", "1"}) {
				t.Errorf("requests %+v", r.Host.DeviceRequests)
			}
		}},
		{"memory units", []string{"-m", "512m", "--shm-size=1g", "img"}, func(t *testing.T, r *request.Run) {
			if r.Host.Memory != 512<<20 || r.Host.ShmSize != 1<<30 {
				t.Errorf("memory %d shm %d", r.Host.Memory, r.Host.ShmSize)
			}
		}},
		{"files are paths, not contents", []string{"--env-file", "/etc/shadow", "--label-file", "/root/x", "--cidfile", "/etc/cid", "img"}, func(t *testing.T, r *request.Run) {
			if !slices.Equal(r.EnvFiles, []string{"/etc/shadow"}) || r.CIDFile != "/etc/cid" || len(r.Config.Env) != 0 {
				t.Errorf("env files %v cid %q env %v", r.EnvFiles, r.CIDFile, r.Config.Env)
			}
		}},
		{"ports", []string{"-p", "127.0.0.1::80", "img"}, func(t *testing.T, r *request.Run) {
			if len(r.Host.PortBindings["80/tcp"]) != 1 || r.Host.PortBindings["80/tcp"][0].HostIP != "127.0.0.1" {
				t.Errorf("bindings %v", r.Host.PortBindings)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse(c.args, Layers{})
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, r)
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no image", []string{"-it"}, `"run" requires at least 1 argument`},
		{"unknown flag", []string{"--bogus", "img"}, "unknown flag: --bogus"},
		{"missing value", []string{"img", "-e"}, ""},
		{"value missing before image", []string{"-e"}, "flag needs an argument: 'e' in -e"},
		{"bare env key", []string{"-e", "SECRET", "img"}, "SECRET has no value: userdocker runs under sudo"},
		{"bad memory", []string{"-m", "lots", "img"}, `invalid argument "lots" for "-m, --memory" flag`},
		{"bad pull", []string{"--pull=sometimes", "img"}, `invalid argument "sometimes" for "--pull" flag`},
		{"rm and restart", []string{"--rm", "--restart=always", "img"}, "cannot specify both --restart and --rm"},
		{"attach and detach", []string{"-d", "-a", "stdout", "img"}, "cannot specify both --attach and --detach"},
		{"relative volume target", []string{"-v", "/a:b", "img"}, `"/a:b" for "-v, --volume" flag`},
		{"bad gpus", []string{"--gpus", "0", "img"}, "count must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.args, Layers{})
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

func TestLayers(t *testing.T) {
	layers := Layers{Default: []Preset{{"shm-size", "1g"}, {"init", "true"}}, Always: []Preset{{"pids-limit", "4096"}}}
	r, err := Parse([]string{"--shm-size", "2g", "img"}, layers)
	if err != nil {
		t.Fatal(err)
	}
	if r.Host.ShmSize != 2<<30 || r.Host.Init == nil || !*r.Host.Init || *r.Host.PidsLimit != 4096 {
		t.Errorf("shm %d init %v pids %v", r.Host.ShmSize, r.Host.Init, r.Host.PidsLimit)
	}
	if _, ok := r.Set["pids-limit"]; ok {
		t.Error("admin flags must not count as the user's")
	}
	r, err = Parse([]string{"--no-default-args", "img"}, layers)
	if err != nil {
		t.Fatal(err)
	}
	if r.Host.ShmSize != 0 || *r.Host.PidsLimit != 4096 {
		t.Errorf("--no-default-args: shm %d pids %d", r.Host.ShmSize, *r.Host.PidsLimit)
	}
	if _, err := Parse([]string{"img"}, Layers{Always: []Preset{{"nonsense", "1"}}}); err == nil || !strings.Contains(err.Error(), `"--nonsense=1" is not a docker run flag`) {
		t.Errorf("bad admin flag: %v", err)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"--help", "img"}} {
		if _, err := Parse(args, Layers{}); !errors.Is(err, ErrHelp) {
			t.Errorf("%v: err %v, want ErrHelp", args, err)
		}
	}
	if r, err := Parse([]string{"-h", "box", "img"}, Layers{}); err != nil || r.Config.Hostname != "box" {
		t.Errorf("-h VALUE is --hostname: %v %+v", err, r)
	}
	var b strings.Builder
	Usage(&b, func(n string) bool { return n == "rm" || n == "interactive" }, func(n string) string {
		if n == "rm" {
			return "default: true"
		}
		return ""
	})
	out := b.String()
	if !strings.Contains(out, "--rm") || !strings.Contains(out, "-i, --interactive") || strings.Contains(out, "privileged") || !strings.Contains(out, "[default: true]") {
		t.Errorf("usage:\n%s", out)
	}
}

func TestCanonical(t *testing.T) {
	for _, c := range []struct {
		in, want string
		value    bool
	}{{"-i", "interactive", false}, {"--net", "network", true}, {"-e", "env", true}, {"--dns-opt", "dns-option", true}} {
		name, value, ok := Canonical(c.in)
		if !ok || name != c.want || value != c.value {
			t.Errorf("Canonical(%q) = %q %v %v", c.in, name, value, ok)
		}
	}
	if _, _, ok := Canonical("--nope"); ok {
		t.Error("--nope is not a flag")
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"-it --rm img sh", "--privileged img", "-v /a:/b:ro -v x:/y img", "--mount type=bind,src=/a,dst=/b img",
		"-p 127.0.0.1::80 --gpus device=0,1 img", "--env-file /x -e A=1 img", "-- --privileged", "-h", "--memory=1g -c 2 img",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, " ")
		r, err := Parse(args, Layers{Default: []Preset{{"shm-size", "1g"}}, Always: []Preset{{"pids-limit", "10"}}})
		if err != nil {
			return
		}
		if r.Image == "" && !slices.Contains(args, "") {
			t.Fatalf("parsed without an image: %q", line)
		}
		for name := range r.Set {
			if _, _, ok := Canonical("--" + name); !ok {
				t.Fatalf("recorded unknown flag %q", name)
			}
		}
		if r.Host.PidsLimit == nil || *r.Host.PidsLimit != 10 {
			if _, userSet := r.Set["pids-limit"]; !userSet {
				t.Fatalf("always flag lost: %q", line)
			}
		}
	})
}
