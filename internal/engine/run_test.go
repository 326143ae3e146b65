package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/tty"
	"github.com/userdocker/userdocker/test/fakedocker"
)

const testImage = "docker.io/library/busybox:latest"

// basePlan is an attached, non-TTY run as the parser and the policy leave it.
func basePlan() request.Plan {
	return request.Plan{
		Name:  "alice-1",
		Image: testImage,
		Pull:  PullNever,
		Config: &container.Config{
			Image:        testImage,
			Cmd:          []string{"true"},
			AttachStdout: true,
			AttachStderr: true,
		},
		Host:     &container.HostConfig{},
		Network:  &network.NetworkingConfig{},
		SigProxy: true,
	}
}

func testEngine(t *testing.T, host string) *Engine {
	t.Helper()
	e, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	e.timeout = 5 * time.Second
	e.detachGrace = 10 * time.Millisecond
	return e
}

const testID = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

// runDaemon serves a fake daemon whose creates make containers that
// behave as proc says, under testID, and returns it with an Engine on it.
func runDaemon(t *testing.T, proc fakedocker.Container) (*fakedocker.Daemon, *Engine) {
	t.Helper()
	d := fakedocker.New()
	d.Create = func(c *fakedocker.Container) {
		c.ID = testID
		c.Stdout, c.Stderr, c.Echo, c.UntilSignal, c.DetachKeys = proc.Stdout, proc.Stderr, proc.Echo, proc.UntilSignal, proc.DetachKeys
		c.ExitCode, c.StartError, c.OnStart = proc.ExitCode, proc.StartError, proc.OnStart
	}
	return d, testEngine(t, d.Serve(t))
}

// created is the container the run created.
func created(t *testing.T, d *fakedocker.Daemon) *fakedocker.Container {
	t.Helper()
	c := d.Container(testID)
	if c == nil {
		t.Fatal("no container was created, or it is gone")
	}
	return c
}

// attachOptions are the options of an attach call, as the client sent them.
func attachOptions(c fakedocker.Call) container.AttachOptions {
	q := c.Query
	return container.AttachOptions{Stream: q.Get("stream") == "1", Stdin: q.Get("stdin") == "1", Stdout: q.Get("stdout") == "1",
		Stderr: q.Get("stderr") == "1", DetachKeys: q.Get("detachKeys"), Logs: q.Get("logs") == "1"}
}

// createRequest is what the run asked to create.
func createRequest(t *testing.T, d *fakedocker.Daemon) (container.CreateRequest, string) {
	t.Helper()
	calls := d.CallsOf("ContainerCreate")
	if len(calls) != 1 {
		t.Fatalf("%d creates, want 1", len(calls))
	}
	var req container.CreateRequest
	if err := calls[0].Decode(&req); err != nil {
		t.Fatal(err)
	}
	return req, calls[0].Query.Get("name")
}

// runWithin runs e.Run and fails the test if it hangs. The bound is far
// above any run against the fake daemon (milliseconds): it catches a run
// that never returns, not a slow machine.
func runWithin(t *testing.T, e *Engine, plan request.Plan, s Streams, h Hooks) (int, error) {
	t.Helper()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := e.Run(context.Background(), plan, s, h)
		done <- result{code, err}
	}()
	select {
	case r := <-done:
		return r.code, r.err
	case <-time.After(2 * time.Minute):
		t.Fatal("Run did not return within 2 minutes: it hangs")
		return 0, nil
	}
}

