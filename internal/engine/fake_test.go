package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeAPI is a Docker client whose every method is a func field; a method
// whose field is nil fails the call, naming it. It records the order of calls.
type fakeAPI struct {
	mu    sync.Mutex
	calls []string

	pingFunc             func(ctx context.Context) (types.Ping, error)
	serverVersionFunc    func(ctx context.Context) (types.Version, error)
	imageInspectFunc     func(ctx context.Context, ref string) (image.InspectResponse, error)
	imagePullFunc        func(ctx context.Context, ref string, opts image.PullOptions) (io.ReadCloser, error)
	containerCreateFunc  func(ctx context.Context, cfg *container.Config, host *container.HostConfig, net *network.NetworkingConfig, platform *ocispec.Platform, name string) (container.CreateResponse, error)
	containerAttachFunc  func(ctx context.Context, id string, opts container.AttachOptions) (types.HijackedResponse, error)
	containerWaitFunc    func(ctx context.Context, id string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error)
	containerStartFunc   func(ctx context.Context, id string, opts container.StartOptions) error
	containerResizeFunc  func(ctx context.Context, id string, opts container.ResizeOptions) error
	containerKillFunc    func(ctx context.Context, id, signal string) error
	containerInspectFunc func(ctx context.Context, id string) (container.InspectResponse, error)
	containerRemoveFunc  func(ctx context.Context, id string, opts container.RemoveOptions) error

	more fakeMore // the methods of fake_more_test.go
}

var _ API = (*fakeAPI)(nil)

func (f *fakeAPI) record(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

// Calls returns the names of the methods called so far, in order.
func (f *fakeAPI) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func unexpected(name string) error { return fmt.Errorf("fake: unexpected call to %s", name) }

func (f *fakeAPI) Ping(ctx context.Context) (types.Ping, error) {
	f.record("Ping")
	if f.pingFunc == nil {
		return types.Ping{}, unexpected("Ping")
	}
	return f.pingFunc(ctx)
}

func (f *fakeAPI) ServerVersion(ctx context.Context) (types.Version, error) {
	f.record("ServerVersion")
	if f.serverVersionFunc == nil {
		return types.Version{}, unexpected("ServerVersion")
	}
	return f.serverVersionFunc(ctx)
}

func (f *fakeAPI) ImageInspect(ctx context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	f.record("ImageInspect")
	if f.imageInspectFunc == nil {
		return image.InspectResponse{}, unexpected("ImageInspect")
	}
	return f.imageInspectFunc(ctx, ref)
}

func (f *fakeAPI) ImagePull(ctx context.Context, ref string, opts image.PullOptions) (io.ReadCloser, error) {
	f.record("ImagePull")
	if f.imagePullFunc == nil {
		return nil, unexpected("ImagePull")
	}
	return f.imagePullFunc(ctx, ref, opts)
}

func (f *fakeAPI) ContainerCreate(ctx context.Context, cfg *container.Config, host *container.HostConfig, net *network.NetworkingConfig, platform *ocispec.Platform, name string) (container.CreateResponse, error) {
	f.record("ContainerCreate")
	if f.containerCreateFunc == nil {
		return container.CreateResponse{}, unexpected("ContainerCreate")
	}
	return f.containerCreateFunc(ctx, cfg, host, net, platform, name)
}

func (f *fakeAPI) ContainerAttach(ctx context.Context, id string, opts container.AttachOptions) (types.HijackedResponse, error) {
	f.record("ContainerAttach")
	if f.containerAttachFunc == nil {
		return types.HijackedResponse{}, unexpected("ContainerAttach")
	}
	return f.containerAttachFunc(ctx, id, opts)
}

func (f *fakeAPI) ContainerWait(ctx context.Context, id string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	f.record("ContainerWait")
	if f.containerWaitFunc == nil {
		errC := make(chan error, 1)
		errC <- unexpected("ContainerWait")
		return nil, errC
	}
	return f.containerWaitFunc(ctx, id, condition)
}

func (f *fakeAPI) ContainerStart(ctx context.Context, id string, opts container.StartOptions) error {
	f.record("ContainerStart")
	if f.containerStartFunc == nil {
		return unexpected("ContainerStart")
	}
	return f.containerStartFunc(ctx, id, opts)
}

func (f *fakeAPI) ContainerResize(ctx context.Context, id string, opts container.ResizeOptions) error {
	f.record("ContainerResize")
	if f.containerResizeFunc == nil {
		return unexpected("ContainerResize")
	}
	return f.containerResizeFunc(ctx, id, opts)
}

func (f *fakeAPI) ContainerKill(ctx context.Context, id, signal string) error {
	f.record("ContainerKill")
	if f.containerKillFunc == nil {
		return unexpected("ContainerKill")
	}
	return f.containerKillFunc(ctx, id, signal)
}

func (f *fakeAPI) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	f.record("ContainerInspect")
	if f.containerInspectFunc == nil {
		return container.InspectResponse{}, unexpected("ContainerInspect")
	}
	return f.containerInspectFunc(ctx, id)
}

