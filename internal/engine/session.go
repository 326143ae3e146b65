package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/tty"
)

// ErrNotRunning is Attach's and Exec's error for a container that is not
// running, in docker's words.
var ErrNotRunning = errors.New("you cannot attach to a stopped container, start it first")

// AttachOptions are docker attach's choices.
type AttachOptions struct {
	DetachKeys string // "" is the daemon's default, ctrl-p ctrl-q
	NoStdin    bool   // --no-stdin
	SigProxy   bool   // --sig-proxy
}

// Attach attaches the user's streams to the running container id, as
// docker attach does, and returns the container's exit status when it
// exits. With a TTY and a terminal on stdin the terminal is raw and its
// size followed. When the user types the detach keys the container runs on
// and Attach returns 0.
func (e *Engine) Attach(ctx context.Context, id string, opts AttachOptions, s Streams) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	info, err := e.Inspect(ctx, id)
	if err != nil {
		return 0, err
	}
	if info.ContainerJSONBase == nil || info.State == nil || info.Config == nil {
		return 0, fmt.Errorf("inspect container %s: the daemon's answer has no state", shortID(id))
	}
	if !info.State.Running {
		return 0, ErrNotRunning
	}
	cfg := container.Config{
		Tty:          info.Config.Tty,
		AttachStdin:  info.Config.OpenStdin && !opts.NoStdin,
		AttachStdout: true,
		AttachStderr: true,
	}
	if cfg.Tty && cfg.AttachStdin && !s.InIsTerm {
		return 0, ErrNotATTY
	}
	exitC, err := e.waitExit(ctx, id, container.WaitConditionNextExit)
	if err != nil {
		return 0, err
	}
	resp, err := e.attach(ctx, id, container.AttachOptions{
		Stream: true, Stdin: cfg.AttachStdin, Stdout: true, Stderr: true, DetachKeys: opts.DetachKeys,
	})
	if err != nil {
		return 0, err
	}
	defer resp.Close()
	if opts.SigProxy && !cfg.Tty {
		defer e.proxySignals(ctx, id)()
	}
	resize := func(ctx context.Context, o container.ResizeOptions) error {
		return e.api.ContainerResize(ctx, id, o)
	}
	daemon, err := e.Daemon(ctx)
	if err != nil {
		return 0, err
	}
	watch, err := e.converse(ctx, resp, &cfg, opts.DetachKeys, !daemon.DetachKeys(), s, resize, "container "+shortID(id))
	if err != nil {
		return 0, err
	}
	return e.afterStream(ctx, id, exitC, watch)
}

// ExecOptions are what userdocker passes on from docker exec's flags; the
// caller has already fixed the user and checked the environment.
type ExecOptions struct {
	Config container.ExecOptions
	Detach bool // -d: start and return at once
}

// Exec runs a command in the running container id, as docker exec does,
// and returns the command's exit status (0 when detached).
func (e *Engine) Exec(ctx context.Context, id string, opts ExecOptions, s Streams) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := opts.Config
	c.AttachStdout, c.AttachStderr = !opts.Detach, !opts.Detach
	c.AttachStdin = c.AttachStdin && !opts.Detach
	if c.Tty && c.AttachStdin && !s.InIsTerm {
		return 0, ErrNotATTY
	}
	var created container.ExecCreateResponse
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		created, err = e.api.ContainerExecCreate(ctx, id, c)
		return err
	})
	if err != nil {
		return 0, e.wrap(err, "exec in container %s", shortID(id))
	}
	if opts.Detach {
		err := e.bounded(ctx, startTimeout, func(ctx context.Context) error {
			return e.api.ContainerExecStart(ctx, created.ID, container.ExecStartOptions{Detach: true, Tty: c.Tty})
		})
		return 0, e.wrap(err, "start exec in container %s", shortID(id))
	}
	resp, err := e.execAttach(ctx, created.ID, c.Tty)
	if err != nil {
		return 0, err
	}
	defer resp.Close()
	cfg := container.Config{Tty: c.Tty, AttachStdin: c.AttachStdin, AttachStdout: true, AttachStderr: true}
	resize := func(ctx context.Context, o container.ResizeOptions) error {
		return e.api.ContainerExecResize(ctx, created.ID, o)
	}
	// No detach of our own for an exec: whether the process outlives the
	// closed connection on Podman is not known (plan refuses --detach-keys
	// for exec there).
	if _, err := e.converse(ctx, resp, &cfg, c.DetachKeys, false, s, resize, "exec in container "+shortID(id)); err != nil {
		return 0, err
	}
	return e.execStatus(ctx, created.ID)
}

// execAttach starts an exec and hijacks its streams, bounded like attach.
func (e *Engine) execAttach(ctx context.Context, execID string, isTTY bool) (types.HijackedResponse, error) {
	return e.hijack(ctx, func(ctx context.Context) (types.HijackedResponse, error) {
		return e.api.ContainerExecAttach(ctx, execID, container.ExecAttachOptions{Tty: isTTY})
	}, "start exec "+shortID(execID))
}

// execStatus returns an ended exec's exit status. The daemon records it a
// moment after the streams close, so it is asked a few times.
func (e *Engine) execStatus(ctx context.Context, execID string) (int, error) {
	for i := 0; ; i++ {
		var info container.ExecInspect
		err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
			var err error
			info, err = e.api.ContainerExecInspect(ctx, execID)
			return err
		})
		if err != nil {
			return 0, e.wrap(err, "inspect exec %s", shortID(execID))
		}
		if !info.Running || i >= 50 {
			return info.ExitCode, nil
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// converse connects the user's streams to a hijacked attach or exec
// connection until the daemon closes its output: the terminal raw for a
// TTY with stdin, output copied out, input copied in, the size followed.
// It returns the detach-key watch (nil without a TTY on stdin); what names
// the session in errors.
func (e *Engine) converse(ctx context.Context, resp types.HijackedResponse, cfg *container.Config, detachKeys string, ownKeys bool, s Streams, resize resizeFunc, what string) (*keyWatch, error) {
	restore := func() {}
	if cfg.Tty && cfg.AttachStdin {
		var err error
		if restore, err = tty.Raw(s.InFd); err != nil {
			return nil, err
		}
		defer restore()
	}
	in, watch := stdinFor(cfg, request.Plan{DetachKeys: detachKeys}, s, ownKeys)
	outDone := copyOutput(resp, cfg, s, restore)
	go copyInput(resp, in)
	if cfg.Tty {
		defer e.followSizeWith(ctx, s, resize)()
	}
	select {
	case err := <-outDone:
		if err != nil && !watch.detachedHere() {
			return nil, fmt.Errorf("receive output of %s: %w", what, err)
		}
		return watch, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
