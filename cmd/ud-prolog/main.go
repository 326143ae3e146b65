// Command ud-prolog is userdocker's Slurm Prolog. slurmd runs it as root,
// with the job in its environment, when a job's allocation starts on the
// node; it records the job's owner, GPUs, CPUs and memory for userdocker
// (internal/alloc). It exits non-zero only when it cannot write the record:
// slurmd then drains the node and requeues the job held.
//
// slurm.conf's Prolog= passes no arguments, so in production the settings
// come from the configuration file and the flags keep their defaults; the
// flags exist for tests, and only whoever writes slurm.conf (root) could
// set them.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/gpu"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/shortlived"
)

func main() {
	shortlived.Tune()
	env := alloc.EnvMap(os.Environ())
	err := audit.Hook("ud-prolog", os.Args[1:], env, os.Stderr, func(*audit.Record) (string, error) {
		return run(os.Args[1:], env, os.Stderr)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ud-prolog: %v\n", err)
		os.Exit(1)
	}
}

// run writes the job's record; it returns where the audit record goes.
func run(args []string, env map[string]string, stderr io.Writer) (auditLog string, err error) {
	fs := flag.NewFlagSet("ud-prolog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", policy.DefaultPath, "userdocker configuration `file` ([slurm] state_dir)")
	stateDir := fs.String("state-dir", "", "write records to `dir` instead of the configured [slurm] state_dir")
	gresConf := fs.String("gres-conf", gpu.GresConfPath, "Slurm's gres.conf `file`")
	cgroupRoot := fs.String("cgroup-root", alloc.DefaultCgroupRoot, "where the cgroup hierarchies are mounted")
	driverRoot := fs.String("driver-root", alloc.DefaultDriverRoot, "look for the NVIDIA driver (proc/driver/nvidia, dev/nvidiactl) under `dir`")
	if err := fs.Parse(args); err != nil {
		return policy.Default().Audit.Log, err
	}
	set, err := alloc.LoadHookSettings(*config)
	if err != nil {
		fmt.Fprintf(stderr, "ud-prolog: job %s: configuration does not load, using built-in settings: %v\n", env["SLURM_JOB_ID"], err)
	}
	if *stateDir != "" {
		set.StateDir = *stateDir
	}
	if gpu.MockNVML {
		fmt.Fprintln(stderr, "ud-prolog: built with udmocknvml: GPUs are a mock, for tests only")
	}
	return set.AuditLog, alloc.Prolog(env, alloc.PrologConfig{
		StateDir: set.StateDir, GresConf: *gresConf, CgroupRoot: *cgroupRoot, DriverRoot: *driverRoot, Log: stderr,
	})
}