func (f *fakeAPI) ContainerRemove(ctx context.Context, id string, opts container.RemoveOptions) error {
	f.record("ContainerRemove")
	if f.containerRemoveFunc == nil {
		return unexpected("ContainerRemove")
	}
	return f.containerRemoveFunc(ctx, id, opts)
}

// notFoundError is how the client reports a missing object: an error with a
// NotFound method.
type notFoundError struct{ what string }

func (e notFoundError) Error() string { return "No such " + e.what }
func (notFoundError) NotFound()       {}

// fakeConn is the client's end of a hijacked attach connection: it reads
// what the fake container prints and passes what it writes on as the
// container's stdin. CloseWrite ends that stdin, as a half-close does.
type fakeConn struct {
	net.Conn // unused methods; calling one panics
	out      *io.PipeReader
	stdin    *io.PipeWriter
}

func (c *fakeConn) Read(p []byte) (int, error)  { return c.out.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error) { return c.stdin.Write(p) }
func (c *fakeConn) CloseWrite() error           { return c.stdin.Close() }
func (c *fakeConn) Close() error {
	c.out.Close()
	c.stdin.Close()
	return nil
}

const testID = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

// fakeContainer plays the daemon for one container and its process. The
// process starts at ContainerStart: it prints stdout and stderr, then (when
// echo is set) copies its stdin to stdout until stdin ends, then (when
// waitKill is set) waits for a signal, and exits with status, or 128 plus
// the signal's number. As the daemon does, it ends the attach stream before
// it reports the exit. When detachKeys go by on stdin of a TTY, it ends the
// stream and keeps running.
type fakeContainer struct {
	tty            bool
	stdout, stderr string
	echo           bool
	waitKill       bool
	status         int64
	startErr       error
	detachKeys     []byte
	onStart        func() // called in ContainerStart, once the process runs

	api *fakeAPI

	mu         sync.Mutex
	config     *container.Config
	host       *container.HostConfig
	name       string
	attachOpts container.AttachOptions
	condition  container.WaitCondition
	removed    []container.RemoveOptions
	running    bool

	killed  chan string
	resized chan container.ResizeOptions
	waitC   chan container.WaitResponse
	outW    *io.PipeWriter
	stdinR  *io.PipeReader
}

