package slurmhook

import (
	"flag"
	"fmt"
	"io"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/gpu"
	"github.com/userdocker/userdocker/internal/policy"
)

// RunProlog is ud-prolog: it records the job slurmd names in env (see
// Prolog) and writes the hook's audit record. slurm.conf's Prolog= passes
// no arguments, so in production the settings come from the
// configuration file and the flags keep their defaults; the flags exist
// for tests, and only whoever writes slurm.conf (root) could set them.
func RunProlog(args []string, env map[string]string, stderr io.Writer) error {
	return audit.Hook("ud-prolog", args, env, stderr, func(*audit.Record) (string, error) {
		return runProlog(args, env, stderr)
	})
}

// runProlog writes the job's record; it returns where the audit record
// goes.
func runProlog(args []string, env map[string]string, stderr io.Writer) (auditLog string, err error) {
	fs := flag.NewFlagSet("ud-prolog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", policy.DefaultPath, "userdocker configuration `file` ([slurm] state_dir)")
	stateDir := fs.String("state-dir", "", "write records to `dir` instead of the configured [slurm] state_dir")
	gresConf := fs.String("gres-conf", gpu.GresConfPath, "Slurm's gres.conf `file`")
	cgroupRoot := fs.String("cgroup-root", alloc.DefaultCgroupRoot, "where the cgroup hierarchies are mounted")
	driverRoot := fs.String("driver-root", DefaultDriverRoot, "look for the NVIDIA driver (proc/driver/nvidia, dev/nvidiactl) under `dir`")
	if err := fs.Parse(args); err != nil {
		return policy.Default().Audit.Log, err
	}
	set, err := LoadSettings(*config)
	if err != nil {
		fmt.Fprintf(stderr, "ud-prolog: job %s: configuration does not load, using built-in settings: %v\n", env["SLURM_JOB_ID"], err)
	}
	if *stateDir != "" {
		set.StateDir = *stateDir
	}
	if gpu.MockNVML {
		fmt.Fprintln(stderr, "ud-prolog: built with udmocknvml: GPUs are a mock, for tests only")
	}
	return set.AuditLog, Prolog(env, PrologConfig{
		StateDir: set.StateDir, GresConf: *gresConf, CgroupRoot: *cgroupRoot, DriverRoot: *driverRoot, Log: stderr,
	})
}
