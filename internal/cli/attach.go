package cli

import (
	"context"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdAttach(ctx context.Context, a *app, args []string) error {
	fs := subFlags("attach")
	var o engine.AttachOptions
	fs.StringVar(&o.DetachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	fs.BoolVar(&o.NoStdin, "no-stdin", false, "Do not attach STDIN")
	fs.BoolVar(&o.SigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	if err := a.parseSub(fs, "attach [OPTIONS] CONTAINER", args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return refusal.Usagef("\"attach\" requires exactly 1 argument")
	}
	return a.withOwn(ctx, fs.Arg(0), func(eng *engine.Engine, id string) error {
		return exitWith(eng.Attach(ctx, id, o, a.streams()))
	})
}