func (fc *fakeContainer) fake() *fakeAPI {
	fc.killed = make(chan string, 8)
	fc.resized = make(chan container.ResizeOptions, 8)
	fc.waitC = make(chan container.WaitResponse, 1)
	fc.api = &fakeAPI{
		containerCreateFunc: func(_ context.Context, cfg *container.Config, host *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
			fc.mu.Lock()
			defer fc.mu.Unlock()
			c := *cfg
			fc.config, fc.host, fc.name = &c, host, name
			return container.CreateResponse{ID: testID}, nil
		},
		containerAttachFunc: func(_ context.Context, _ string, opts container.AttachOptions) (types.HijackedResponse, error) {
			outR, outW := io.Pipe()
			stdinR, stdinW := io.Pipe()
			fc.mu.Lock()
			fc.attachOpts, fc.outW, fc.stdinR = opts, outW, stdinR
			fc.mu.Unlock()
			return types.NewHijackedResponse(&fakeConn{out: outR, stdin: stdinW}, ""), nil
		},
		containerWaitFunc: func(_ context.Context, _ string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
			fc.mu.Lock()
			fc.condition = condition
			fc.mu.Unlock()
			return fc.waitC, make(chan error)
		},
		containerStartFunc: func(context.Context, string, container.StartOptions) error {
			if fc.startErr != nil {
				return fc.startErr
			}
			fc.mu.Lock()
			fc.running = true
			fc.mu.Unlock()
			go fc.process()
			if fc.onStart != nil {
				fc.onStart()
			}
			return nil
		},
		containerKillFunc: func(_ context.Context, _ string, signal string) error {
			fc.killed <- signal
			return nil
		},
		containerResizeFunc: func(_ context.Context, _ string, opts container.ResizeOptions) error {
			fc.resized <- opts
			return nil
		},
		containerInspectFunc: func(context.Context, string) (container.InspectResponse, error) {
			fc.mu.Lock()
			defer fc.mu.Unlock()
			return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
				ID: testID, State: &container.State{Running: fc.running},
			}}, nil
		},
		containerRemoveFunc: func(_ context.Context, _ string, opts container.RemoveOptions) error {
			fc.mu.Lock()
			defer fc.mu.Unlock()
			fc.removed = append(fc.removed, opts)
			return nil
		},
	}
	return fc.api
}

func (fc *fakeContainer) process() {
	fc.mu.Lock()
	outW, stdinR := fc.outW, fc.stdinR
	fc.mu.Unlock()
	if outW == nil { // not attached
		var outR *io.PipeReader
		outR, outW = io.Pipe()
		go io.Copy(io.Discard, outR)
		var stdinW *io.PipeWriter
		stdinR, stdinW = io.Pipe()
		stdinW.Close()
	}

	var stdout, stderr io.Writer = outW, outW
	if !fc.tty {
		stdout = stdcopy.NewStdWriter(outW, stdcopy.Stdout)
		stderr = stdcopy.NewStdWriter(outW, stdcopy.Stderr)
	}
	io.WriteString(stdout, fc.stdout)
	io.WriteString(stderr, fc.stderr)

	if fc.echo {
		var seen []byte
		buf := make([]byte, 1024)
		for {
			n, err := stdinR.Read(buf)
			seen = append(seen, buf[:n]...)
			if fc.tty && fc.detachKeys != nil && bytes.Contains(seen, fc.detachKeys) {
				outW.Close() // detached: the stream ends, the process goes on
				return
			}
			stdout.Write(buf[:n])
			if err != nil {
				break
			}
		}
	}

	status := fc.status
	if fc.waitKill {
		sig := <-fc.killed
		fc.killed <- sig // leave it for the test to see
		status = 128 + int64(signalNumber(sig))
	}
	outW.Close()
	fc.mu.Lock()
	fc.running = false
	fc.mu.Unlock()
	fc.waitC <- container.WaitResponse{StatusCode: status}
}

func signalNumber(name string) int {
	switch name {
	case "SIGUSR1":
		return 10
	case "SIGTERM":
		return 15
	}
	panic("fake: no number for signal " + name)
}

// index returns the position of the first call named name, or -1.
func index(calls []string, name string) int {
	for i, c := range calls {
		if c == name {
			return i
		}
	}
	return -1
}

var errBoom = errors.New("boom")
