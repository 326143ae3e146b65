// Command ud-epilog is userdocker's Slurm Epilog. slurmd runs it as root,
// with the job in its environment, when the job ends on the node; it
// deletes the job's allocation records and stops and removes every
// container labelled with the job (internal/jobclean), within [slurm]
// epilog_budget, which must stay below slurm.conf's PrologEpilogTimeout.
// It exits non-zero
// only when something of the job is left, so that slurmd drains the node
// rather than hand a GPU that a container still holds to the next job.
//
// slurm.conf's Epilog= passes no arguments, so in production the settings
// come from the configuration file; the flags exist for tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/docker/docker/client"

	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/jobclean"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/shortlived"
	"github.com/userdocker/userdocker/internal/slurmhook"
)

func main() {
	shortlived.Tune()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := slurmhook.EnvMap(os.Environ())
	err := audit.Hook("ud-epilog", os.Args[1:], env, os.Stderr, func(rec *audit.Record) (string, error) {
		return run(ctx, os.Args[1:], env, os.Stderr, rec)
	})
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ud-epilog: %v\n", err)
		os.Exit(1)
	}
}

// run cleans up after the job; it returns where the audit record goes.
func run(ctx context.Context, args []string, env map[string]string, stderr io.Writer, rec *audit.Record) (auditLog string, err error) {
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
	set, cfgErr := slurmhook.LoadSettings(*config)
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
	docker, err := client.NewClientWithOpts(client.WithHost(set.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return set.AuditLog, errors.Join(fmt.Errorf("docker client for %s: %w", set.DockerHost, err), cfgErr)
	}
	defer docker.Close()
	err = jobclean.Epilog(ctx, env, docker, jobclean.EpilogConfig{
		StateDir: set.StateDir,
		Options: jobclean.Options{StopTimeout: set.StopTimeout, Budget: set.EpilogBudget, Removed: func(id string) {
			rec.Containers = append(rec.Containers, id)
		}},
		Log: stderr,
	})
	return set.AuditLog, errors.Join(err, cfgErr)
}
