package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/tty"
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

func testEngine(api API) *Engine {
	e := NewWithAPI(api, "unix:///test/docker.sock")
	e.timeout = 5 * time.Second
	e.detachGrace = 10 * time.Millisecond
	return e
}

// runWithin runs e.Run and fails the test if it does not return in time.
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
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s")
		return 0, nil
	}
}

func TestRunAttached(t *testing.T) {
	tests := []struct {
		name    string
		fc      *fakeContainer
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
			fc:     &fakeContainer{stdout: "out\n", stderr: "err\n"},
			stdout: "out\n", stderr: "err\n",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:   "exit status 7 propagates",
			fc:     &fakeContainer{status: 7, stderr: "failed\n"},
			code:   7,
			stderr: "failed\n",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:   "killed container's 137 propagates",
			fc:     &fakeContainer{status: 137},
			code:   137,
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name: "tty output is copied raw, stderr included",
			fc:   &fakeContainer{tty: true, stdout: "\x01\x00\x00\x00\x00\x00\x00\x02hi", stderr: "e"},
			plan: func(p *request.Plan) { p.Config.Tty = true },
			// Bytes that look like a multiplexing header pass unchanged.
			stdout: "\x01\x00\x00\x00\x00\x00\x00\x02hie",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:    "-i pipes stdin and closes it at its end",
			fc:      &fakeContainer{echo: true, status: 3},
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
			fc:     &fakeContainer{stdout: "x"},
			plan:   func(p *request.Plan) { p.Host.AutoRemove = true },
			stdout: "x",
			cond:   container.WaitConditionRemoved,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true},
		},
		{
			name:   "detach keys go to the daemon",
			fc:     &fakeContainer{},
			plan:   func(p *request.Plan) { p.DetachKeys = "ctrl-x,x" },
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true, Stderr: true, DetachKeys: "ctrl-x,x"},
		},
		{
			name: "-a stdout leaves stderr out",
			fc:   &fakeContainer{stdout: "o", stderr: "e"},
			plan: func(p *request.Plan) { p.Config.AttachStderr = false },
			// The fake sends stderr anyway; a daemon would not.
			stdout: "o",
			cond:   container.WaitConditionNextExit,
			attach: container.AttachOptions{Stream: true, Stdout: true},
		},
		{
			name: "no attach fields from the parser: stdout and stderr, as docker",
			fc:   &fakeContainer{stdout: "o", stderr: "e"},
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
			fc := tc.fc
			api := fc.fake()
			plan := basePlan()
			if tc.plan != nil {
				tc.plan(&plan)
			}
			var stdout, stderr bytes.Buffer
			s := Streams{In: strings.NewReader(tc.stdin), Out: &stdout, Err: &stderr}

			var hooked string
			code, err := runWithin(t, testEngine(api), plan, s, Hooks{OnCreated: func(id string) error {
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
			if fc.condition != tc.cond {
				t.Errorf("wait condition = %q, want %q", fc.condition, tc.cond)
			}
			if fc.attachOpts != tc.attach {
				t.Errorf("attach options = %+v, want %+v", fc.attachOpts, tc.attach)
			}
			if fc.config.StdinOnce != tc.onceStd {
				t.Errorf("StdinOnce = %v, want %v", fc.config.StdinOnce, tc.onceStd)
			}
			if fc.name != "alice-1" || fc.config.Image != testImage {
				t.Errorf("created name, image = %q, %q; want alice-1, %s", fc.name, fc.config.Image, testImage)
			}
			if len(fc.removed) != 0 {
				t.Errorf("a container that ran was removed by the client: %+v", fc.removed)
			}
		})
	}
}

