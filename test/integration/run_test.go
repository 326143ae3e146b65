//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/test/harness"
)

func TestRunAsCaller(t *testing.T) {
	requireSetup(t)
	prepareDirs(t)
	uid := uidOf(t, alice)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"uid is the caller's", []string{"id", "-u"}, uid},
		{"groups are the caller's", []string{"id", "-G"}, ""},
		{"home is mounted", []string{"sh", "-c", "test -d /home/" + alice + " && echo home-ok"}, "home-ok"},
		{"enforced env", []string{"sh", "-c", "echo $HOME $USER"}, "/home/" + alice + " " + alice},
		{"no GPUs outside a job", []string{"sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES"}, "void"},
		{"capabilities dropped", []string{"sh", "-c", "grep CapEff /proc/self/status"}, "CapEff:\t0000000000000000"},
		{"no new privileges", []string{"sh", "-c", "grep NoNewPrivs /proc/self/status"}, "NoNewPrivs:\t1"},
		{"passwd mounted read-only", []string{"sh", "-c", "grep -c " + alice + " /etc/passwd"}, "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ud(t, alice, nil, append([]string{"run", "--rm", testImage}, c.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if got := strings.TrimSpace(r.stdout); c.want != "" && got != c.want {
				t.Fatalf("stdout %q, want %q", got, c.want)
			}
		})
	}
}

func TestRunExitCodeAndRemove(t *testing.T) {
	requireSetup(t)
	before := containersOf(t, alice)
	r := ud(t, alice, nil, "run", "--rm", testImage, "sh", "-c", "echo out; echo err >&2; exit 7")
	if r.code != 7 {
		t.Fatalf("exit %d, want 7 (stderr %q)", r.code, r.stderr)
	}
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("stdout %q stderr %q: streams must stay apart", r.stdout, r.stderr)
	}
	waitFor(t, "--rm removes the container", func() bool { return len(containersOf(t, alice)) == len(before) })
}

// A command that cannot be run gives docker's 127 (not found) and the
// daemon's reason, and --rm leaves nothing behind.
func TestRunCommandNotFound(t *testing.T) {
	requireSetup(t)
	before := containersOf(t, alice)
	r := ud(t, alice, nil, "run", "--rm", testImage, "nosuchcmd")
	if r.code != 127 || !strings.Contains(r.stderr, "executable file not found") {
		t.Fatalf("exit %d stderr %q, want 127 and the daemon's reason", r.code, r.stderr)
	}
	waitFor(t, "--rm removes the container that could not start", func() bool { return len(containersOf(t, alice)) == len(before) })
}

func TestRunDetachedAndNamed(t *testing.T) {
	requireSetup(t)
	r := ud(t, alice, nil, "run", "-d", "--name", "sleeper", testImage, "sleep", "30")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	name := docker(t, "inspect", "--format", "{{.Name}} {{index .Config.Labels \"io.userdocker.user\"}} {{.HostConfig.PidsLimit}}", id)
	if name != "/"+alice+"-sleeper "+alice+" 4096" {
		t.Fatalf("inspect: %q", name)
	}
}

func TestRunStdinAndTTY(t *testing.T) {
	requireSetup(t)
	t.Run("stdin piped", func(t *testing.T) {
		cmd := exec.Command("sudo", "-n", testBinary, "run", "--rm", "-i", testImage, "cat")
		harness.AsUser(t, cmd, alice)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.Stdin = strings.NewReader("hello through stdin\n")
		out, err := cmd.Output()
		if err != nil || string(out) != "hello through stdin\n" {
			t.Fatalf("out %q err %v", out, err)
		}
	})
	t.Run("-it under a pseudo-terminal", func(t *testing.T) {
		code, screen := underPTY(t, alice, []string{"stty size; tty; exit 3\r"}, "run", "--rm", "-it", testImage, "sh")
		if code != 3 {
			t.Fatalf("exit %d, want 3; screen:\n%s", code, screen)
		}
		if !strings.Contains(screen, "30 100") || !strings.Contains(screen, "/dev/pts/") {
			t.Fatalf("the container's terminal should be 30x100 and a pty; screen:\n%s", screen)
		}
	})
}

func TestRunDryRun(t *testing.T) {
	requireSetup(t)
	before := allContainers(t)
	r := ud(t, alice, nil, "run", "-n", "--rm", testImage, "true")
	if r.code != 0 || !strings.Contains(r.stdout, `"User": "`+uidOf(t, alice)+`:`) {
		t.Fatalf("exit %d stdout %s stderr %s", r.code, r.stdout, r.stderr)
	}
	if after := allContainers(t); len(after) != len(before) {
		t.Fatal("--dry-run created a container")
	}
}

func TestRunForgedEnvironment(t *testing.T) {
	requireSetup(t)
	forged := []string{
		"DOCKER_HOST=tcp://127.0.0.1:1", "DOCKER_API_VERSION=1.12", "NV_GPU=0,1,2,3",
		"NVIDIA_VISIBLE_DEVICES=all", "CUDA_VISIBLE_DEVICES=0", "SLURM_JOB_ID=1", "SLURM_JOB_GPUS=0,1",
		"SUDO_UID=0", "SUDO_USER=root",
	}
	r := ud(t, alice, forged, "run", "--rm", testImage, "sh", "-c", "id -u; echo $NVIDIA_VISIBLE_DEVICES")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if want := uidOf(t, alice) + "\nvoid\n"; r.stdout != want {
		t.Fatalf("stdout %q, want %q", r.stdout, want)
	}
	r = ud(t, alice, nil, "run", "--rm", cudaImage, "sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES")
	if r.code != 0 || r.stdout != "void\n" {
		t.Fatalf("an image's ENV must not claim GPUs: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestRunWithoutSudo: called without sudo, userdocker says how to call
// it, and nothing before that (no audit log it cannot open); --version
// works and says only the version.
func TestRunWithoutSudo(t *testing.T) {
	requireSetup(t)
	for _, c := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"run", testImage, "true"}, 125, "", "userdocker: userdocker must be run through sudo: sudo userdocker ...\n"},
		{[]string{"--version"}, 0, "userdocker version ", ""},
	} {
		cmd := exec.Command(testBinary, c.args...)
		harness.AsUser(t, cmd, alice)
		r := harness.Run(t, cmd)
		if r.Code != c.code || !strings.HasPrefix(r.Stdout, c.stdout) || r.Stderr != c.stderr {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q..., %q", c.args, r.Code, r.Stdout, r.Stderr, c.code, c.stdout, c.stderr)
		}
	}
}

func TestRunFilesWithCallerRights(t *testing.T) {
	requireSetup(t)
	dir := "/srv/udtest/files"
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "root-only.env"), []byte("SECRET=root\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "ok.env"), []byte("# comment\nGREETING=hi\n"), 0o644)
	r := ud(t, alice, nil, "run", "--rm", "--env-file", filepath.Join(dir, "ok.env"), testImage, "sh", "-c", "echo $GREETING")
	if r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("readable env file: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	cid := filepath.Join("/home", alice, "cid-test")
	os.Remove(cid)
	r = ud(t, alice, nil, "run", "--rm", "--cidfile", cid, testImage, "true")
	if r.code != 0 {
		t.Fatalf("cidfile in own home: exit %d %s", r.code, r.stderr)
	}
	st, err := os.Stat(cid)
	if err != nil || statOwner(st) != uidOf(t, alice) {
		t.Fatalf("cidfile must exist and belong to %s: %v", alice, err)
	}
	os.Remove(cid)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting: %s", what)
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
