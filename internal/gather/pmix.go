package gather

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/slurmhook"
)

// pmixDir finds the PMIx server directory of the caller's job step where
// Slurm's pmix plugin makes it: <SlurmdSpoolDir>/pmix.<job>.<step>, the
// spool directory from slurm.conf for the node ud-prolog recorded, the
// job and step from the caller's cgroup. Nothing the caller could set
// goes into the path. It is nil unless run.pmix is "mount" and the caller
// is in a numbered step (the batch and extern steps run no PMIx server),
// and when slurmd's spool directory is not known.
func pmixDir(pol *policy.Policy, info jobInfo, confPaths []string) *plan.PMIxDir {
	step := info.ref.Step
	if pol.Run.PMIx != "mount" || info.job == nil || step == "" || strings.Trim(step, "0123456789") != "" {
		return nil
	}
	var text []byte
	for _, p := range confPaths {
		var err error
		if text, err = os.ReadFile(p); err == nil {
			break
		}
	}
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	spool, ok := slurmhook.SlurmdSpoolDir(string(text), info.rec.Node, host)
	if !ok {
		return nil
	}
	d := &plan.PMIxDir{Path: filepath.Join(spool, "pmix."+info.rec.JobID+"."+step)}
	if fi, err := os.Lstat(d.Path); err == nil {
		d.Exists, d.Mode = true, fi.Mode()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			d.UID = st.Uid
		}
	}
	return d
}