// Attach and wait must be in place before the start: otherwise the first
// output, or the exit of a quick container, can be missed.
func TestRunAttachAndWaitBeforeStart(t *testing.T) {
	fc := fakeContainer{stdout: "x"}
	api := fc.fake()
	if _, err := runWithin(t, testEngine(api), basePlan(), Streams{Out: &bytes.Buffer{}}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	calls := api.Calls()
	want := []string{"ContainerCreate", "ContainerAttach", "ContainerWait", "ContainerStart"}
	if !slices.Equal(calls, want) {
		t.Fatalf("calls = %v, want %v", calls, want)
	}
}

func TestRunDetached(t *testing.T) {
	fc := fakeContainer{}
	api := fc.fake()
	plan := basePlan()
	plan.Detach = true
	plan.Config.OpenStdin, plan.Config.AttachStdin, plan.Config.StdinOnce = true, true, true
	var stdout bytes.Buffer

	code, err := runWithin(t, testEngine(api), plan, Streams{Out: &stdout}, Hooks{})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil", code, err)
	}
	if stdout.String() != testID+"\n" {
		t.Errorf("stdout = %q, want the ID and a newline", stdout.String())
	}
	if want := []string{"ContainerCreate", "ContainerStart"}; !slices.Equal(api.Calls(), want) {
		t.Errorf("calls = %v, want %v", api.Calls(), want)
	}
	c := fc.config
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
		fc := fakeContainer{}
		api := fc.fake()
		plan := basePlan()
		plan.Detach = detach
		hookErr := errors.New("write cidfile /home/alice/cid: permission denied")

		_, err := runWithin(t, testEngine(api), plan, Streams{}, Hooks{OnCreated: func(string) error { return hookErr }})
		if !errors.Is(err, hookErr) || err.Error() != hookErr.Error() {
			t.Errorf("detach=%v: err = %v, want %v", detach, err, hookErr)
		}
		if want := []string{"ContainerCreate", "ContainerRemove"}; !slices.Equal(api.Calls(), want) {
			t.Errorf("detach=%v: calls = %v, want %v", detach, api.Calls(), want)
		}
		if want := []container.RemoveOptions{{Force: true, RemoveVolumes: true}}; !slices.Equal(fc.removed, want) {
			t.Errorf("detach=%v: removals = %+v, want %+v", detach, fc.removed, want)
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
			fc := fakeContainer{startErr: errBoom}
			api := fc.fake()
			plan := basePlan()
			plan.Detach, plan.Host.AutoRemove = tc.detach, tc.rm
			var stdout bytes.Buffer

			_, err := runWithin(t, testEngine(api), plan, Streams{Out: &stdout}, Hooks{})
			if err == nil || err.Error() != "start container c0ffee012345: boom" || !errors.Is(err, errBoom) {
				t.Fatalf("err = %v, want start container c0ffee012345: boom", err)
			}
			if len(fc.removed) != tc.wantRemoved {
				t.Errorf("removed %d times, want %d", len(fc.removed), tc.wantRemoved)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing for a container that did not start", stdout.String())
			}
		})
	}
}

