package gather

import (
	"encoding/hex"
	"io"
	"path/filepath"

	"github.com/userdocker/userdocker/internal/ownmount"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// openOwn opens the sources of req's bind mounts as the caller, when the
// policy has user roots: the plan mounts those under a root from the
// open directory (see internal/ownmount). It names the run's staging
// directory, which Stage makes only if the plan stages a mount.
func (r *Run) openOwn(env Env, req *request.Run, pol *policy.Policy) {
	if len(pol.Run.Mounts.UserRoots) == 0 {
		return
	}
	var paths []string
	for _, m := range req.Mounts {
		if m.Type == request.MountBind {
			paths = append(paths, m.Source)
		}
	}
	if len(paths) == 0 {
		return
	}
	r.own = ownmount.Open(Cred(env.Who), paths)
	r.Facts.Opened = r.own.Facts
	r.Facts.StagingDir = filepath.Join(ownmount.Dir(pol.Slurm.StateDir), stagingName(env.Rand))
}

// stagingName is a new run's staging directory name.
func stagingName(r io.Reader) string {
	b := make([]byte, 12)
	if _, err := io.ReadFull(randReader(r), b); err != nil {
		panic("gather: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// StageMounts binds the directories p stages onto their staging
// directories, before the create. release lets the sweep have them once
// the container exists (or the run failed).
func (r *Run) StageMounts(p *request.Plan) (release func(), err error) {
	if len(p.Staged) == 0 {
		return func() {}, nil
	}
	return r.own.Stage(r.Policy.Slurm.StateDir, p.Staged)
}

// CheckStagedSeen checks that the daemon sees p's staging mounts (see
// ownmount.Opened.CheckSeen); known is false when it cannot tell.
func (r *Run) CheckStagedSeen(p *request.Plan) (known bool, err error) {
	return r.own.CheckSeen(r.Policy.DockerHost, p.Staged)
}
