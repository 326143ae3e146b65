// Command ud-prolog is userdocker's Slurm Prolog. slurmd runs it as root,
// with the job in its environment, when a job's allocation starts on the
// node; it records the job's owner, GPUs, CPUs and memory for userdocker
// (internal/slurmhook). It exits non-zero only when it cannot write the
// record: slurmd then drains the node and requeues the job held.
package main

import (
	"fmt"
	"os"

	"github.com/userdocker/userdocker/internal/shortlived"
	"github.com/userdocker/userdocker/internal/slurmhook"
)

func main() {
	shortlived.Tune()
	if err := slurmhook.RunProlog(os.Args[1:], slurmhook.EnvMap(os.Environ()), os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "ud-prolog: %v\n", err)
		os.Exit(1)
	}
}