func TestRunAttached(t *testing.T) {
	tests := []struct {
		name    string
		proc    fakedocker.Container
		plan    func(*request.Plan)
		stdin   string
		code    int
		stdout  string
		stderr  string
		cond    container.WaitCondition
		attach  container.AttachOptions
		onceStd bool // StdinOnce sent to the daemon
	}{
		{
			name:   "exit 0, stdout and stderr demultiplexed",
			proc:   fakedocker.Container{Stdout: "out\n", Stderr: "err\n"},
			stdout: "out\n", stderr: "err\n",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:   "exit status 7 propagates",
			proc:   fakedocker.Container{ExitCode: 7, Stderr: "failed\n"},
			code:   7,
			stderr: "failed\n",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:   "killed container's 137 propagates",
			proc:   fakedocker.Container{ExitCode: 137},
			code:   137,
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name: "tty output is copied raw, stderr included",
			proc: fakedocker.Container{Stdout: "\x01\x00\x00\x00\x00\x00\x00\x02hi", Stderr: "e"},
			plan: func(p *request.Plan) { p.Config.Tty = true },
			// Bytes that look like a multiplexing header pass unchanged.
			stdout: "\x01\x00\x00\x00\x00\x00\x00\x02hie",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:    "-i pipes stdin and closes it at its end",
			proc:    fakedocker.Container{Echo: true, ExitCode: 3},
			plan:    func(p *request.Plan) { p.Config.OpenStdin = true },
			stdin:   "hello\nworld\n",
			code:    3,
			stdout:  "hello\nworld\n",
			cond:    container.WaitConditionNextExit,
			attach:  container.AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true},
			onceStd: true,
		},
		{
			name:   "--rm waits for the removal",
			proc:   fakedocker.Container{Stdout: "x"},
			plan:   func(p *request.Plan) { p.Host.AutoRemove = true },
			stdout: "x",
			cond:   container.WaitConditionRemoved,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:   "detach keys go to the daemon",
			proc:   fakedocker.Container{},
			plan:   func(p *request.Plan) { p.DetachKeys = "ctrl-x,x" },
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true, DetachKeys: "ctrl-x,x"},
		},
		{
			name: "-a stdout leaves stderr out",
			proc: fakedocker.Container{Stdout: "o", Stderr: "e"},
			plan: func(p *request.Plan) { p.Config.AttachStderr = false },
			// The daemon sends no stderr; TestCopyOutput shows that the
			// client would drop it.
			stdout: "o",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true},
		},
		{
			name: "no attach fields from the parser: stdout and stderr, as docker",
			proc: fakedocker.Container{Stdout: "o", Stderr: "e"},
			plan: func(p *request.Plan) {
				p.Config.AttachStdout, p.Config.AttachStderr = false, false
			},
			stdout: "o", stderr: "e",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, e := runDaemon(t, tc.proc)
			plan := basePlan()
			if tc.plan != nil {
				tc.plan(&plan)
			}
			var stdout, stderr bytes.Buffer
			s := Streams{In: strings.NewReader(tc.stdin), Out: &stdout, Err: &stderr}

			var hooked string
			code, err := runWithin(t, e, plan, s, Hooks{OnCreated: func(id string) error {
				hooked = id
				return nil
			}})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if code != tc.code {
				t.Errorf("exit code = %d, want %d", code, tc.code)
			}
			if stdout.String() != tc.stdout || stderr.String() != tc.stderr {
				t.Errorf("stdout, stderr = %q, %q; want %q, %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
			}
			if hooked != testID {
				t.Errorf("OnCreated got %q, want %q", hooked, testID)
			}
			if w := d.CallsOf("ContainerWait"); len(w) != 1 || container.WaitCondition(w[0].Query.Get("condition")) != tc.cond {
				t.Errorf("waits %v, want one for %q", w, tc.cond)
			}
			if a := d.CallsOf("ContainerAttach"); len(a) != 1 || attachOptions(a[0]) != tc.attach {
				t.Errorf("attaches %v, want one with %+v", a, tc.attach)
			}
			req, name := createRequest(t, d)
			if req.Config.StdinOnce != tc.onceStd {
				t.Errorf("StdinOnce = %v, want %v", req.Config.StdinOnce, tc.onceStd)
			}
			if name != "alice-1" || req.Config.Image != testImage {
				t.Errorf("created name, image = %q, %q; want alice-1, %s", name, req.Config.Image, testImage)
			}
			if removals := d.CallsOf("ContainerRemove"); len(removals) != 0 {
				t.Errorf("a container that ran was removed by the client: %v", removals)
			}
		})
	}
}

