package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdWait(ctx context.Context, a *app, args []string) error {
	fs := subFlags("wait")
	if err := a.parseSub(fs, "wait CONTAINER [CONTAINER...]", args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return refusal.Usagef("\"wait\" requires at least 1 argument")
	}
	return a.forEach(ctx, fs.Args(), func(eng *engine.Engine, id, _ string) error {
		code, err := eng.Wait(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.env.Stdout, code)
		return nil
	})
}
