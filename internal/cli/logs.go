package cli

import (
	"context"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdLogs(ctx context.Context, a *app, args []string) error {
	fs := subFlags("logs")
	var o container.LogsOptions
	fs.BoolVarP(&o.Follow, "follow", "f", false, "Follow log output")
	fs.StringVarP(&o.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	fs.BoolVarP(&o.Timestamps, "timestamps", "t", false, "Show timestamps")
	fs.StringVar(&o.Since, "since", "", "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)")
	fs.StringVar(&o.Until, "until", "", "Show logs before a timestamp or relative time")
	fs.BoolVar(&o.Details, "details", false, "Show extra details provided to logs")
	if err := a.parseSub(fs, "logs [OPTIONS] CONTAINER", args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return refusal.Usagef("\"logs\" requires exactly 1 argument")
	}
	o.ShowStdout, o.ShowStderr = true, true
	return a.withOwn(ctx, fs.Arg(0), func(eng *engine.Engine, id string) error {
		info, err := eng.Inspect(ctx, id)
		if err != nil {
			return err
		}
		tty := info.Config != nil && info.Config.Tty
		return eng.Logs(ctx, id, tty, o, a.env.Stdout, a.env.Stderr)
	})
}
