package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/tty"
)

// Streams are the user's standard streams, and what Run needs to know about
// them. The descriptors matter only for terminals: InFd is put into raw mode
// for `-t -i`, and the window size is read from OutFd (or InFd when only
// stdin is a terminal).
type Streams struct {
	In  io.Reader // nil: the container's stdin, if attached, sees end of file at once
	Out io.Writer
	Err io.Writer

	InFd, OutFd         uintptr
	InIsTerm, OutIsTerm bool
}

// StdStreams returns the process's standard streams.
func StdStreams() Streams {
	return Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InFd: os.Stdin.Fd(), OutFd: os.Stdout.Fd(),
		InIsTerm: tty.IsTerminal(os.Stdin.Fd()), OutIsTerm: tty.IsTerminal(os.Stdout.Fd()),
	}
}

// Hooks are the points of a run where the caller has work of its own.
type Hooks struct {
	// OnCreated is called with the new container's ID before the container
	// starts; the caller writes the --cidfile there, with the user's rights.
	// When it returns an error the container is removed and Run fails with
	// that error.
	OnCreated func(id string) error
}

// ErrNotATTY is Run's error for `-t -i` when stdin is not a terminal, the
// same refusal and words as the docker CLI's.
var ErrNotATTY = errors.New("the input device is not a TTY")

// Run runs plan as `docker run` does, and returns the container's exit
// status. The image must be there already (see EnsureImage). When err is not
// nil the status is meaningless: the caller reports err and exits 125.
//
// Detached (plan.Detach), Run starts the container, prints its ID on
// s.Out and returns 0. Attached, it attaches before starting and registers
// its wait before starting (so neither output nor a quick exit can be
// missed), then copies the streams until the container exits and returns
// its status; with -t the user's terminal is raw for the duration and the
// container's terminal follows the window size. When the user types the
// detach keys (a TTY with stdin only, where the daemon watches for them) the
// container is left running and Run returns 0, as docker does.
//
// With plan.SigProxy, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2
// received while the container runs are sent on to it (in TTY mode too, as
// docker 28 does: there ^C is a byte in the stream, and what still arrives
// as a signal, such as Slurm's SIGTERM at the time limit, is meant for the
// container). Run handles these signals itself; the caller should not.
//
// If anything fails before the container is started, the container is
// removed. If starting fails, it is removed when the plan asks for --rm (the
// daemon is meant to do that itself, but not every version does on a failed
// start) or when ctx has ended, and otherwise kept for inspection, as docker
// does. When ctx ends while the container runs, Run restores the terminal
// and returns ctx's error; the container goes on, and --rm still removes it
// when it exits.
func (e *Engine) Run(ctx context.Context, plan request.Plan, s Streams, h Hooks) (int, error) {
	if plan.Config == nil {
		return 0, errors.New("run: the plan has no container config")
	}
	cfg := *plan.Config
	if cfg.Image == "" {
		cfg.Image = plan.Image
	}
	if s.Out == nil {
		s.Out = io.Discard
	}
	if s.Err == nil {
		s.Err = io.Discard
	}
	setAttach(&cfg, plan.Detach)
	if !plan.Detach && cfg.Tty && cfg.AttachStdin && !s.InIsTerm {
		return 0, ErrNotATTY
	}
	daemon, err := e.Daemon(ctx)
	if err != nil {
		return 0, err
	}
	if !daemon.DetachKeys() && cfg.Tty && cfg.AttachStdin {
		// Userdocker detaches by closing the connection; with StdinOnce
		// the daemon would then close the container's stdin, ending the
		// shell. A terminal's end of input is a byte the container's
		// terminal handles, so nothing else needs StdinOnce here.
		cfg.StdinOnce = false
	}

	id, err := e.create(ctx, &cfg, plan, s.Err)
	if err != nil {
		return 0, err
	}
	if h.OnCreated != nil {
		if err := h.OnCreated(id); err != nil {
			return 0, errors.Join(err, e.remove(ctx, id))
		}
	}

	if plan.Detach {
		if err := e.start(ctx, id); err != nil {
			return 0, e.startFailed(ctx, id, plan, err)
		}
		fmt.Fprintln(s.Out, id)
		return 0, nil
	}
	return e.runAttached(ctx, id, &cfg, plan, s)
}

