package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"
)

// Containers lists containers as the daemon's list call does; the caller
// puts the ownership label into opts.Filters.
func (e *Engine) Containers(ctx context.Context, opts container.ListOptions) ([]container.Summary, error) {
	var list []container.Summary
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		list, err = e.api.ContainerList(ctx, opts)
		return err
	})
	return list, e.wrap(err, "list containers")
}

// Labelled lists the containers whose label key is value: in every state
// with all, else those with processes (running, paused, restarting).
// Docker's label filter matches the value exactly; the labels are
// checked again here anyway, so that a daemon that drops the filter
// cannot hand the caller other containers.
func (e *Engine) Labelled(ctx context.Context, key, value string, all bool) ([]container.Summary, error) {
	list, err := e.Containers(ctx, container.ListOptions{All: all, Filters: filters.NewArgs(filters.Arg("label", key+"="+value))})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(c container.Summary) bool { return c.Labels[key] != value }), nil
}

// Inspect returns what the daemon knows about the container id.
func (e *Engine) Inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	var resp container.InspectResponse
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		resp, err = e.api.ContainerInspect(ctx, id)
		return err
	})
	return resp, e.wrap(err, "inspect container %s", shortID(id))
}

// Stop stops the container id as docker stop does: signal (the image's
// stop signal when ""), then SIGKILL after timeout seconds (nil: the
// container's own default). The call is bounded by the grace period plus
// the engine's usual timeout, except for a negative timeout, which waits
// for as long as the container takes. Below API 1.42, which cannot carry
// the signal, the signal is sent as a kill (stopSignalled).
func (e *Engine) Stop(ctx context.Context, id, signal string, timeout *int) error {
	if signal != "" {
		d, err := e.Daemon(ctx)
		if err != nil {
			return err
		}
		if !d.StopSignalParam() {
			return e.stopSignalled(ctx, id, signal, timeout)
		}
	}
	limit := e.timeout + 10*time.Second
	if timeout != nil && *timeout > 0 {
		limit = e.timeout + time.Duration(*timeout)*time.Second
	}
	call := func(ctx context.Context) error {
		return e.api.ContainerStop(ctx, id, container.StopOptions{Signal: signal, Timeout: timeout})
	}
	var err error
	if timeout != nil && *timeout < 0 {
		err = call(ctx) // -t -1: wait as long as the container takes, as docker does
	} else {
		err = e.bounded(ctx, limit, call)
	}
	return e.wrap(err, "stop container %s", shortID(id))
}

// Kill sends signal ("" is SIGKILL) to the container id.
func (e *Engine) Kill(ctx context.Context, id, signal string) error {
	if signal == "" {
		signal = "KILL"
	}
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		return e.api.ContainerKill(ctx, id, signal)
	})
	return e.wrap(err, "kill container %s", shortID(id))
}

// Remove removes the container id; force stops a running one first.
func (e *Engine) Remove(ctx context.Context, id string, force, volumes bool) error {
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		return e.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: force, RemoveVolumes: volumes})
	})
	return e.wrap(err, "remove container %s", shortID(id))
}

// Wait blocks until the container id is not running, and returns its exit
// status. Only registering the wait is bounded; the wait itself ends with
// the container or with ctx.
func (e *Engine) Wait(ctx context.Context, id string) (int, error) {
	exitC, err := e.waitExit(ctx, id, container.WaitConditionNotRunning)
	if err != nil {
		return 0, err
	}
	select {
	case r := <-exitC:
		return r.code, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Logs copies the container's log to out and errOut, as docker logs shows
// it: one raw stream for a container with a TTY, stdout and stderr taken
// apart otherwise. With opts.Follow it runs until the container stops or
// ctx ends.
func (e *Engine) Logs(ctx context.Context, id string, tty bool, opts container.LogsOptions, out, errOut io.Writer) error {
	// Only the request is bounded: the body lives under ctx, as long as
	// the log (with -f, as long as the container) lasts.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(e.timeout, cancel)
	body, err := e.api.ContainerLogs(lctx, id, opts)
	if !timer.Stop() && ctx.Err() == nil {
		return e.noAnswer(err)
	}
	if err != nil {
		return e.wrap(err, "read the log of container %s", shortID(id))
	}
	defer body.Close()
	if tty {
		_, err = io.Copy(out, body)
	} else {
		_, err = stdcopy.StdCopy(out, errOut, body)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("read the log of container %s: %w", shortID(id), err)
	}
	return ctx.Err()
}

// InspectRaw returns the daemon's JSON about the container id, as docker
// inspect prints it.
func (e *Engine) InspectRaw(ctx context.Context, id string) ([]byte, error) {
	var raw []byte
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		_, raw, err = e.api.ContainerInspectWithRaw(ctx, id, false)
		return err
	})
	return raw, e.wrap(err, "inspect container %s", shortID(id))
}
