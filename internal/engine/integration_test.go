//go:build integration

package engine

// Tests against the real dockerd of this machine:
//
//	go test -tags integration ./internal/engine/
//
// Without a daemon they skip, saying why, except under CI=true, where a
// missing daemon fails them. They use the image ud-test/busybox:latest and
// build it FROM scratch out of /bin/busybox (busybox-static) when it is not
// there: no registry is needed.

import (
	"github.com/userdocker/userdocker/test/harness"
	"github.com/userdocker/userdocker/test/testlock"

	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/tty"
)

const (
	itImage = "ud-test/busybox:latest"
	itLabel = "ud-test.engine"
)

// itHost is the daemon the integration tests talk to: dockerd, or the
// Podman service for TestIntegrationOnPodman.
var itHost = itDocker

const itDocker = "unix:///var/run/docker.sock"

// itUnavailable says why the integration tests cannot run here; empty when
// they can.
var itUnavailable string

func TestMain(m *testing.M) {
	if os.Getuid() == 0 {
		if err := testlock.Acquire(); err != nil {
			fmt.Fprintln(os.Stderr, "engine integration tests:", err)
			os.Exit(1)
		}
	}
	if reason := setUpDaemon(); reason != "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "engine integration tests: "+reason)
			os.Exit(1)
		}
		itUnavailable = reason
	}
	os.Exit(m.Run())
}

// setUpDaemon checks the daemon and the test image, building the image
// when it is missing, and returns what is wrong, if anything.
func setUpDaemon() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := New(itHost)
	if err != nil {
		return err.Error()
	}
	defer e.Close()
	if err := e.Ping(ctx); err != nil {
		return err.Error()
	}
	if err := harness.EnsureBusybox(ctx, itImage); err != nil {
		return err.Error()
	}
	return ""
}

// itEngine returns an Engine on the real daemon, or skips the test.
func itEngine(t *testing.T) *Engine {
	t.Helper()
	if itUnavailable != "" {
		t.Skip("no Docker daemon for integration tests: " + itUnavailable)
	}
	e, err := New(itHost)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// itPlan is a plan for cmd in the test image, named uniquely, removed when
// the test ends whatever happened.
func itPlan(t *testing.T, e *Engine, cmd ...string) request.Plan {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(strings.TrimPrefix(t.Name(), "TestIntegration")))
	name = "udtest-" + name + "-" + hex.EncodeToString(b)
	t.Cleanup(func() { _ = e.remove(context.Background(), name) })
	return request.Plan{
		Name:  name,
		Image: itImage,
		Pull:  PullNever,
		Config: &container.Config{
			Image:        itImage,
			Cmd:          cmd,
			Labels:       map[string]string{itLabel: "1"},
			AttachStdout: true,
			AttachStderr: true,
		},
		Host:     &container.HostConfig{},
		SigProxy: true,
	}
}

func itRun(t *testing.T, e *Engine, plan request.Plan, s Streams) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.Run(ctx, plan, s, Hooks{})
}

func TestIntegrationExitCodeAndRm(t *testing.T) {
	e := itEngine(t)
	plan := itPlan(t, e, "sh", "-c", "exit 7")
	plan.Host.AutoRemove = true
	var hooked string
	code, err := e.Run(context.Background(), plan, Streams{Out: io.Discard, Err: io.Discard}, Hooks{
		OnCreated: func(id string) error { hooked = id; return nil },
	})
	if err != nil || code != 7 {
		t.Fatalf("Run = %d, %v; want 7, nil", code, err)
	}
	// Waiting for "removed" means the container is gone when Run returns.
	if _, err := e.api.ContainerInspect(context.Background(), hooked); !isNotFound(err) {
		t.Errorf("container %s still there after a --rm run (inspect: %v)", hooked, err)
	}
}

func TestIntegrationStdoutStderrSeparate(t *testing.T) {
	e := itEngine(t)
	plan := itPlan(t, e, "sh", "-c", "echo out; echo err >&2; echo out2")
	var stdout, stderr bytes.Buffer
	code, err := itRun(t, e, plan, Streams{Out: &stdout, Err: &stderr})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil", code, err)
	}
	if stdout.String() != "out\nout2\n" || stderr.String() != "err\n" {
		t.Errorf("stdout, stderr = %q, %q; want %q, %q", stdout.String(), stderr.String(), "out\nout2\n", "err\n")
	}
}

func TestIntegrationStdinPiped(t *testing.T) {
	e := itEngine(t)
	plan := itPlan(t, e, "cat")
	plan.Config.OpenStdin = true
	var stdout bytes.Buffer
	input := strings.Repeat("hello, world\n", 10000) // more than one pipe buffer
	code, err := itRun(t, e, plan, Streams{In: strings.NewReader(input), Out: &stdout, Err: io.Discard})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil", code, err)
	}
	if stdout.String() != input {
		t.Errorf("cat returned %d bytes, want the %d sent", stdout.Len(), len(input))
	}
}

func TestIntegrationDetached(t *testing.T) {
	e := itEngine(t)
	plan := itPlan(t, e, "sleep", "30")
	plan.Detach = true
	var stdout bytes.Buffer
	code, err := itRun(t, e, plan, Streams{Out: &stdout})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil", code, err)
	}
	id := strings.TrimSuffix(stdout.String(), "\n")
	if running, err := e.running(context.Background(), id); err != nil || !running {
		t.Errorf("detached container %q: running = %v, %v; want true", id, running, err)
	}
}