// setAttach sets which streams to attach, as docker run does. Detached,
// none; attached, stdin whenever -i kept it open (StdinOnce then makes the
// end of the user's input the end of the container's), and by default
// stdout and stderr.
func setAttach(cfg *container.Config, detach bool) {
	if detach {
		cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr = false, false, false
		cfg.StdinOnce = false
		return
	}
	if !cfg.AttachStdin && !cfg.AttachStdout && !cfg.AttachStderr {
		cfg.AttachStdout, cfg.AttachStderr = true, true
	}
	if cfg.OpenStdin {
		cfg.AttachStdin, cfg.StdinOnce = true, true
	}
}

func (e *Engine) create(ctx context.Context, cfg *container.Config, plan request.Plan, warn io.Writer) (string, error) {
	var resp container.CreateResponse
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		resp, err = e.api.ContainerCreate(ctx, cfg, plan.Host, plan.Network, nil, plan.Name)
		return err
	})
	if err != nil {
		return "", e.wrap(err, "create container")
	}
	for _, w := range resp.Warnings {
		fmt.Fprintln(warn, "WARNING:", w)
	}
	return resp.ID, nil
}

func (e *Engine) start(ctx context.Context, id string) error {
	err := e.bounded(ctx, startTimeout, func(ctx context.Context) error {
		return e.api.ContainerStart(ctx, id, container.StartOptions{})
	})
	if err == nil {
		return nil
	}
	return commandError(e.wrap(err, "start container %s", shortID(id)))
}

// CommandError is a start that failed because the container's command
// could not be run, with the exit status docker gives it: 127 when the
// command was not found, 126 when it could not be invoked.
type CommandError struct {
	Status int
	Err    error
}

func (e *CommandError) Error() string { return e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }

// commandError recognizes a command that could not be run. The daemon
// says so only in the text of its error (the OCI runtime's message), so
// the text is what is read, here and nowhere else.
func commandError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return &CommandError{Status: 127, Err: err}
	case strings.Contains(msg, "permission denied"):
		return &CommandError{Status: 126, Err: err}
	}
	return err
}

// startFailed returns the start error, with any error from removing the
// container, which it does when the plan asked for --rm, or when ctx ended
// (the user gave up on the run; nothing of it should stay).
func (e *Engine) startFailed(ctx context.Context, id string, plan request.Plan, startErr error) error {
	rm := plan.Host != nil && plan.Host.AutoRemove
	if !rm && ctx.Err() == nil {
		return startErr
	}
	return errors.Join(startErr, e.remove(ctx, id))
}

// remove force-removes a container and its anonymous volumes. It runs on
// the way out of a failure, so it does not give up when ctx has ended.
func (e *Engine) remove(ctx context.Context, id string) error {
	err := e.bounded(context.WithoutCancel(ctx), e.timeout, func(ctx context.Context) error {
		return e.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	})
	if err == nil || isNotFound(err) {
		return nil
	}
	return e.wrap(err, "remove container %s", shortID(id))
}

// running reports whether the container is running now.
func (e *Engine) running(ctx context.Context, id string) (bool, error) {
	var resp container.InspectResponse
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		resp, err = e.api.ContainerInspect(ctx, id)
		return err
	})
	if err != nil {
		return false, e.wrap(err, "inspect container %s", shortID(id))
	}
	return resp.ContainerJSONBase != nil && resp.State != nil && resp.State.Running, nil
}

// shortID is the 12-character form of a container ID that docker shows.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
