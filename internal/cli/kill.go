package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdKill(ctx context.Context, a *app, args []string) error {
	fs := subFlags("kill")
	signal := fs.StringP("signal", "s", "", "Signal to send to the container (default KILL)")
	if err := a.parseSub(fs, "kill [OPTIONS] CONTAINER [CONTAINER...]", args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return refusal.Usagef("\"kill\" requires at least 1 argument")
	}
	return a.forEach(ctx, fs.Args(), func(eng *engine.Engine, id, arg string) error {
		if err := eng.Kill(ctx, id, *signal); err != nil {
			return err
		}
		fmt.Fprintln(a.env.Stdout, arg)
		return nil
	})
}
