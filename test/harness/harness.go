// Package harness holds what the integration suites share (test/integration,
// test/integration/hooks, internal/engine's integration tests): running a
// command, as a test user if need be, and collecting what it did;
// building this module's binaries; and building the test images through
// the Docker daemon.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

// Result is what one command did.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs cmd to its end and returns what it printed and its exit
// status. A command that cannot be run at all ends the test.
func Run(t testing.TB, cmd *exec.Cmd) Result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	return Result{out.String(), errb.String(), code}
}

// WithEnv sets cmd's environment to exactly env, as slurmd and sudo hand
// one on, besides PATH.
func WithEnv(cmd *exec.Cmd, env map[string]string) *exec.Cmd {
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// AsUser makes cmd run as the named user, with that user's groups, in /.
func AsUser(t testing.TB, cmd *exec.Cmd, name string) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	gids, _ := u.GroupIds()
	var groups []uint32
	for _, g := range gids {
		n, _ := strconv.Atoi(g)
		groups = append(groups, uint32(n))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}}
	cmd.Dir = "/"
}

// Build is one binary of this module to build.
type Build struct {
	Out     string // where the binary goes
	Pkg     string // the package, below the module: "cmd/ud-prolog"
	Tags    string // build tags, comma-separated
	LDFlags string
	// Static builds without cgo (ud-launch is linked so).
	Static bool
}

// GoBuild builds b with the go tool, quietly unless it fails.
func GoBuild(b Build) error {
	args := []string{"build", "-o", b.Out}
	if b.Tags != "" {
		args = append(args, "-tags="+b.Tags)
	}
	if b.LDFlags != "" {
		args = append(args, "-ldflags", b.LDFlags)
	}
	cmd := exec.Command("go", append(args, "github.com/userdocker/userdocker/"+b.Pkg)...)
	cmd.Env = append(os.Environ(), "CGO_CFLAGS=-Wno-deprecated-declarations")
	if b.Static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", b.Pkg, err, out)
	}
	return nil
}
