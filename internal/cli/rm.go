package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdRm(ctx context.Context, a *app, args []string) error {
	fs := subFlags("rm")
	force := fs.BoolP("force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	volumes := fs.BoolP("volumes", "v", false, "Remove anonymous volumes associated with the container")
	if err := a.parseSub(fs, "rm [OPTIONS] CONTAINER [CONTAINER...]", args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return refusal.Usagef("\"rm\" requires at least 1 argument")
	}
	err := a.forEach(ctx, fs.Args(), func(eng *engine.Engine, id, arg string) error {
		if err := eng.Remove(ctx, id, *force, *volumes); err != nil {
			return err
		}
		fmt.Fprintln(a.env.Stdout, arg)
		return nil
	})
	// The staging directories of the removed containers' own mounts.
	if eng, engErr := a.engine(); engErr == nil {
		a.sweepMounts(ctx, eng)
		eng.Close()
	}
	return err
}
