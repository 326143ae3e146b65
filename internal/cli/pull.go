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
	ref, err := a.judgePull(fs.Arg(0), *allTags)
	if err != nil {
		return a.refuse(err)
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

// judgePull decides, before anything is fetched, whether the caller may
// pull ref, and returns its normalized form.
func (a *app) judgePull(arg string, allTags bool) (string, error) {
	if allTags {
		return "", &refusal.Refusal{Rule: "pull", Msg: "-a/--all-tags is not allowed on this system: pull one image by its name"}
	}
	if a.pol.Run.Pull == engine.PullNever {
		return "", &refusal.Refusal{Rule: "pull", Msg: fmt.Sprintf("pull is not allowed on this system (run.pull = %q): only images already here can be run", engine.PullNever)}
	}
	named, err := plan.NormalizeImage(arg)
	if err != nil {
		return "", err
	}
	if !plan.ImageAllowed(named, a.pol.Run.Images) {
		return "", &refusal.Refusal{Rule: "image", Msg: fmt.Sprintf("image %s is not allowed on this system (see run.images): not pulled", named.String())}
	}
	return named.String(), nil
}