// Attach and wait must be in place before the start: otherwise the first
// output, or the exit of a quick container, can be missed.
func TestRunAttachAndWaitBeforeStart(t *testing.T) {
	d, e := runDaemon(t, fakedocker.Container{Stdout: "x"})
	if _, err := runWithin(t, e, basePlan(), Streams{Out: &bytes.Buffer{}}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	calls := d.Ops()
	want := []string{"ContainerCreate", "ContainerAttach", "ContainerWait", "ContainerStart"}
	if !slices.Equal(calls, want) {
		t.Fatalf("calls = %v, want %v", calls, want)
	}
}

func TestRunDetached(t *testing.T) {
	d, e := runDaemon(t, fakedocker.Container{})
	plan := basePlan()
	plan.Detach = true
	plan.Config.OpenStdin, plan.Config.AttachStdin, plan.Config.StdinOnce = true, true, true
	var stdout bytes.Buffer

	code, err := runWithin(t, e, plan, Streams{Out: &stdout}, Hooks{})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil", code, err)
	}
	if stdout.String() != testID+"\n" {
		t.Errorf("stdout = %q, want the ID and a newline", stdout.String())
	}
	if want := []string{"ContainerCreate", "ContainerStart"}; !slices.Equal(d.Ops(), want) {
		t.Errorf("calls = %v, want %v", d.Ops(), want)
	}
	req, _ := createRequest(t, d)
	c := req.Config
	if c.AttachStdin || c.AttachStdout || c.AttachStderr || c.StdinOnce || !c.OpenStdin {
		t.Errorf("detached config attach/stdin fields = %v %v %v once=%v open=%v; want none attached, stdin kept open",
			c.AttachStdin, c.AttachStdout, c.AttachStderr, c.StdinOnce, c.OpenStdin)
	}
	if !plan.Config.AttachStdout {
		t.Error("Run changed the caller's plan")
	}
}

// A cidfile that cannot be written must not leave a container behind.
func TestRunOnCreatedFailureRemoves(t *testing.T) {
	for _, detach := range []bool{false, true} {
		d, e := runDaemon(t, fakedocker.Container{})
		plan := basePlan()
		plan.Detach = detach
		hookErr := errors.New("write cidfile /home/alice/cid: permission denied")

		_, err := runWithin(t, e, plan, Streams{}, Hooks{OnCreated: func(string) error { return hookErr }})
		if !errors.Is(err, hookErr) || err.Error() != hookErr.Error() {
			t.Errorf("detach=%v: err = %v, want %v", detach, err, hookErr)
		}
		if want := []string{"ContainerCreate", "ContainerRemove"}; !slices.Equal(d.Ops(), want) {
			t.Errorf("detach=%v: calls = %v, want %v", detach, d.Ops(), want)
		}
		if want := "force=1&v=1"; len(d.CallsOf("ContainerRemove")) != 1 || d.CallsOf("ContainerRemove")[0].Query.Encode() != want {
			t.Errorf("detach=%v: removals = %v, want one with %s", detach, d.CallsOf("ContainerRemove"), want)
		}
		if len(d.ContainerIDs()) != 0 {
			t.Errorf("detach=%v: containers left: %v", detach, d.ContainerIDs())
		}
	}
}

func TestRunStartFailure(t *testing.T) {
	tests := []struct {
		name        string
		detach, rm  bool
		wantRemoved int
	}{
		{name: "attached, kept for inspection", wantRemoved: 0},
		{name: "attached --rm, removed", rm: true, wantRemoved: 1},
		{name: "detached, kept", detach: true, wantRemoved: 0},
		{name: "detached --rm, removed", detach: true, rm: true, wantRemoved: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, e := runDaemon(t, fakedocker.Container{StartError: "boom"})
			plan := basePlan()
			plan.Detach, plan.Host.AutoRemove = tc.detach, tc.rm
			var stdout bytes.Buffer

			_, err := runWithin(t, e, plan, Streams{Out: &stdout}, Hooks{})
			if want := "start container c0ffee012345: Error response from daemon: boom"; err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %s", err, want)
			}
			if n := len(d.CallsOf("ContainerRemove")); n != tc.wantRemoved {
				t.Errorf("removed %d times, want %d", n, tc.wantRemoved)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing for a container that did not start", stdout.String())
			}
		})
	}
}

