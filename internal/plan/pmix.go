package plan

import (
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/mount"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// PMIx: srun --mpi=pmix starts a PMIx server in each node's slurmstepd of
// the step. Its clients (the MPI ranks) find it through PMIX_* variables
// (run.pass_env) and reach it over TCP on the node's loopback, which needs
// the host's network (--network=host), and through the server's
// directory, which holds its shared-memory data store: Slurm's pmix
// plugin makes it at <SlurmdSpoolDir>/pmix.<job>.<step>, owned by the
// job's user, mode 0700, in the root-owned spool. With run.pmix = "mount"
// a container on the host's network gets that directory, read-write, at
// the same path.

// PMIxDir is the PMIx server directory of the caller's job step: its path
// computed from trusted facts (slurm.conf's SlurmdSpoolDir for the
// record's node; the job and step from the caller's cgroup), and what is
// there.
type PMIxDir struct {
	Path string
	// Exists: there is an entry at Path (the step runs with --mpi=pmix).
	Exists bool
	// Mode and UID are the entry's own (lstat).
	Mode fs.FileMode
	UID  uint32
}

// PMIxServerTmpdir is the variable with which the PMIx server tells its
// clients its directory.
const PMIxServerTmpdir = "PMIX_SERVER_TMPDIR"

// planPMIx mounts the step's PMIx server directory into a container on
// the host's network where the site says so. It refuses nothing: without
// the directory, or with one not as Slurm makes it, the container runs
// without it, and the note says why (a PMIx client in it still reaches
// the server over the loopback, but libpmix cannot use the server's
// shared-memory data store: it prints an error and asks the server for
// everything instead, as measured with libpmix 4.2).
func planPMIx(_ *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	if pol.Run.PMIx != "mount" || f.PMIx == nil || !p.Host.NetworkMode.IsHost() {
		return nil
	}
	d := f.PMIx
	skip := func(why string) []error {
		p.Notes = append(p.Notes, "PMIx server directory "+d.Path+" not mounted: "+why)
		return nil
	}
	switch {
	case !d.Exists:
		return skip("this job step has none (srun --mpi=pmix starts a PMIx server)")
	case d.Mode&fs.ModeSymlink != 0 || !d.Mode.IsDir():
		return skip("not a directory")
	case d.UID != f.Caller.UID:
		return skip("owned by uid " + strconv.FormatUint(uint64(d.UID), 10) + ", not by you")
	}
	if env := launcherValue(f, PMIxServerTmpdir); env != "" && path.Clean(env) != d.Path {
		return skip(PMIxServerTmpdir + " names " + strings.TrimSpace(env) + ", another directory")
	}
	src, err := safeSource(d.Path, f, "PMIx server directory")
	if err != nil {
		return skip(err.Error())
	}
	p.Host.Mounts = append(p.Host.Mounts, mount.Mount{Type: mount.TypeBind, Source: src, Target: d.Path})
	return nil
}

// PMIxPaths are the host paths the edge must look up for planPMIx.
func PMIxPaths(pol *policy.Policy, d *PMIxDir) []string {
	if pol.Run.PMIx != "mount" || d == nil || !d.Exists {
		return nil
	}
	return []string{d.Path}
}

// launcherValue is the value of the launcher's variable name in f, "" when
// it has none (the last of a name wins).
func launcherValue(f Facts, name string) string {
	v := ""
	for _, kv := range f.Launcher {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}
