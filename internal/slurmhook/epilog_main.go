package slurmhook

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/cgparent"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/policy"
)

// RunEpilog is ud-epilog: it cleans up after the job slurmd names in env
// (see Epilog), within [slurm] epilog_budget, and writes the hook's audit
// record, which lists the containers it removed. slurm.conf's Epilog=
// passes no arguments, so in production the settings come from the
// configuration file; the flags exist for tests.
func RunEpilog(ctx context.Context, args []string, env map[string]string, stderr io.Writer) error {
	return audit.Hook("ud-epilog", args, env, stderr, func(rec *audit.Record) (string, error) {
		return runEpilog(ctx, args, env, stderr, rec)
	})
}

// runEpilog cleans up after the job; it returns where the audit record
// goes.
func runEpilog(ctx context.Context, args []string, env map[string]string, stderr io.Writer, rec *audit.Record) (auditLog string, err error) {
	fs := flag.NewFlagSet("ud-epilog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", policy.DefaultPath, "userdocker configuration `file` (docker_host, [slurm] state_dir, stop_timeout, epilog_budget)")
	stateDir := fs.String("state-dir", "", "remove records from `dir` instead of the configured [slurm] state_dir")
	stopTimeout := fs.Duration("stop-timeout", 0, "give containers this long to stop instead of the configured [slurm] stop_timeout")
	budget := fs.Duration("budget", 0, "end the cleanup within this `duration` instead of the configured [slurm] epilog_budget")
	dockerHost := fs.String("docker-host", "", "talk to this Docker daemon instead of the configured docker_host")
	if err := fs.Parse(args); err != nil {
		return policy.Default().Audit.Log, err
	}
	set, cfgErr := LoadSettings(*config)
	if cfgErr != nil {
		cfgErr = fmt.Errorf("job %s: configuration does not load, so the cleanup used built-in settings: %w", env["SLURM_JOB_ID"], cfgErr)
	}
	if *stateDir != "" {
		set.StateDir = *stateDir
	}
	if *stopTimeout > 0 {
		set.StopTimeout = *stopTimeout
	}
	if *budget > 0 {
		set.EpilogBudget = *budget
	}
	if *dockerHost != "" {
		set.DockerHost = *dockerHost
	}
	eng, err := engine.New(set.DockerHost)
	if err != nil {
		return set.AuditLog, errors.Join(err, cfgErr)
	}
	defer eng.Close()
	err = Epilog(ctx, env, eng, EpilogConfig{
		StateDir: set.StateDir,
		Options: Options{StopTimeout: set.StopTimeout, Budget: set.EpilogBudget, Removed: func(id string) {
			rec.Containers = append(rec.Containers, id)
		}},
		Log:        stderr,
		CgroupRoot: alloc.DefaultCgroupRoot,
		Used: func(u cgparent.Usage) {
			if u.PeakKnown {
				rec.PeakMemoryBytes = &u.PeakMemoryBytes
			}
			if u.CPUKnown {
				secs := math.Round(u.CPU.Seconds()*1000) / 1000
				rec.CPUSeconds = &secs
			}
		},
	})
	return set.AuditLog, errors.Join(err, cfgErr)
}