func TestRunEarlyFailures(t *testing.T) {
	tests := []struct {
		name      string
		breakIt   func(*fakedocker.Daemon)
		hung      bool // the error is the hung daemon's
		wantErr   string
		wantCalls []string
	}{
		{
			name:      "create hangs",
			breakIt:   func(d *fakedocker.Daemon) { d.On("ContainerCreate", fakedocker.NoAnswer) },
			hung:      true,
			wantCalls: []string{"ContainerCreate"},
		},
		{
			// The client reads the answer to a hijack without heeding its
			// context: it is deaf to it while the daemon says nothing.
			name:      "attach hangs, deaf to its context, container removed",
			breakIt:   func(d *fakedocker.Daemon) { d.On("ContainerAttach", fakedocker.NoAnswer) },
			hung:      true,
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerRemove"},
		},
		{
			name:      "wait hangs, container removed",
			breakIt:   func(d *fakedocker.Daemon) { d.On("ContainerWait", fakedocker.NoAnswer) },
			hung:      true,
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerWait", "ContainerRemove"},
		},
		{
			name:      "create",
			breakIt:   func(d *fakedocker.Daemon) { d.On("ContainerCreate", fakedocker.Fail(500, "boom")) },
			wantErr:   "create container: Error response from daemon: boom",
			wantCalls: []string{"ContainerCreate"},
		},
		{
			name:      "attach, container removed",
			breakIt:   func(d *fakedocker.Daemon) { d.On("ContainerAttach", fakedocker.Fail(500, "boom")) },
			wantErr:   "attach to container c0ffee012345: unable to upgrade to tcp, received 500",
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerRemove"},
		},
		{
			name:      "wait, container removed",
			breakIt:   func(d *fakedocker.Daemon) { d.On("ContainerWait", fakedocker.Fail(500, "boom")) },
			wantErr:   "wait for container c0ffee012345: Error response from daemon: boom",
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerWait", "ContainerRemove"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, e := runDaemon(t, fakedocker.Container{})
			tc.breakIt(d)
			e.timeout = 100 * time.Millisecond
			want := tc.wantErr
			if tc.hung {
				want = "the Docker daemon at " + d.Host() + " did not answer within 100ms: is dockerd hung?"
			}
			_, err := runWithin(t, e, basePlan(), Streams{}, Hooks{})
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %q", err, want)
			}
			if !slices.Equal(d.Ops(), tc.wantCalls) {
				t.Errorf("calls = %v, want %v", d.Ops(), tc.wantCalls)
			}
		})
	}
}

// docker refuses -t -i when its stdin is not a terminal, and only then.
func TestRunInputNotATTY(t *testing.T) {
	tests := []struct {
		name          string
		tty, i, d     bool
		wantNotATTY   bool
		wantCreateCnt int
	}{
		{name: "-it", tty: true, i: true, wantNotATTY: true},
		{name: "-t", tty: true, wantCreateCnt: 1},
		{name: "-i", i: true, wantCreateCnt: 1},
		{name: "-dit", tty: true, i: true, d: true, wantCreateCnt: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, e := runDaemon(t, fakedocker.Container{})
			plan := basePlan()
			plan.Config.Tty, plan.Config.OpenStdin, plan.Detach = tc.tty, tc.i, tc.d
			s := Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, InIsTerm: false}

			_, err := runWithin(t, e, plan, s, Hooks{})
			if tc.wantNotATTY {
				if !errors.Is(err, ErrNotATTY) || err.Error() != "the input device is not a TTY" {
					t.Fatalf("err = %v, want %v", err, ErrNotATTY)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if n := len(d.CallsOf("ContainerCreate")); n != tc.wantCreateCnt {
				t.Errorf("created %d containers, want %d", n, tc.wantCreateCnt)
			}
		})
	}
}

