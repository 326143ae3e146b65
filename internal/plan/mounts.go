package plan

import (
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/mount"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// PathsToResolve lists the host paths the edge must look up for Build: the
// sources of the user's bind mounts, of every policy mount entry and the
// user roots.
func PathsToResolve(req *request.Run, pol *policy.Policy) []string {
	var out []string
	for _, group := range [][]policy.MountSpec{pol.Run.Mounts.Always, pol.Run.Mounts.Default, pol.Run.Mounts.Available} {
		for _, m := range group {
			out = append(out, m.Host)
		}
	}
	out = append(out, pol.Run.Mounts.UserRoots...)
	for _, m := range req.Mounts {
		if m.Type == request.MountBind {
			out = append(out, m.Source)
		}
	}
	return out
}

type mountPlan struct {
	mounts  []mount.Mount
	targets map[string]string // container path -> what mounted it, for messages
	errs    []error
}

func (mp *mountPlan) add(src, target string, ro bool, by string) {
	mp.targets[target] = by
	mp.mounts = append(mp.mounts, mount.Mount{Type: mount.TypeBind, Source: src, Target: target, ReadOnly: ro})
}

// planMounts builds the final bind mounts: the site's always-mounts, the
// user's requests where an available (or default) entry covers them, then
// the defaults whose container path the user did not take. Every source is
// the resolved path, and none may contain an entry the caller could swap for
// a symlink between this check and the mount.
func planMounts(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	mp := &mountPlan{targets: map[string]string{}}
	// --mount type=tmpfs adds to --tmpfs's, in a map of the plan's own.
	p.Host.Tmpfs = maps.Clone(req.Host.Tmpfs)
	for _, e := range pol.Run.Mounts.Always {
		src, err := safeSource(e.Host, f, "run.mounts.always entry "+e.Text)
		if err != nil {
			mp.errs = append(mp.errs, err)
			continue
		}
		mp.add(src, path.Clean(e.Container), e.ReadOnly, "the system (run.mounts.always)")
	}
	candidates := append(slices.Clone(pol.Run.Mounts.Available), pol.Run.Mounts.Default...)
	for _, m := range req.Mounts {
		mp.userMount(m, candidates, pol, f, p)
	}
	if !req.NoDefaultMounts {
		for _, e := range pol.Run.Mounts.Default {
			target := path.Clean(e.Container)
			if _, taken := mp.targets[target]; taken {
				continue
			}
			src, err := safeSource(e.Host, f, "default mount "+e.Host)
			if err != nil {
				p.Notes = append(p.Notes, "skipped "+err.Error())
				continue
			}
			mp.add(src, target, e.ReadOnly, "a default mount")
		}
	}
	p.Host.Binds = nil
	p.Host.Mounts = mp.mounts
	return mp.errs
}

func (mp *mountPlan) userMount(m request.Mount, candidates []policy.MountSpec, pol *policy.Policy, f Facts, p *request.Plan) {
	flag := "-v"
	if m.Flag == "mount" {
		flag = "--mount"
	}
	what := flag + " " + m.Spec
	switch m.Type {
	case request.MountBind:
	case request.MountTmpfs:
		if !AllowedFlags(pol)["tmpfs"] {
			mp.errs = append(mp.errs, refusal.New("mounts", "%s: tmpfs mounts are not allowed on this system", what))
			return
		}
		if p.Host.Tmpfs == nil {
			p.Host.Tmpfs = map[string]string{}
		}
		opts := m.Options
		if m.ReadOnly {
			opts = append(opts[:len(opts):len(opts)], "ro")
		}
		p.Host.Tmpfs[m.Target] = strings.Join(opts, ",")
		return
	case request.MountVolume:
		if m.Source == "" {
			mp.errs = append(mp.errs, refusal.New("mounts", "%s: anonymous volumes are not allowed on this system; mount a path the site allows", what))
		} else {
			mp.errs = append(mp.errs, refusal.New("mounts", "%s: named volumes are not allowed on this system; mount a path the site allows", what))
		}
		return
	default:
		mp.errs = append(mp.errs, refusal.New("mounts", "%s: this mount type is not allowed on this system", what))
		return
	}
	if len(m.Options) > 0 {
		mp.errs = append(mp.errs, refusal.New("mounts", "%s: mount option %q is not allowed on this system (only ro and rw)", what, m.Options[0]))
		return
	}
	if mp.ownMount(m, pol, f, p, what) {
		return
	}
	n := len(mp.errs)
	mp.siteMount(m, candidates, f, p, what)
	if len(mp.errs) > n {
		if err := ownRefusal(m, pol, f, what); err != nil {
			mp.errs[n] = err
		}
	}
}

// siteMount mounts m where an available (or default) entry of the site
// covers its resolved source, which no entry the caller could replace
// may lead to.
func (mp *mountPlan) siteMount(m request.Mount, candidates []policy.MountSpec, f Facts, p *request.Plan, what string) {
	src, err := safeSource(m.Source, f, what)
	if err != nil {
		mp.errs = append(mp.errs, err)
		return
	}
	target := path.Clean(m.Target)
	for _, e := range candidates {
		root, ok := f.Paths[e.Host]
		if !ok || root.Err != nil || !within(src, root.Resolved) {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(src, root.Resolved), "/")
		if !e.UserPicks() {
			if want := path.Join(e.Container, rel); target != want {
				continue
			}
		}
		if !mp.free(target, what) {
			return
		}
		ro := m.ReadOnly
		if e.ReadOnly && !ro {
			ro = true
			note := what + " mounted read-only (run.mounts entry " + e.Text + ")"
			p.Notes = append(p.Notes, note)
			p.Say = append(p.Say, note)
		}
		mp.add(src, target, ro, what)
		return
	}
	mp.errs = append(mp.errs, refusal.New("mounts", "%s: mounting %s at %s is not allowed on this system (see `userdocker run -h` for the available mounts)", what, src, target))
}

// free reports whether the user may mount at target, refusing the
// container's / and a path already taken.
func (mp *mountPlan) free(target, what string) bool {
	if target == "/" {
		mp.errs = append(mp.errs, refusal.New("mounts", "%s: cannot mount over the container's /", what))
		return false
	}
	if by, taken := mp.targets[target]; taken {
		mp.errs = append(mp.errs, refusal.New("mounts", "%s: %s is already mounted by %s", what, target, by))
		return false
	}
	return true
}

// safeSource returns the resolved host path for p, refusing paths that do
// not resolve and paths with an entry the caller could replace.
func safeSource(p string, f Facts, what string) (string, error) {
	fact, ok := f.Paths[p]
	if !ok {
		return "", refusal.New("mounts", "%s: %s was not looked up", what, p)
	}
	if fact.Err != nil {
		return "", refusal.New("mounts", "%s: %s: %v", what, p, fact.Err)
	}
	if len(fact.Replaceable) > 0 {
		return "", refusal.New("mounts", "%s: %s is not allowed: you could replace %s with a symlink before it is mounted; mount a directory the site lists", what, p, fact.Replaceable[0])
	}
	return fact.Resolved, nil
}
