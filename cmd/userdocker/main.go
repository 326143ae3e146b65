// Command userdocker lets users run Docker containers within the site's
// policy. Users call it through sudo; see userdocker(1).
package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/userdocker/userdocker/internal/caller"
	"github.com/userdocker/userdocker/internal/cli"
	"github.com/userdocker/userdocker/internal/policy"
)

func main() {
	// A short-lived command: collecting garbage would cost more than the
	// few megabytes it frees. The limit keeps a runaway (a huge pull
	// stream, say) from growing without bound.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(256 << 20)
	// One P: userdocker mostly waits on the daemon, and idle Ps spinning
	// for work cost a quarter of its CPU time (measured with bench/run.sh).
	runtime.GOMAXPROCS(1)
	os.Exit(cli.Main(context.Background(), cli.Env{
		Args:       os.Args[1:],
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		UID:        os.Getuid(),
		Lookup:     os.LookupEnv,
		Users:      caller.System{},
		ConfigPath: policy.DefaultPath,
		Program:    os.Args[0],
	}))
}
