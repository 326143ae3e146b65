package cli

import (
	"fmt"

	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
)

func (a *app) disks() gather.Disks {
	if a.env.Disks != nil {
		return a.env.Disks
	}
	return gather.SystemDisks{}
}

// spoolProblem is a load.spool_dir that load would refuse to use.
type spoolProblem struct {
	dir, from, why string
}

func (p *spoolProblem) Error() string {
	return fmt.Sprintf("%s: load.spool_dir: %s", p.from, p.why)
}

func (p *spoolProblem) hint() string {
	return fmt.Sprintf("let root alone write every directory on the way: install -d -m 0700 -o root -g root %s, or set load.spool_dir to such a directory", p.dir)
}

// checkSpool judges the configured load spool as load will, and warns
// when it shares a file system with what a full disk would break.
func (a *app) checkSpool(cfg *policy.Config) (problems []error, warnings []string) {
	pol, prov := cfg.System()
	dir := pol.Load.SpoolDir
	disks := a.disks()
	entries, err := disks.SpoolEntries(dir)
	why := ""
	if err != nil {
		why = err.Error()
	} else {
		why = plan.SpoolDirProblem(entries)
	}
	if why != "" {
		return []error{&spoolProblem{dir: dir, from: prov["load.spool_dir"].String(), why: why}}, nil
	}
	spoolDev, err := disks.Device(dir)
	if err != nil {
		return nil, []string{fmt.Sprintf("cannot tell which file system load.spool_dir %s is on: %v", dir, err)}
	}
	for _, other := range []struct{ what, path, breaks string }{
		{"slurm.state_dir", pol.Slurm.StateDir, "ud-prolog fails and the node drains"},
		{"Docker's data root", disks.DataRoot(), "the daemon fails"},
	} {
		if dev, err := disks.Device(other.path); err == nil && dev == spoolDev {
			warnings = append(warnings, fmt.Sprintf(
				"load.spool_dir %s shares a file system with %s %s: should it fill, %s; load.min_free (%s) is all that guards it, a file system of its own is safer",
				dir, other.what, other.path, other.breaks, pol.Load.MinFree))
		}
	}
	return nil, warnings
}