func TestIntegrationSignalProxy(t *testing.T) {
	e := itEngine(t)
	plan := itPlan(t, e, "sh", "-c", `trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done`)
	out := &syncBuffer{}
	go func() {
		if out.waitFor("ready", 20*time.Second) {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}
	}()
	code, err := itRun(t, e, plan, Streams{Out: out, Err: out})
	if err != nil || code != 42 {
		t.Fatalf("Run = %d, %v; want 42 (the container's TERM trap), nil; output %q", code, err, out.String())
	}
	if !strings.Contains(out.String(), "got TERM") {
		t.Errorf("output %q, want the trap's message", out.String())
	}
}

func TestIntegrationStartFailure(t *testing.T) {
	for _, rm := range []bool{false, true} {
		t.Run(fmt.Sprintf("rm=%v", rm), func(t *testing.T) {
			e := itEngine(t)
			plan := itPlan(t, e, "/no/such/program")
			plan.Host.AutoRemove = rm
			var id string
			_, err := e.Run(context.Background(), plan, Streams{Out: io.Discard, Err: io.Discard}, Hooks{
				OnCreated: func(got string) error { id = got; return nil },
			})
			if err == nil || !strings.HasPrefix(err.Error(), "start container "+shortID(id)+": ") {
				t.Fatalf("err = %v, want start container %s: …", err, shortID(id))
			}
			_, inspectErr := e.api.ContainerInspect(context.Background(), id)
			if gone := isNotFound(inspectErr); gone != rm {
				t.Errorf("container gone = %v after a failed start, want %v (inspect: %v)", gone, rm, inspectErr)
			}
		})
	}
}

func TestIntegrationVersionAndImageNever(t *testing.T) {
	e := itEngine(t)
	if v, err := e.ServerVersion(context.Background()); err != nil || v.APIVersion == "" {
		t.Errorf("ServerVersion = %+v, %v; want the daemon's API version", v, err)
	}
	if err := e.EnsureImage(context.Background(), itImage, PullNever, io.Discard, false); err != nil {
		t.Errorf("present image: %v", err)
	}
	missing := "docker.io/ud-test/no-such-image:latest"
	err := e.EnsureImage(context.Background(), missing, PullNever, io.Discard, false)
	want := `image docker.io/ud-test/no-such-image:latest is not available locally, and this system does not pull images (run.pull = "never")`
	if err == nil || err.Error() != want {
		t.Errorf("missing image: %v, want %s", err, want)
	}
}

// ttyRun starts an -it run of sh under a pseudo-terminal, the test playing
// the user at the master side. It returns the master, the output seen there,
// and where Run's result arrives.
func ttyRun(t *testing.T, e *Engine, plan request.Plan) (*os.File, *syncBuffer, <-chan [2]any) {
	t.Helper()
	master, slave, err := tty.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	rc, err := slave.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	rc.Control(func(f uintptr) { fd = f })
	if err := tty.SetSize(fd, 40, 120); err != nil {
		t.Fatal(err)
	}

	out := &syncBuffer{}
	go io.Copy(out, master)
	plan.Config.Tty, plan.Config.OpenStdin = true, true
	s := Streams{In: slave, Out: slave, Err: slave, InFd: fd, OutFd: fd, InIsTerm: true, OutIsTerm: true}
	done := make(chan [2]any, 1)
	go func() {
		code, err := itRun(t, e, plan, s)
		done <- [2]any{code, err}
	}()
	return master, out, done
}

func TestIntegrationTTY(t *testing.T) {
	e := itEngine(t)
	master, out, done := ttyRun(t, e, itPlan(t, e, "sh"))

	if !out.waitFor("# ", 20*time.Second) {
		t.Fatalf("no shell prompt; output %q", out.String())
	}
	master.Write([]byte("echo hel''lo; stty size\r"))
	// The container's terminal echoes the line, the shell prints the result,
	// and the size is the user's terminal's.
	if !out.waitFor("hello\r\n40 120\r\n", 20*time.Second) {
		t.Fatalf("want the echo and the size 40 120; output %q", out.String())
	}
	if !strings.Contains(out.String(), "echo hel''lo; stty size") {
		t.Errorf("typed line not echoed; output %q", out.String())
	}
	master.Write([]byte("exit 5\r"))
	select {
	case r := <-done:
		if r[0] != 5 || r[1] != nil {
			t.Fatalf("Run = %v, %v; want 5, nil", r[0], r[1])
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Run did not return after exit; output %q", out.String())
	}
}

func TestIntegrationDetachKeys(t *testing.T) {
	for _, keys := range []string{"", "ctrl-x,x"} {
		t.Run("keys="+keys, func(t *testing.T) {
			e := itEngine(t)
			plan := itPlan(t, e, "sh")
			plan.DetachKeys = keys
			seq, _ := detachSequence(keys)
			master, out, done := ttyRun(t, e, plan)

			if !out.waitFor("# ", 20*time.Second) {
				t.Fatalf("no shell prompt; output %q", out.String())
			}
			master.Write(seq)
			select {
			case r := <-done:
				if r[0] != 0 || r[1] != nil {
					t.Fatalf("Run = %v, %v; want 0, nil after a detach", r[0], r[1])
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("Run did not return after the detach keys; output %q", out.String())
			}
			if running, err := e.running(context.Background(), plan.Name); err != nil || !running {
				t.Errorf("after detach: running = %v, %v; want true", running, err)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer that one goroutine writes and others read.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor reports whether s shows up within d.
func (b *syncBuffer) waitFor(s string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(b.String(), s) {
			return true
		}
	}
	return false
}