func TestRunEarlyFailures(t *testing.T) {
	const hung = "the Docker daemon at unix:///test/docker.sock did not answer within 100ms: is dockerd hung?"
	never := make(chan struct{})
	defer close(never)
	tests := []struct {
		name      string
		breakIt   func(*fakeAPI)
		wantErr   string
		wantCalls []string
	}{
		{
			name: "create hangs",
			breakIt: func(f *fakeAPI) {
				f.containerCreateFunc = func(ctx context.Context, _ *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, _ string) (container.CreateResponse, error) {
					<-ctx.Done()
					return container.CreateResponse{}, ctx.Err()
				}
			},
			wantErr:   hung,
			wantCalls: []string{"ContainerCreate"},
		},
		{
			name: "attach hangs, deaf to its context, container removed",
			breakIt: func(f *fakeAPI) {
				f.containerAttachFunc = func(context.Context, string, container.AttachOptions) (types.HijackedResponse, error) {
					<-never
					return types.HijackedResponse{}, errBoom
				}
			},
			wantErr:   hung,
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerRemove"},
		},
		{
			name: "wait hangs, container removed",
			breakIt: func(f *fakeAPI) {
				f.containerWaitFunc = func(ctx context.Context, _ string, _ container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
					<-ctx.Done()
					errC := make(chan error, 1)
					errC <- ctx.Err()
					return nil, errC
				}
			},
			wantErr:   hung,
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerWait", "ContainerRemove"},
		},
		{
			name: "create",
			breakIt: func(f *fakeAPI) {
				f.containerCreateFunc = func(context.Context, *container.Config, *container.HostConfig, *network.NetworkingConfig, *ocispec.Platform, string) (container.CreateResponse, error) {
					return container.CreateResponse{}, errBoom
				}
			},
			wantErr:   "create container: boom",
			wantCalls: []string{"ContainerCreate"},
		},
		{
			name: "attach, container removed",
			breakIt: func(f *fakeAPI) {
				f.containerAttachFunc = func(context.Context, string, container.AttachOptions) (types.HijackedResponse, error) {
					return types.HijackedResponse{}, errBoom
				}
			},
			wantErr:   "attach to container c0ffee012345: boom",
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerRemove"},
		},
		{
			name: "wait, container removed",
			breakIt: func(f *fakeAPI) {
				f.containerWaitFunc = nil
			},
			wantErr:   "wait for container c0ffee012345: fake: unexpected call to ContainerWait",
			wantCalls: []string{"ContainerCreate", "ContainerAttach", "ContainerWait", "ContainerRemove"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := fakeContainer{}
			api := fc.fake()
			tc.breakIt(api)
			e := testEngine(api)
			e.timeout = 100 * time.Millisecond
			_, err := runWithin(t, e, basePlan(), Streams{}, Hooks{})
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !slices.Equal(api.Calls(), tc.wantCalls) {
				t.Errorf("calls = %v, want %v", api.Calls(), tc.wantCalls)
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
			fc := fakeContainer{tty: tc.tty}
			api := fc.fake()
			plan := basePlan()
			plan.Config.Tty, plan.Config.OpenStdin, plan.Detach = tc.tty, tc.i, tc.d
			s := Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, InIsTerm: false}

			_, err := runWithin(t, testEngine(api), plan, s, Hooks{})
			if tc.wantNotATTY {
				if !errors.Is(err, ErrNotATTY) || err.Error() != "the input device is not a TTY" {
					t.Fatalf("err = %v, want %v", err, ErrNotATTY)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if n := index(api.Calls(), "ContainerCreate") + 1; n != tc.wantCreateCnt {
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
	fc := fakeContainer{tty: true, echo: true, detachKeys: []byte{0x18, 'x'}, onStart: func() { close(started) }}
	api := fc.fake()
	api.containerResizeFunc = func(context.Context, string, container.ResizeOptions) error { return nil }
	plan := basePlan()
	plan.Config.Tty, plan.Config.OpenStdin, plan.DetachKeys = true, true, "ctrl-x,x"
	var out bytes.Buffer

	go func() {
		<-started
		master.Write([]byte("ab\x18x"))
	}()
	code, err := runWithin(t, testEngine(api), plan, ttyStreams(slave, fd, &out), Hooks{})
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil after a detach", code, err)
	}
	if index(api.Calls(), "ContainerInspect") < 0 {
		t.Error("the container's state was not asked before calling it a detach")
	}
	if !fc.running {
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
	fc := fakeContainer{}
	api := fc.fake() // inspect says not running
	e := testEngine(api)
	w := newKeyWatch(strings.NewReader("\x10\x11"), defaultDetachKeys)
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
		fc := fakeContainer{waitKill: true}
		fc.onStart = func() { syscall.Kill(os.Getpid(), syscall.SIGUSR1) }
		api := fc.fake()
		code, err := runWithin(t, testEngine(api), basePlan(), Streams{Out: &bytes.Buffer{}}, Hooks{})
		if err != nil || code != 128+10 {
			t.Fatalf("Run = %d, %v; want 138 (SIGUSR1), nil", code, err)
		}
		if sig := <-fc.killed; sig != "SIGUSR1" {
			t.Errorf("container got %q, want SIGUSR1", sig)
		}
	})
	t.Run("not with --sig-proxy=false", func(t *testing.T) {
		ours := make(chan os.Signal, 1)
		signal.Notify(ours, syscall.SIGUSR1) // keeps the test process alive
		defer signal.Stop(ours)
		fc := fakeContainer{waitKill: true}
		fc.onStart = func() {
			syscall.Kill(os.Getpid(), syscall.SIGUSR1)
			<-ours
			time.Sleep(100 * time.Millisecond)
			select {
			case sig := <-fc.killed:
				t.Errorf("container got %s with --sig-proxy=false", sig)
			default:
			}
			fc.killed <- "SIGTERM"
		}
		api := fc.fake()
		plan := basePlan()
		plan.SigProxy = false
		if code, err := runWithin(t, testEngine(api), plan, Streams{Out: &bytes.Buffer{}}, Hooks{}); err != nil || code != 143 {
			t.Fatalf("Run = %d, %v; want 143, nil", code, err)
		}
	})
}

func TestRunFollowsTerminalSize(t *testing.T) {
	master, slave, fd := openPTY(t)
	if err := tty.SetSize(fd, 24, 80); err != nil {
		t.Fatal(err)
	}
	fc := fakeContainer{tty: true, waitKill: true}
	api := fc.fake()
	plan := basePlan()
	plan.Config.Tty, plan.Config.OpenStdin = true, true
	var out bytes.Buffer

	done := make(chan struct{})
	var sizes []container.ResizeOptions
	go func() {
		defer close(done)
		sizes = append(sizes, <-fc.resized)
		if err := tty.SetSize(master.Fd(), 40, 120); err != nil {
			t.Error(err)
		}
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		sizes = append(sizes, <-fc.resized)
		fc.killed <- "SIGTERM"
	}()
	code, err := runWithin(t, testEngine(api), plan, ttyStreams(slave, fd, &out), Hooks{})
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
	fc := fakeContainer{}
	api := fc.fake()
	ctx, cancel := context.WithCancel(context.Background())
	api.containerStartFunc = func(ctx context.Context, _ string, _ container.StartOptions) error {
		cancel()
		return ctx.Err()
	}
	_, err := testEngine(api).Run(ctx, basePlan(), Streams{Out: &bytes.Buffer{}}, Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if want := []container.RemoveOptions{{Force: true, RemoveVolumes: true}}; !slices.Equal(fc.removed, want) {
		t.Errorf("removals = %+v, want %+v", fc.removed, want)
	}
}

func TestRunContextCancelled(t *testing.T) {
	fc := fakeContainer{waitKill: true}
	api := fc.fake()
	ctx, cancel := context.WithCancel(context.Background())
	fc.onStart = func() { cancel() }
	_, err := testEngine(api).Run(ctx, basePlan(), Streams{Out: &bytes.Buffer{}}, Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(fc.removed) != 0 {
		t.Errorf("a running container was removed on cancel: %+v", fc.removed)
	}
	fc.killed <- "SIGTERM" // let the fake end
}
