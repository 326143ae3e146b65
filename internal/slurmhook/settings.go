package slurmhook

import (
	"errors"
	"io/fs"
	"time"

	"github.com/userdocker/userdocker/internal/policy"
)

// Settings are the configuration values ud-prolog and ud-epilog act on:
// the system-wide ones, since the hooks act for no caller.
type Settings struct {
	StateDir     string        // [slurm] state_dir
	StopTimeout  time.Duration // [slurm] stop_timeout
	EpilogBudget time.Duration // [slurm] epilog_budget
	DockerHost   string        // docker_host
	AuditLog     string        // [audit] log: where the hooks' own records go
}

// LoadSettings reads the hooks' settings from the configuration at path
// (and its conf.d drop-ins). A missing file gives the built-in defaults:
// userdocker is not configured on this node, yet the hooks are installed.
// A configuration that does not load gives the built-in defaults too, and
// the error, for the caller to weigh: the prolog logs it (a record in the
// default place harms nothing, and a failed prolog drains the node), the
// epilog cleans up with the defaults and then fails, because it cannot be
// sure it asked the right daemon.
func LoadSettings(path string) (Settings, error) {
	def := settingsOf(policy.Default())
	cfg, err := policy.Load(path, policy.Options{})
	if errors.Is(err, fs.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return def, err
	}
	p, _ := cfg.System()
	return settingsOf(p), nil
}

func settingsOf(p *policy.Policy) Settings {
	return Settings{StateDir: p.Slurm.StateDir, StopTimeout: p.Slurm.StopTimeout, EpilogBudget: p.Slurm.EpilogBudget,
		DockerHost: p.DockerHost, AuditLog: p.Audit.Log}
}
