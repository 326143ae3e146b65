package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/spf13/pflag"

	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/owned"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/runflags"
)

// ExitFailed is the docker CLI's status when a subcommand on existing
// containers failed for one of them (not found, not yours, the daemon
// said no); usage errors and refusals of the subcommand stay ExitOwn.
const ExitFailed = 1

// subFlags returns a flag set for a subcommand, whose -h/--help prints
// usage and whose errors name the subcommand.
func subFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.BoolP("help", "h", false, "Print usage")
	return fs
}

// parseSub parses args into fs; when -h was given it prints usage (the
// synopsis and the flags) and returns errHelpShown.
func (a *app) parseSub(fs *pflag.FlagSet, synopsis string, args []string) error {
	if err := fs.Parse(args); err != nil {
		return refusal.Usagef("%v", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprintf(a.env.Stdout, "Usage:  userdocker %s\n\nOptions:\n%s", synopsis, runflags.FlagUsages(fs))
		return errHelpShown
	}
	return nil
}

func (a *app) engine() (*engine.Engine, error) {
	eng, err := engine.New(a.pol.DockerHost)
	if err != nil {
		return nil, err
	}
	eng.PullOnce(a.pol.Slurm.StateDir, a.debugf)
	return eng, nil
}

func (a *app) owner() owned.Caller {
	return owned.Caller{Name: a.who.Name, UID: a.who.UID}
}

// ownFilter is the daemon-side filter for the caller's containers.
func (a *app) ownFilter() filters.Args {
	return filters.NewArgs(filters.Arg("label", label.UID+"="+strconv.FormatUint(uint64(a.who.UID), 10)))
}

// mine lists the caller's containers, running or not: filtered on the
// ownership label by the daemon, and checked again here row by row.
func (a *app) mine(ctx context.Context, eng *engine.Engine) ([]owned.Container, error) {
	list, err := eng.Containers(ctx, container.ListOptions{All: true, Filters: a.ownFilter()})
	if err != nil {
		return nil, err
	}
	var out []owned.Container
	for _, c := range list {
		out = append(out, owned.Container{ID: c.ID, Names: c.Names, UID: c.Labels[label.UID]})
	}
	return owned.Mine(a.owner(), out), nil
}

// withOwn resolves arg to one of the caller's containers and calls act
// with its ID, as forEach does for one argument; a container's or a
// command's own exit status comes back as is.
func (a *app) withOwn(ctx context.Context, arg string, act func(eng *engine.Engine, id string) error) error {
	return a.forEach(ctx, []string{arg}, func(eng *engine.Engine, id, _ string) error {
		return act(eng, id)
	})
}

// exitWith turns a container's or command's exit status into the result
// of a subcommand.
func exitWith(code int, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return &StatusError{Code: code}
	}
	return nil
}

// notYours records a failed resolution as a refusal and returns it.
func (a *app) notYours(err error) error {
	a.record.Decision = audit.Refused
	a.record.Reasons = append(a.record.Reasons, err.Error())
	return err
}

// forEach resolves every argument and calls act on each of the caller's
// containers it names, going on past failures like docker: each is
// reported on its own line, and the status is ExitFailed if any failed.
// An unreachable daemon ends it at once.
func (a *app) forEach(ctx context.Context, args []string, act func(eng *engine.Engine, id, arg string) error) error {
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := a.mine(ctx, eng)
	if err != nil {
		return err
	}
	return a.eachArg(args, func(arg string) (bool, error) {
		id, err := owned.Resolve(arg, a.owner(), list)
		if err != nil {
			return true, err
		}
		a.record.Containers = append(a.record.Containers, id)
		return false, act(eng, id, arg)
	})
}

// eachArg calls do on every argument and goes on past failures like
// docker: each is reported on its own line, recorded (refused says that
// the caller was refused, as for another's container, rather than that
// the action failed), and the status is ExitFailed if any failed. An
// unreachable daemon, or a status of its own, ends it at once.
func (a *app) eachArg(args []string, do func(arg string) (refused bool, err error)) error {
	failed := false
	for _, arg := range args {
		refused, err := do(arg)
		var unreachable *engine.UnreachableError
		switch {
		case err == nil:
			continue
		case errors.As(err, &unreachable) || isStatus(err):
			return err
		case refused:
			a.notYours(err)
		default:
			a.record.Reasons = append(a.record.Reasons, err.Error())
		}
		failed = true
		fmt.Fprintf(a.env.Stderr, "userdocker: %s\n", err)
	}
	if failed {
		return &StatusError{Code: ExitFailed}
	}
	return nil
}

// streams returns the user's standard streams for an attach or exec.
func (a *app) streams() engine.Streams {
	s := engine.StdStreams()
	if a.env.Stdin != nil {
		s.In = a.env.Stdin
	}
	s.Out, s.Err = a.env.Stdout, a.env.Stderr
	return s
}
