package plan

import (
	"path"
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// ownRoot returns the run.mounts.user_roots entry that dir, a directory
// the edge opened as the caller, lies under, or "" for none. A root
// counts only when it resolved and the caller could replace no entry of
// it: a root the caller could swap for a symlink to /etc would make /etc
// "under the root".
func ownRoot(dir string, pol *policy.Policy, f Facts) string {
	for _, r := range pol.Run.Mounts.UserRoots {
		fact, ok := f.Paths[r]
		if !ok || fact.Err != nil || len(fact.Replaceable) > 0 {
			continue
		}
		if within(dir, fact.Resolved) {
			return r
		}
	}
	return ""
}

// ownMount mounts m, a bind mount of the user's, from the directory the
// edge opened for it, when that directory lies under a user root: at the
// container path the user asked for, read-only when they asked. The
// source is a staging directory the edge binds the open directory onto,
// so no rename or symlink after the check changes what is mounted. It
// reports whether it took m (with or without a refusal).
func (mp *mountPlan) ownMount(m request.Mount, pol *policy.Policy, f Facts, p *request.Plan, what string) bool {
	o, ok := f.Opened[m.Source]
	if !ok || o.Err != nil || f.StagingDir == "" || ownRoot(o.Path, pol, f) == "" {
		return false
	}
	target := path.Clean(m.Target)
	if !mp.free(target, what) {
		return true
	}
	staging := path.Join(f.StagingDir, strconv.Itoa(len(p.Staged)))
	p.Staged = append(p.Staged, request.Staged{Source: m.Source, Opened: o.Path, Staging: staging})
	mp.add(staging, target, m.ReadOnly, what)
	p.Config.Labels[label.Staging] = stagingLabel(p, f)
	return true
}

// stagingLabel is the value of label.Staging for p: the name of the
// staging directory when p stages a mount.
func stagingLabel(p *request.Plan, f Facts) string {
	if len(p.Staged) == 0 {
		return ""
	}
	return path.Base(f.StagingDir)
}

// stagedSource reports whether src is the staging directory of one of
// p's staged mounts whose directory lies under a user root.
func stagedSource(src string, p *request.Plan, pol *policy.Policy, f Facts) bool {
	for _, s := range p.Staged {
		if s.Staging == src && f.StagingDir != "" && path.Dir(src) == path.Clean(f.StagingDir) && ownRoot(s.Opened, pol, f) != "" {
			return true
		}
	}
	return false
}

// ownRefusal is the refusal of m, which the site's entries refused too,
// in terms of the user roots, when the policy has them: where the
// directory the user named really is, or why it could not be opened.
func ownRefusal(m request.Mount, pol *policy.Policy, f Facts, what string) error {
	o, ok := f.Opened[m.Source]
	if !ok || len(pol.Run.Mounts.UserRoots) == 0 {
		return nil
	}
	if o.Err != nil {
		return refusal.New("mounts", "%s: %s: %v", what, m.Source, o.Err)
	}
	var roots []string
	for _, r := range pol.Run.Mounts.UserRoots {
		if fact, ok := f.Paths[r]; ok && fact.Err == nil && len(fact.Replaceable) == 0 {
			roots = append(roots, r)
		}
	}
	where := ""
	if o.Path != path.Clean(m.Source) {
		where = " (it is " + o.Path + ")"
	}
	if len(roots) == 0 {
		return refusal.New("mounts", "%s: %s%s is not allowed: none of your own directories to mount from (run.mounts.user_roots) is usable here", what, m.Source, where)
	}
	return refusal.New("mounts", "%s: %s%s is not allowed: you may mount directories under %s (or see `userdocker run -h`)", what, m.Source, where, strings.Join(roots, ", "))
}
