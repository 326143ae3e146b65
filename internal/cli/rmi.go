package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

// cmdRmi is `rmi [--no-prune] IMAGE...`: it removes tags of the caller's
// own image namespace (plan.JudgeRmi), as docker rmi does without
// --force. Like docker it goes on past an argument that fails, each on
// its own line, and exits ExitFailed if any did.
func cmdRmi(ctx context.Context, a *app, args []string) error {
	fs := subFlags("rmi")
	force := fs.BoolP("force", "f", false, "Not allowed: refused by name")
	fs.MarkHidden("force")
	noPrune := fs.Bool("no-prune", false, "Do not delete untagged parents")
	if err := a.parseSub(fs, "rmi [OPTIONS] local/"+a.who.Name+"/NAME[:TAG] [...]", args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return refusal.Usagef("\"rmi\" requires at least 1 argument")
	}
	if err := plan.CheckRmiForce(*force); err != nil {
		return err
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	return a.eachArg(fs.Args(), func(arg string) (bool, error) {
		ref, err := plan.JudgeRmi(a.who.Name, arg)
		if err != nil {
			return true, err
		}
		return false, a.removeTag(ctx, eng, ref, !*noPrune)
	})
}

// removeTag removes ref and prints what docker rmi prints.
func (a *app) removeTag(ctx context.Context, eng *engine.Engine, ref string, prune bool) error {
	gone, err := eng.RemoveTag(ctx, ref, prune)
	for _, g := range gone {
		if g.Untagged != "" {
			fmt.Fprintf(a.env.Stdout, "Untagged: %s\n", g.Untagged)
		}
		if g.Deleted != "" {
			fmt.Fprintf(a.env.Stdout, "Deleted: %s\n", g.Deleted)
		}
	}
	return err
}
