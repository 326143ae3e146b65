package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

// What Run and the own-container subcommands do differently for a daemon
// that is not dockerd: each difference is a method of request.Daemon,
// measured on Podman 4.3.1 (docs/compatibility.md).

// improperState is Podman's 500 for a call that the container's state
// does not allow ("can only kill running containers … container state
// improper"), where dockerd answers 409 Conflict. It counts as a
// conflict, so that callers that treat "no longer running" as done (the
// epilog's kill, a kill racing an exit) read both daemons alike.
type improperState struct{ err error }

func (e *improperState) Error() string { return e.err.Error() }
func (e *improperState) Unwrap() error { return e.err }
func (e *improperState) Conflict()     {}

// asConflict marks Podman's "container state improper" as a conflict.
func asConflict(err error) error {
	if err == nil || cerrdefs.IsConflict(err) || !strings.Contains(err.Error(), "container state improper") {
		return err
	}
	return &improperState{err: err}
}

// removedPoll is how often waitGone asks whether a --rm container is gone.
const removedPoll = 50 * time.Millisecond

// waitGone returns once the container id is gone, as a wait for
// "removed" does where the daemon gets its status right: Run waits for
// "next-exit" there instead (the real exit status) and then for the
// removal the daemon does for --rm, so that the name is free when Run
// returns. It gives up after the engine's timeout, and with ctx; either is
// no error of the run (the container exited; its status is known).
func (e *Engine) waitGone(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	for {
		_, err := e.api.ContainerInspect(ctx, id)
		if err != nil && (isNotFound(err) || ctx.Err() != nil) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(removedPoll):
		}
	}
}

// afterRemoval passes on the exit from exitC once the container is gone.
func (e *Engine) afterRemoval(ctx context.Context, id string, exitC <-chan exit) <-chan exit {
	out := make(chan exit, 1)
	go func() {
		select {
		case r := <-exitC:
			if r.err == nil {
				e.waitGone(ctx, id)
			}
			out <- r
		case <-ctx.Done():
		}
	}()
	return out
}

// startErrorAtAttach finds out why an attach failed with a bare 409 on a
// daemon that runs the OCI runtime's create at attach (Podman): it asks
// for the start, whose error carries the runtime's message ("executable
// file not found", …). It returns nil when the start succeeded after all.
func (e *Engine) startErrorAtAttach(ctx context.Context, id string, attachErr error) error {
	if !strings.Contains(attachErr.Error(), "received 409") {
		return nil
	}
	return e.start(ctx, id)
}

// stopSignalled stops the container id with signal where the API version
// cannot carry a stop's signal (below 1.42, where the client drops it and
// the daemon would send the container's own stop signal): it sends
// signal, waits timeout seconds (nil: the container's own stop timeout,
// else 10; negative: for as long as it takes) for the container to end,
// then kills it, as a stop does.
func (e *Engine) stopSignalled(ctx context.Context, id, signal string, timeout *int) error {
	ctx, cancel := context.WithCancel(ctx) // ends the wait's connection
	defer cancel()
	grace := 10 * time.Second
	switch {
	case timeout != nil:
		grace = time.Duration(*timeout) * time.Second
	default:
		info, err := e.Inspect(ctx, id)
		if err != nil {
			return err
		}
		if info.Config != nil && info.Config.StopTimeout != nil {
			grace = time.Duration(*info.Config.StopTimeout) * time.Second
		}
	}
	exitC, err := e.waitExit(ctx, id, container.WaitConditionNotRunning)
	if err != nil {
		return err
	}
	if err := e.Kill(ctx, id, signal); err != nil {
		if cerrdefs.IsConflict(err) {
			return nil // not running: stopped already
		}
		return err
	}
	var expired <-chan time.Time
	if grace >= 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-exitC:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-expired:
	}
	if err := e.Kill(ctx, id, "KILL"); err != nil && !cerrdefs.IsConflict(err) {
		return err
	}
	select {
	case <-exitC:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(e.timeout):
		return e.noAnswer(errors.New("the container did not end after SIGKILL"))
	}
}
