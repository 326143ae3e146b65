package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/tty"
)

// exit is how a container's wait ended: its status, or why it is not known.
type exit struct {
	code int
	err  error
}

// runAttached is Run for a container whose streams the user sees: attach,
// wait, start, copy until the end, return the status.
func (e *Engine) runAttached(ctx context.Context, id string, cfg *container.Config, plan request.Plan, s Streams) (code int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Until the container started, any failure removes it: nothing ran.
	removeOnError := true
	defer func() {
		if err != nil && removeOnError {
			err = errors.Join(err, e.remove(ctx, id))
		}
	}()

	daemon, err := e.Daemon(ctx)
	if err != nil {
		return 0, err
	}
	resp, err := e.attach(ctx, id, container.AttachOptions{
		Stream:     true,
		Stdin:      cfg.AttachStdin,
		Stdout:     cfg.AttachStdout,
		Stderr:     cfg.AttachStderr,
		DetachKeys: plan.DetachKeys,
	})
	if err != nil && daemon.StartErrorAtAttach() {
		if startErr := e.startErrorAtAttach(ctx, id, err); startErr != nil {
			removeOnError = false // the start failed: kept unless --rm, as below
			return 0, e.startFailed(ctx, id, plan, startErr)
		}
	}
	if err != nil {
		return 0, err
	}
	defer resp.Close()

	// Waiting for "next-exit" registered before the start cannot miss even a
	// container that exits at once; "removed" lets --rm finish before we
	// return, so the name is free again when the user's next command runs.
	// Where the daemon loses the status of a removed container, the wait
	// is for "next-exit", and then for the removal.
	autoRemove := plan.Host != nil && plan.Host.AutoRemove
	condition := container.WaitConditionNextExit
	if autoRemove && daemon.WaitRemovedWorks() {
		condition = container.WaitConditionRemoved
	}
	exitC, err := e.waitExit(ctx, id, condition)
	if err != nil {
		return 0, err
	}
	if autoRemove && !daemon.WaitRemovedWorks() {
		exitC = e.afterRemoval(ctx, id, exitC)
	}

	if plan.SigProxy {
		defer e.proxySignals(ctx, id)()
	}

	restore := func() {}
	if cfg.Tty && cfg.AttachStdin {
		if restore, err = tty.Raw(s.InFd); err != nil {
			return 0, err
		}
		defer restore()
	}

	in, watch := stdinFor(cfg, plan, s, !daemon.DetachKeys())
	outDone := copyOutput(resp, cfg, s, restore)
	go copyInput(resp, in)

	removeOnError = false // from here on, a container that failed is kept unless --rm, as docker does
	if err := e.start(ctx, id); err != nil {
		restore()
		return 0, e.startFailed(ctx, id, plan, err)
	}

	if cfg.Tty {
		defer e.followSize(ctx, id, s)()
	}

	select {
	case err := <-outDone:
		if err != nil && !watch.detachedHere() {
			return 0, fmt.Errorf("receive output of container %s: %w", shortID(id), err)
		}
		return e.afterStream(ctx, id, exitC, watch)
	case r := <-exitC:
		// The output of a container that exited may still be on its way.
		if cfg.AttachStdout || cfg.AttachStderr {
			select {
			case <-outDone:
			case <-ctx.Done():
			}
		}
		return r.code, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// attach opens the container's streams. Only opening them is bounded: the
// connection, once hijacked, lives as long as the container's output. ctx
// must end when the run does.
//
// The client reads the answer to a hijack request without heeding its
// context, so a daemon that accepts the request and never answers is cut off
// here, by not waiting for the call any longer.
func (e *Engine) attach(ctx context.Context, id string, opts container.AttachOptions) (types.HijackedResponse, error) {
	return e.hijack(ctx, func(ctx context.Context) (types.HijackedResponse, error) {
		return e.api.ContainerAttach(ctx, id, opts)
	}, "attach to container "+shortID(id))
}

// hijack makes a call that hijacks a connection (attach, exec start), as
// attach describes; what names the call in errors.
func (e *Engine) hijack(ctx context.Context, call func(context.Context) (types.HijackedResponse, error), what string) (types.HijackedResponse, error) {
	actx, cancel := context.WithCancel(ctx)
	done := make(chan attachResult, 1)
	go func() {
		resp, err := call(actx)
		done <- attachResult{resp, err}
	}()
	timer := time.NewTimer(e.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		// actx must outlive the call: whether the client ties the hijacked
		// connection to it is its business. It ends with ctx.
		context.AfterFunc(ctx, cancel)
		if r.err != nil {
			return types.HijackedResponse{}, e.wrap(r.err, "%s", what)
		}
		return r.resp, nil
	case <-timer.C:
		cancel()
		go closeLate(done)
		return types.HijackedResponse{}, e.noAnswer(nil)
	case <-ctx.Done():
		cancel()
		go closeLate(done)
		return types.HijackedResponse{}, ctx.Err()
	}
}

type attachResult struct {
	resp types.HijackedResponse
	err  error
}

// closeLate closes a hijacked connection that arrives after we stopped
// waiting for it.
func closeLate(done <-chan attachResult) {
	if r := <-done; r.err == nil {
		r.resp.Close()
	}
}

// waitExit registers a wait for condition and returns where its result will
// arrive. The client returns once the daemon has acknowledged the wait, which
// must be bounded; the answer itself comes whenever the container exits, and
// must not be. ctx must end when the run does.
func (e *Engine) waitExit(ctx context.Context, id string, condition container.WaitCondition) (<-chan exit, error) {
	wctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(e.timeout, cancel)
	resultC, errC := e.api.ContainerWait(wctx, id, condition)
	if !timer.Stop() {
		cancel()
		return nil, e.noAnswer(context.DeadlineExceeded)
	}
	context.AfterFunc(ctx, cancel)
	select {
	case err := <-errC:
		return nil, e.wrap(err, "wait for container %s", shortID(id))
	default:
	}

	exitC := make(chan exit, 1)
	go func() {
		select {
		case r := <-resultC:
			if r.Error != nil && r.Error.Message != "" {
				exitC <- exit{err: fmt.Errorf("wait for container %s: %s", shortID(id), r.Error.Message)}
				return
			}
			exitC <- exit{code: int(r.StatusCode)}
		case err := <-errC:
			exitC <- exit{err: e.wrap(err, "wait for container %s", shortID(id))}
		}
	}()
	return exitC, nil
}

// afterStream decides what the end of the output stream meant. Usually the
// container exited and its status is on the way. But when the user typed the
// detach keys, the daemon ended the stream and the container runs on: then,
// as docker does, the run is over and successful.
//
// The keys alone do not prove a detach (they may have been typed just as the
// container exited), and the container's state alone does not either (the
// daemon closes the streams of a container that exits a moment before it
// records the exit): so both are asked, after a short grace for the status.
func (e *Engine) afterStream(ctx context.Context, id string, exitC <-chan exit, watch *keyWatch) (int, error) {
	if watch != nil && watch.Seen() {
		select {
		case r := <-exitC:
			return r.code, r.err
		case <-time.After(e.detachGrace):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		running, err := e.running(ctx, id)
		if err != nil {
			return 0, err
		}
		if running {
			return 0, nil
		}
	}
	select {
	case r := <-exitC:
		return r.code, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// stdinFor returns what to send as the container's stdin (nil: nothing),
// and, for a TTY, a watch for the detach keys on it: our own (ours), which
// detaches, where the daemon does not act on the keys.
func stdinFor(cfg *container.Config, plan request.Plan, s Streams, ours bool) (io.Reader, *keyWatch) {
	if !cfg.AttachStdin || s.In == nil {
		return nil, nil
	}
	if !cfg.Tty {
		// The daemon looks for detach keys only on a TTY.
		return s.In, nil
	}
	seq, err := detachSequence(plan.DetachKeys)
	if err != nil {
		// The daemon refuses the attach with its own message before this
		// matters.
		return s.In, nil
	}
	w := newKeyWatch(s.In, seq, ours)
	return w, w
}

// copyOutput copies the container's output to the user until the daemon
// closes the stream, then restores the terminal at once so that whatever is
// printed next looks normal. A TTY's output is one raw stream; without a TTY
// the daemon multiplexes stdout and stderr, and stdcopy takes them apart.
func copyOutput(resp types.HijackedResponse, cfg *container.Config, s Streams, restore func()) <-chan error {
	out, errOut := io.Discard, io.Discard
	if cfg.AttachStdout {
		out = s.Out
	}
	if cfg.AttachStderr {
		errOut = s.Err
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if cfg.Tty {
			if cfg.AttachStderr {
				out = s.Out // a TTY has one stream; docker shows it on stdout
			}
			_, err = io.Copy(out, resp.Reader)
		} else {
			_, err = stdcopy.StdCopy(out, errOut, resp.Reader)
		}
		restore()
		done <- err
	}()
	return done
}

// copyInput sends the user's input to the container, then closes our
// writing half, which with StdinOnce closes the container's stdin. With no
// input it closes at once, as docker does. When our own key watch
// detached, it closes the whole connection instead, as the daemon does at
// a detach: the container's stdin stays open.
func copyInput(resp types.HijackedResponse, in io.Reader) {
	if in != nil {
		if _, err := io.Copy(resp.Conn, in); errors.Is(err, errDetached) {
			resp.Close()
			return
		}
	}
	_ = resp.CloseWrite()
}
