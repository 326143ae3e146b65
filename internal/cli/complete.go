package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/runflags"
)

// completeCommand is the hidden subcommand behind the bash completion
// (contrib/bash-completion/userdocker). It is not in help and any caller
// may use it: it tells only what that caller may already use.
const completeCommand = "__complete"

// completions are what `userdocker __complete WHAT` prints, by WHAT.
func completions() map[string]func(a *app) []string {
	return map[string]func(a *app) []string{
		"subcommands": completeSubcommands,
		"run":         completeRunFlags,
		"config":      completeConfig,
	}
}

// cmdComplete prints, one per line, what this caller may type: the
// subcommands, the run flags the policy allows (fixed ones left out), or
// for root the config subcommands.
func cmdComplete(_ context.Context, a *app, args []string) error {
	if len(args) != 1 || completions()[args[0]] == nil {
		return refusal.Usagef("usage: userdocker %s subcommands|run|config", completeCommand)
	}
	for _, s := range completions()[args[0]](a) {
		fmt.Fprintln(a.env.Stdout, s)
	}
	return nil
}

func completeSubcommands(a *app) []string {
	var out []string
	for _, c := range commands() {
		if !c.hidden && a.mayUse(c) {
			out = append(out, c.name)
		}
	}
	return out
}

func completeRunFlags(a *app) []string {
	if !slices.Contains(completeSubcommands(a), "run") {
		return nil
	}
	fixed := plan.FixedFlags(a.pol)
	var out []string
	for name := range plan.AllowedFlags(a.pol) {
		if fixed[name] != nil {
			continue
		}
		out = append(out, strings.Split(runflags.Spelling(name), "/")...)
	}
	slices.Sort(out)
	return out
}

func completeConfig(a *app) []string {
	if !a.who.Root {
		return nil
	}
	var out []string
	for _, c := range configCommands() {
		out = append(out, c.name)
	}
	return out
}
