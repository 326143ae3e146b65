package cli

import (
	"context"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdExec(ctx context.Context, a *app, args []string) error {
	fs := subFlags("exec")
	fs.SetInterspersed(false) // the command's own flags are its own
	var req plan.ExecRequest
	detach := fs.BoolP("detach", "d", false, "Detached mode: run command in the background")
	fs.StringVar(&req.DetachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	fs.StringArrayVarP(&req.Env, "env", "e", nil, "Set environment variables")
	fs.BoolVarP(&req.Stdin, "interactive", "i", false, "Keep STDIN open even if not attached")
	fs.BoolVar(&req.Privileged, "privileged", false, "Not allowed: refused by name")
	fs.MarkHidden("privileged")
	fs.BoolVarP(&req.Tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fs.StringVarP(&req.User, "user", "u", "", "Username or UID: only yourself")
	fs.StringVarP(&req.WorkingDir, "workdir", "w", "", "Working directory inside the container")
	if err := a.parseSub(fs, "exec [OPTIONS] CONTAINER COMMAND [ARG...]", args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return refusal.Usagef("\"exec\" requires at least 2 arguments")
	}
	req.Cmd = fs.Args()[1:]
	opts, err := plan.Exec(req, a.pol, a.who)
	if err != nil {
		return err
	}
	return a.withOwn(ctx, fs.Arg(0), func(eng *engine.Engine, id string) error {
		d, err := eng.Daemon(ctx)
		if err != nil {
			return err
		}
		if err := plan.CheckDetachKeys(d, opts.DetachKeys); err != nil {
			return err
		}
		return exitWith(eng.Exec(ctx, id, engine.ExecOptions{Config: opts, Detach: *detach}, a.streams()))
	})
}
