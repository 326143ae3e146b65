package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/cgparent"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
)

// cgroupProblem is what `config check` says when run would refuse every
// container for the daemon's cgroups (plan.CheckCgroupDriver), or for the
// host's cgroup file system.
type cgroupProblem struct{ err error }

func (p *cgroupProblem) Error() string { return p.err.Error() }

func (p *cgroupProblem) hint() string {
	return "userdocker puts a job's containers below a cgroup of its own, /userdocker/<node>/job_<id>, which only dockerd's cgroupfs driver uses: " + plan.CgroupDriverHint
}

// checkDaemonCgroups asks the configured dockerd how it makes its
// containers' cgroups, as run does before every container. A daemon that
// cannot be reached is a warning: the configuration may still be fine.
func (a *app) checkDaemonCgroups(ctx context.Context, cfg *policy.Config) (problems []error, warnings []string) {
	if a.env.CgroupRoot == "" {
		return nil, nil
	}
	sys, _ := cfg.System()
	if sys == nil {
		return nil, nil
	}
	tree, err := cgparent.Open(a.env.CgroupRoot)
	if err != nil {
		return []error{&cgroupProblem{fmt.Errorf("cgroups: %w: userdocker refuses every container", err)}}, nil
	}
	eng, err := engine.New(sys.DockerHost)
	var driver, version string
	if err == nil {
		defer eng.Close()
		driver, version, err = eng.CgroupDriver(ctx)
	}
	if err != nil {
		return nil, []string{fmt.Sprintf("dockerd's cgroup driver not checked: %v", err)}
	}
	if err := plan.CheckCgroupDriver(driver, version, tree.Version); err != nil {
		return []error{&cgroupProblem{err}}, nil
	}
	return nil, nil
}
