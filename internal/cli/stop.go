package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdStop(ctx context.Context, a *app, args []string) error {
	fs := subFlags("stop")
	signal := fs.StringP("signal", "s", "", "Signal to send to the container")
	timeout := fs.IntP("timeout", "t", 0, "Seconds to wait before killing the container")
	if err := a.parseSub(fs, "stop [OPTIONS] CONTAINER [CONTAINER...]", args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return refusal.Usagef("\"stop\" requires at least 1 argument")
	}
	var t *int
	if fs.Changed("timeout") {
		t = timeout
	}
	return a.forEach(ctx, fs.Args(), func(eng *engine.Engine, id, arg string) error {
		if err := eng.Stop(ctx, id, *signal, t); err != nil {
			return err
		}
		fmt.Fprintln(a.env.Stdout, arg)
		return nil
	})
}