// openPTY returns a pty pair and the slave's descriptor, without switching
// the slave to blocking mode as Fd would.
func openPTY(t *testing.T) (master, slave *os.File, slaveFd uintptr) {
	t.Helper()
	master, slave, err := tty.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	rc, err := slave.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { slaveFd = fd })
	return master, slave, slaveFd
}

func ttyStreams(slave *os.File, fd uintptr, out *bytes.Buffer) Streams {
	return Streams{In: slave, Out: out, Err: out, InFd: fd, InIsTerm: true}
}

func TestRunDetachKeysLeaveContainerRunning(t *testing.T) {
	master, slave, fd := openPTY(t)
	started := make(chan struct{})
	d, e := runDaemon(t, fakedocker.Container{Echo: true, DetachKeys: []byte{0x18, 'x'}, OnStart: func() { close(started) }})
	plan := basePlan()
	plan.Config.Tty, plan.Config.OpenStdin, plan.DetachKeys = true, true, "ctrl-x,x"
	var out bytes.Buffer

	go func() {
		<-started
		master.Write([]byte("ab\x18x"))
	}()
	code, err := runWithin(t, e, plan, ttyStreams(slave, fd, &out), Hooks{})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil after a detach", code, err)
	}
	if !slices.Contains(d.Ops(), "ContainerInspect") {
		t.Error("the container's state was not asked before calling it a detach")
	}
	if !created(t, d).Running() {
		t.Error("the fake container stopped: test is wrong")
	}
	if !tty.IsTerminal(fd) {
		t.Fatal("slave is no terminal")
	}
	// The terminal is back in cooked mode: it echoes again.
	master.Write([]byte("z\n"))
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8)
	n, _ := master.Read(buf)
	if !bytes.HasPrefix(buf[:n], []byte("z")) {
		t.Errorf("after Run the terminal echoes %q: raw mode not restored", buf[:n])
	}
}

