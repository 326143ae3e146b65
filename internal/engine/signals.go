package engine

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/tty"
)

// proxiedSignals are the signals --sig-proxy sends on to the container: the
// ones a user or a batch system sends to end or poke a job. SIGCHLD,
// SIGPIPE, SIGWINCH and the Go runtime's SIGURG are ours alone.
var proxiedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2,
}

// proxySignals sends the proxied signals this process receives to the
// container, by name ("SIGTERM"), until the returned stop is called. A
// signal the daemon cannot deliver (the container is gone) is dropped.
func (e *Engine) proxySignals(ctx context.Context, id string) (stop func()) {
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, proxiedSignals...)
	done := make(chan struct{})
	// Delivery must not stop when the run's ctx ends: a signal that arrived
	// while the container ran is still meant for it.
	kctx := context.WithoutCancel(ctx)
	go func() {
		for {
			select {
			case sig := <-sigc:
				name := unix.SignalName(sig.(syscall.Signal))
				_ = e.bounded(kctx, e.timeout, func(ctx context.Context) error {
					return e.api.ContainerKill(ctx, id, name)
				})
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigc)
		close(done)
	}
}

// followSize gives the container's TTY the size of the user's terminal now
// and whenever it changes (SIGWINCH), until the returned stop is called. The
// size is read from the output terminal, or from the input one when only
// stdin is a terminal; with neither, the daemon's default size stays.
func (e *Engine) followSize(ctx context.Context, id string, s Streams) (stop func()) {
	return e.followSizeWith(ctx, s, func(ctx context.Context, o container.ResizeOptions) error {
		return e.api.ContainerResize(ctx, id, o)
	})
}

// resizeFunc sets the size of a container's or an exec's TTY.
type resizeFunc func(ctx context.Context, o container.ResizeOptions) error

// followSizeWith is followSize for any TTY that set resizes.
func (e *Engine) followSizeWith(ctx context.Context, s Streams, set resizeFunc) (stop func()) {
	fd, ok := s.OutFd, s.OutIsTerm
	if !ok {
		fd, ok = s.InFd, s.InIsTerm
	}
	if !ok {
		return func() {}
	}
	resize := func() error {
		height, width, err := tty.Size(fd)
		if err != nil || height == 0 && width == 0 {
			return nil
		}
		return e.bounded(ctx, e.timeout, func(ctx context.Context) error {
			return set(ctx, container.ResizeOptions{Height: height, Width: width})
		})
	}

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	done := make(chan struct{})
	first := resize()
	go func() {
		// A container that has just started may not take a size yet; try
		// again a few times, as docker does. A size that never takes is
		// cosmetic: the terminal works at the default size.
		for i := 1; first != nil && i <= 10; i++ {
			select {
			case <-time.After(time.Duration(i) * 10 * time.Millisecond):
				first = resize()
			case <-done:
				return
			}
		}
		for {
			select {
			case <-winch:
				_ = resize()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		close(done)
	}
}
