//go:build integration

// Package integration runs the built userdocker binary through real sudo,
// as real unprivileged users, against the real Docker daemon (and, where
// the tests say so, the real single-node Slurm). scripts/testenv.sh sets up
// the machine; `make test` runs it first. Without root, Docker or sudo the
// tests skip with the reason, except under CI=true, where that is a failure.
package integration

import (
	"github.com/userdocker/userdocker/test/harness"
	"github.com/userdocker/userdocker/test/testlock"

	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fixed places for the test build: root-owned, so the sudoers rule and the
// config the binary reads cannot be changed by the test users.
const (
	testDir     = "/usr/local/lib/userdocker-test"
	testBinary  = testDir + "/userdocker"
	testConfDir = "/etc/userdocker-test"
	testConfig  = testConfDir + "/config.toml"
	sudoersFile = "/etc/sudoers.d/userdocker-test"
	testImage   = "ud-test/busybox:latest"
	cudaImage   = "ud-test/cuda:latest"
	deniedImage = "ud-test/denied:latest"
	alice       = "udtest-alice"
	bob         = "udtest-bob"
)

// testBinary, what the tests call through sudo, is ud-launch as installed,
// in front of testRealBinary, the real userdocker.
const testRealBinary = testDir + "/libexec/userdocker"

var skipReason string

func TestMain(m *testing.M) {
	if os.Getuid() == 0 {
		if err := testlock.Acquire(); err != nil {
			fmt.Fprintf(os.Stderr, "integration: %v\n", err)
			os.Exit(1)
		}
	}
	skipReason = setup()
	if skipReason != "" && os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "integration: CI=true but the test machine is not ready: %s\n", skipReason)
		os.Exit(1)
	}
	mark := markAudit()
	code := m.Run()
	removeSetenvRule()
	if skipReason == "" {
		if err := checkAudit(mark); err != nil {
			fmt.Fprintf(os.Stderr, "integration: audit: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// setup builds the binary with the test config path compiled in, installs
// it where the test sudoers rule allows it, and returns why the suite
// cannot run ("" when it can).
func setup() string {
	if os.Getuid() != 0 {
		return "needs root (it creates users' sudo rules and talks to dockerd)"
	}
	for _, tool := range []string{"sudo", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed: run scripts/testenv.sh"
		}
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return "dockerd is not running: " + strings.TrimSpace(string(out))
	}
	for _, u := range []string{alice, bob} {
		if _, err := user.Lookup(u); err != nil {
			return "test user " + u + " is missing: run scripts/testenv.sh"
		}
	}
	if err := exec.Command("docker", "image", "inspect", testImage).Run(); err != nil {
		return "test image " + testImage + " is missing: run scripts/testenv.sh"
	}
	if err := os.MkdirAll(filepath.Dir(testRealBinary), 0o755); err != nil {
		return err.Error()
	}
	if err := os.MkdirAll(testConfDir, 0o755); err != nil {
		return err.Error()
	}
	removeSetenvRule() // left by a run that was killed
	if err := harness.GoBuild(harness.Build{Out: testRealBinary, Pkg: "cmd/userdocker",
		LDFlags: "-X github.com/userdocker/userdocker/internal/policy.DefaultPath=" + testConfig}); err != nil {
		return err.Error()
	}
	if err := harness.GoBuild(harness.Build{Out: testBinary, Pkg: "cmd/ud-launch", LDFlags: "-X main.target=" + testRealBinary, Static: true}); err != nil {
		return err.Error()
	}
	if interp, err := elfInterpreter(testBinary); err != nil || interp != "" {
		return fmt.Sprintf("ud-launch must start without a dynamic loader: interpreter %q, %v", interp, err)
	}
	rule := fmt.Sprintf("# userdocker integration tests\n%s, %s ALL=(root) NOPASSWD: %s\n", alice, bob, testBinary) + sudoersAudit()
	if err := os.WriteFile(sudoersFile, []byte(rule), 0o440); err != nil {
		return err.Error()
	}
	if err := os.WriteFile(testConfig, []byte(baseConfig), 0o644); err != nil {
		return err.Error()
	}
	return ""
}

func requireSetup(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// baseConfig is the policy most tests run under: DESIGN.md §6's example,
// with the test users' paths.
const baseConfig = `
docker_host = "unix:///var/run/docker.sock"
subcommands = ["run", "attach", "stop", "ps", "images", "pull", "load", "logs", "version"]

[run]
images = ['^docker\.io/library/(debian|ubuntu):', '^ud-test/(busybox|cuda):']
pull = "never"
enforce_user = true
cap_drop = ["ALL"]
cap_add = []
no_new_privileges = true
env = { HOME = "{home}", USER = "{user}" }
publish = ['^127\.0\.0\.1::[0-9]+$']

[run.args]
allowed = ["-i", "-t", "-d", "--rm", "--read-only", "-w", "--entrypoint", "-e", "--name", "--shm-size", "--env-file", "--label-file", "--cidfile", "-l", "-u", "--group-add"]
always  = ["--pids-limit=4096"]
default = ["--shm-size=64m"]
[run.args.values]
"--shm-size" = ['^[0-9]+[kmg]?$']

[run.mounts]
always    = ["/etc/passwd:/etc/passwd:ro", "/etc/group:/etc/group:ro"]
default   = ["{home}:{home}"]
available = ["/srv/udtest/data:/data:ro", "/srv/udtest/scratch/{user}:/scratch"]
probe = true

[gpu]
source = "slurm"

[slurm]
outside_job = "no-gpu"

[audit]
log = "/var/log/userdocker-test-audit.log"
`

// result is what one userdocker invocation did.
type result struct {
	stdout, stderr string
	code           int
}

// ud runs `sudo -n userdocker ARGS` as the given user, with env added to a
// minimal environment (forged variables included: sudo's env_reset and
// userdocker itself must ignore them).
func ud(t *testing.T, who string, env []string, args ...string) result {
	t.Helper()
	return udBinary(t, testBinary, who, env, args...)
}

// udBinary is ud for another build of userdocker at bin (with its own
// sudoers rule), such as the udmocknvml build of the GPU tests.
func udBinary(t *testing.T, bin, who string, env []string, args ...string) result {
	t.Helper()
	return sudoAs(t, who, env, append([]string{bin}, args...)...)
}

// sudoAs runs `sudo -n ARGS` as who, with env added to a minimal
// environment, and returns what it did.
func sudoAs(t *testing.T, who string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sudo", append([]string{"-n"}, args...)...)
	harness.AsUser(t, cmd, who)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=/home/" + who, "LANG=C"}, env...)
	return collect(t, cmd)
}

// collect runs cmd and returns its output and exit status.
func collect(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	r := harness.Run(t, cmd)
	return result{r.Stdout, r.Stderr, r.Code}
}

func uidOf(t *testing.T, name string) string {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return u.Uid
}

// docker runs the real docker CLI as root, for checks from the outside.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// containersOf lists the IDs of all containers labelled with the user's uid.
func containersOf(t *testing.T, name string) []string {
	t.Helper()
	out := docker(t, "ps", "-aq", "--no-trunc", "--filter", "label=io.userdocker.uid="+uidOf(t, name))
	if out == "" {
		return nil
	}
	return strings.Fields(out)
}

func allContainers(t *testing.T) []string {
	t.Helper()
	out := docker(t, "ps", "-aq", "--no-trunc")
	if out == "" {
		return nil
	}
	return strings.Fields(out)
}

// writeConfig replaces the test config for one test and restores the base
// one afterwards.
func writeConfig(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(testConfig, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(testConfig, []byte(baseConfig), 0o644) })
}

// prepareDirs makes the host paths the base config names.
func prepareDirs(t *testing.T) {
	t.Helper()
	for _, d := range []string{"/srv/udtest/data", "/srv/udtest/scratch"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile("/srv/udtest/data/readme", []byte("shared data\n"), 0o644)
	for _, u := range []string{alice, bob} {
		d := filepath.Join("/srv/udtest/scratch", u)
		os.MkdirAll(d, 0o755)
		exec.Command("chown", u+":", d).Run()
	}
}

// elfInterpreter returns the program interpreter (dynamic loader) an ELF
// file names, or "" for a statically linked one.
func elfInterpreter(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", err
			}
			return strings.TrimRight(string(b), "\x00"), nil
		}
	}
	return "", nil
}
