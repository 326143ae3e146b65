// Command ud-epilog is userdocker's Slurm Epilog. slurmd runs it as root,
// with the job in its environment, when the job ends on the node; it
// deletes the job's allocation records and stops and removes every
// container labelled with the job (internal/slurmhook), within [slurm]
// epilog_budget, which must stay below slurm.conf's PrologEpilogTimeout.
// It exits non-zero only when something of the job is left, so that
// slurmd drains the node rather than hand a GPU that a container still
// holds to the next job.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/userdocker/userdocker/internal/shortlived"
	"github.com/userdocker/userdocker/internal/slurmhook"
)

func main() {
	shortlived.Tune()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := slurmhook.RunEpilog(ctx, os.Args[1:], slurmhook.EnvMap(os.Environ()), os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ud-epilog: %v\n", err)
		os.Exit(1)
	}
}
