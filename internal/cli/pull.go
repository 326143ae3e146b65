package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdPull(ctx context.Context, a *app, args []string) error {
	fs := subFlags("pull")
	quiet := fs.BoolP("quiet", "q", false, "Suppress verbose output")
	allTags := fs.BoolP("all-tags", "a", false, "Not allowed: refused by name")
	fs.MarkHidden("all-tags")
	if err := a.parseSub(fs, "pull [OPTIONS] NAME[:TAG|@DIGEST]", args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return refusal.Usagef("\"pull\" requires exactly 1 argument")
	}
	ref, err := plan.JudgePull(a.pol, fs.Arg(0), *allTags)
	if err != nil {
		return err
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	var out io.Writer = a.env.Stdout
	isTerm := engine.StdStreams().OutIsTerm
	if *quiet || a.quiet {
		out, isTerm = io.Discard, false
	}
	if err := eng.Pull(ctx, ref, out, isTerm); err != nil {
		return err
	}
	if *quiet {
		fmt.Fprintln(a.env.Stdout, ref)
	}
	return nil
}