// The detach keys typed just as the container exits are not a detach: the
// exit status wins.
func TestAfterStreamKeysButExited(t *testing.T) {
	d := fakedocker.New()
	d.AddContainer(&fakedocker.Container{ID: testID, State: container.StateExited}) // inspect says not running
	e := testEngine(t, d.Serve(t))
	w := newKeyWatch(strings.NewReader("\x10\x11"), defaultDetachKeys, false)
	if _, err := w.Read(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	exitC := make(chan exit, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // after the grace
		exitC <- exit{code: 3}
	}()
	code, err := e.afterStream(context.Background(), testID, exitC, w)
	if err != nil || code != 3 {
		t.Fatalf("afterStream = %d, %v; want 3, nil", code, err)
	}
}

func TestRunSignalProxy(t *testing.T) {
	t.Run("forwarded by name", func(t *testing.T) {
		d, e := runDaemon(t, fakedocker.Container{UntilSignal: true, OnStart: func() { syscall.Kill(os.Getpid(), syscall.SIGUSR1) }})
		code, err := runWithin(t, e, basePlan(), Streams{Out: &bytes.Buffer{}}, Hooks{})
		if err != nil || code != 128+10 {
			t.Fatalf("Run = %d, %v; want 138 (SIGUSR1), nil", code, err)
		}
		if sigs := created(t, d).Signals(); !slices.Equal(sigs, []string{"SIGUSR1"}) {
			t.Errorf("container got %q, want SIGUSR1", sigs)
		}
	})
	t.Run("not with --sig-proxy=false", func(t *testing.T) {
		ours := make(chan os.Signal, 1)
		signal.Notify(ours, syscall.SIGUSR1) // keeps the test process alive
		defer signal.Stop(ours)
		var d *fakedocker.Daemon
		d, e := runDaemon(t, fakedocker.Container{UntilSignal: true, OnStart: func() {
			syscall.Kill(os.Getpid(), syscall.SIGUSR1)
			<-ours
			time.Sleep(100 * time.Millisecond)
			if sigs := created(t, d).Signals(); len(sigs) > 0 {
				t.Errorf("container got %s with --sig-proxy=false", sigs)
			}
			d.Signal(testID, "SIGTERM")
		}})
		plan := basePlan()
		plan.SigProxy = false
		if code, err := runWithin(t, e, plan, Streams{Out: &bytes.Buffer{}}, Hooks{}); err != nil || code != 143 {
			t.Fatalf("Run = %d, %v; want 143, nil", code, err)
		}
	})
}

func TestRunFollowsTerminalSize(t *testing.T) {
	master, slave, fd := openPTY(t)
	if err := tty.SetSize(fd, 24, 80); err != nil {
		t.Fatal(err)
	}
	d, e := runDaemon(t, fakedocker.Container{UntilSignal: true})
	plan := basePlan()
	plan.Config.Tty, plan.Config.OpenStdin = true, true
	var out bytes.Buffer

	done := make(chan struct{})
	var sizes []container.ResizeOptions
	go func() {
		defer close(done)
		// The container exists once the first resize arrives.
		for d.Container(testID) == nil {
			time.Sleep(time.Millisecond)
		}
		c := d.Container(testID)
		sizes = append(sizes, <-c.Resized)
		if err := tty.SetSize(master.Fd(), 40, 120); err != nil {
			t.Error(err)
		}
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		sizes = append(sizes, <-c.Resized)
		d.Signal(testID, "SIGTERM")
	}()
	code, err := runWithin(t, e, plan, ttyStreams(slave, fd, &out), Hooks{})
	<-done
	if err != nil || code != 143 {
		t.Fatalf("Run = %d, %v; want 143, nil", code, err)
	}
	want := []container.ResizeOptions{{Height: 24, Width: 80}, {Height: 40, Width: 120}}
	if !slices.Equal(sizes, want) {
		t.Errorf("resizes = %+v, want %+v", sizes, want)
	}
}

// A run given up before the container started leaves nothing behind.
func TestRunContextCancelledBeforeStart(t *testing.T) {
	d, e := runDaemon(t, fakedocker.Container{})
	ctx, cancel := context.WithCancel(context.Background())
	d.On("ContainerStart", func(w http.ResponseWriter, r *http.Request) {
		cancel()
		fakedocker.NoAnswer(w, r)
	})
	_, err := e.Run(ctx, basePlan(), Streams{Out: &bytes.Buffer{}}, Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if want := "force=1&v=1"; len(d.CallsOf("ContainerRemove")) != 1 || d.CallsOf("ContainerRemove")[0].Query.Encode() != want {
		t.Errorf("removals = %v, want one with %s", d.CallsOf("ContainerRemove"), want)
	}
	if len(d.ContainerIDs()) != 0 {
		t.Errorf("containers left: %v", d.ContainerIDs())
	}
}

func TestRunContextCancelled(t *testing.T) {
	// With a terminal the run follows its size: the first resize comes
	// right after the start, so the run is cancelled while it runs.
	_, slave, fd := openPTY(t)
	if err := tty.SetSize(fd, 24, 80); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, e := runDaemon(t, fakedocker.Container{UntilSignal: true})
	d.Before("ContainerResize", func(fakedocker.Call) { cancel() })
	plan := basePlan()
	plan.Config.Tty = true
	_, err := e.Run(ctx, plan, ttyStreams(slave, fd, &bytes.Buffer{}), Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if removals := d.CallsOf("ContainerRemove"); len(removals) != 0 || !created(t, d).Running() {
		t.Errorf("a running container was removed or stopped on cancel: %v", removals)
	}
	d.Signal(testID, "SIGTERM") // let the fake end
}
