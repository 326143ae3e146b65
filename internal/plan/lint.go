package plan

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"reflect"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

// Warning is what `config check` says about a valid configuration that
// does not do what its admin likely meant: a value with no effect, one
// that every run would be refused for, a regex that matches more than it
// seems to.
type Warning struct {
	At  policy.Origin // where the value is written
	Key string        // the schema key ("gpu.max_count")
	Msg string
	Fix string
}

// LintFacts are what the edge learned for Lint: which override selectors
// name no group or user of this system (by Selector.Label), and which
// host paths of mount entries (without placeholders) do not exist here.
type LintFacts struct {
	UnknownSelectors map[string]bool
	MissingPaths     map[string]bool
}

// neverAllowed are docker run flags the final checks refuse whatever value
// they take (TestNeverAllowedIsRefused tries each): listing one in
// run.args.allowed lets users pass it only to be refused.
var neverAllowed = []string{
	"privileged", "pid", "uts", "userns", "volumes-from", "link", "device-cgroup-rule",
	"cgroup-parent", "sysctl", "volume-driver", "annotation", "mac-address", "ip", "ip6",
	"link-local-ip", "storage-opt",
}

// reserveOnly are the gpu keys that only gpu.source = "reserve" reads.
var reserveOnly = []string{"gpu.default_count", "gpu.max_count", "gpu.exclusive", "gpu.max_memory_used_mib"}

// Lint judges each view of the configuration (the system-wide policy, and
// each override applied to it); a value is judged only in the view of the
// source that set it, so each warning is said once, where to fix it.
func Lint(views []policy.View, f LintFacts) []Warning {
	var out []Warning
	for _, v := range views {
		l := linter{v: v}
		l.selector(f)
		l.gpuKeys()
		l.allowed()
		l.presets("run.args.always", func(p *policy.Policy, a []policy.FlagArg) { p.Run.Args.Always = a })
		l.presets("run.args.default", func(p *policy.Policy, a []policy.FlagArg) { p.Run.Args.Default = a })
		l.anchors()
		l.mounts(f)
		out = append(out, l.out...)
	}
	slices.SortStableFunc(out, func(a, b Warning) int {
		return cmp.Or(strings.Compare(a.At.File, b.At.File), a.At.Line-b.At.Line)
	})
	return out
}

type linter struct {
	v   policy.View
	out []Warning
}

func (l *linter) warn(key, fix, format string, args ...any) {
	l.out = append(l.out, Warning{At: l.v.Prov[key], Key: key, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

func (l *linter) selector(f LintFacts) {
	s := l.v.Override
	if s == nil || !f.UnknownSelectors[s.Label] {
		return
	}
	l.out = append(l.out, Warning{At: s.At, Key: "override." + s.Kind,
		Msg: fmt.Sprintf("override %s: no such %s on this system, so it applies to no one", s.Label, map[string]string{"group": "group", "gid": "group", "user": "user", "uid": "user"}[s.Kind]),
		Fix: "check the spelling (getent " + map[string]string{"group": "group", "gid": "group", "user": "passwd", "uid": "passwd"}[s.Kind] + "), or remove the entry"})
}

func (l *linter) gpuKeys() {
	pol := l.v.Policy
	if pol.GPU.Source == "reserve" {
		return
	}
	for _, key := range reserveOnly {
		if l.v.Sets(key) {
			l.warn(key, fmt.Sprintf("remove it; with gpu.source = %q a container's GPUs are its job's (srun --gres=gpu:N)", pol.GPU.Source),
				"%s has no effect with gpu.source = %q: only \"reserve\" reads it", key, pol.GPU.Source)
		}
	}
}

func (l *linter) allowed() {
	const key = "run.args.allowed"
	if !l.v.Sets(key) {
		return
	}
	pol := l.v.Policy
	for _, f := range pol.Run.Args.Allowed {
		switch {
		case slices.Contains(neverAllowed, f.Name):
			l.warn(key, "remove "+runflags.Spelling(f.Name)+" from run.args.allowed",
				"%s is allowed, but the final checks refuse it on every run: users would only be told no", runflags.Spelling(f.Name))
		case f.Name == "cap-add" && len(pol.Run.CapAdd) == 0:
			l.warn(key, "list the capabilities users may add in run.cap_add, or remove --cap-add",
				"--cap-add is allowed, but run.cap_add is empty: every --cap-add is refused")
		case f.Name == "device" && len(pol.Run.Devices.Available) == 0:
			l.warn(key, "list the devices users may add in run.devices.available (which then needs no --device here), or remove --device",
				"--device is allowed, but run.devices.available is empty: every --device is refused")
		}
	}
}

// presets tries each flag of run.args.always (or default) alone, as the
// only thing asked of a run with every other key as the view has it,
// through Build: what Build refuses there, it refuses on every run.
func (l *linter) presets(key string, set func(*policy.Policy, []policy.FlagArg)) {
	if !l.v.Sets(key) {
		return
	}
	var list []policy.FlagArg
	if key == "run.args.always" {
		list = l.v.Policy.Run.Args.Always
	} else {
		list = l.v.Policy.Run.Args.Default
	}
	for _, a := range list {
		if strings.Contains(a.Text, "{") {
			continue // placeholders expand for a caller; judged at run time
		}
		err, same := tryPreset(l.v.Policy, a, set)
		if same {
			l.warn(key, "remove "+a.Text+" from "+key+"; userdocker.toml(5) says which key sets this",
				"%s has no effect: a run is the same without it (userdocker sets this itself, from other keys)", a.Text)
		}
		for _, r := range refusal.All(err) {
			l.warn(key, "remove "+a.Text+" from "+key+", or change the key that refuses it",
				"%s: every run would be refused: %s", a.Text, r.Msg)
		}
	}
}

// tryPreset builds a plain run of an allowed image, outside any job, by a
// plain user, with a the only preset flag: it returns Build's refusals,
// and whether the run is the same without a.
func tryPreset(pol *policy.Policy, a policy.FlagArg, set func(*policy.Policy, []policy.FlagArg)) (error, bool) {
	q := *pol
	q.Run.Args.Always, q.Run.Args.Default = nil, nil
	q.Run.Images = policy.Patterns(`^`)
	q.Run.Mounts = policy.Mounts{}
	q.Slurm.OutsideJob = "allow"
	f := Facts{Caller: request.Caller{UID: 60000, GID: 60000, Name: "user", Home: "/home/user", Groups: []uint32{60000}},
		Cgroup: &Cgroup{Parent: "/userdocker/lint/user_60000"}}
	build := func(p *policy.Policy) (*request.Plan, error) {
		req, err := runflags.Parse([]string{"lint/image"}, Layers(p))
		if err != nil {
			return nil, err
		}
		return Build(req, p, f)
	}
	without, err := build(&q)
	if err != nil {
		return nil, false // refused without a too: not a's doing
	}
	set(&q, []policy.FlagArg{a})
	with, err := build(&q)
	if err != nil {
		return err, false
	}
	return nil, reflect.DeepEqual(with, without)
}

// anchors warns of regexes that match more than they seem to: an image
// pattern without ^ matches anywhere in the reference (evil.io/x/ubuntu:
// too); a -p or value pattern without ^ and $ matches any value that
// contains it.
func (l *linter) anchors() {
	pol := l.v.Policy
	if l.v.Sets("run.images") {
		for _, p := range pol.Run.Images {
			if start, _ := anchored(p.Source); !start {
				l.warn("run.images", fmt.Sprintf("write '^%s' to match from the start of the reference", p.Source),
					"image pattern '%s' is not anchored: it also matches where it appears inside another reference", p.Source)
			}
		}
	}
	both := func(key, what string, ps []policy.Pattern) {
		for _, p := range ps {
			if start, end := anchored(p.Source); !start || !end {
				l.warn(key, fmt.Sprintf("write '^%s$' to match whole values (end it with .*$ where any rest is meant)", strings.TrimSuffix(strings.TrimPrefix(p.Source, "^"), "$")),
					"%s pattern '%s' is not anchored at both ends: it also matches any value that contains such a text", what, p.Source)
			}
		}
	}
	if l.v.Sets("run.publish") {
		both("run.publish", "-p", pol.Run.Publish)
	}
	if l.v.Sets("run.args.values") {
		for _, name := range slices.Sorted(maps.Keys(pol.Run.Args.Values)) {
			both("run.args.values", name, pol.Run.Args.Values[name].Patterns)
		}
	}
}

// anchored reports whether the regex src can only match from the start
// of a value, and only up to its end.
func anchored(src string) (start, end bool) {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return true, true // Load refused it already
	}
	re = re.Simplify()
	if re.Op == syntax.OpBeginText || re.Op == syntax.OpEndText {
		return re.Op == syntax.OpBeginText, re.Op == syntax.OpEndText
	}
	if re.Op != syntax.OpConcat || len(re.Sub) == 0 {
		return false, false
	}
	return re.Sub[0].Op == syntax.OpBeginText, re.Sub[len(re.Sub)-1].Op == syntax.OpEndText
}

// mounts warns of mount entries that can never be mounted: at a place the
// final checks refuse, or from a host path (without placeholders) that
// does not exist on this node.
func (l *linter) mounts(f LintFacts) {
	pol := l.v.Policy
	for _, list := range []struct {
		key   string
		specs []policy.MountSpec
	}{{"run.mounts.always", pol.Run.Mounts.Always}, {"run.mounts.default", pol.Run.Mounts.Default}, {"run.mounts.available", pol.Run.Mounts.Available}} {
		if !l.v.Sets(list.key) {
			continue
		}
		for _, m := range list.specs {
			if m.Container != "" {
				target := path.Clean(m.Container)
				for _, root := range nvidiaDeviceLists {
					if target == root || strings.HasPrefix(target, root+"/") {
						l.warn(list.key, "mount it elsewhere in the container", "%s: mounting at %s is always refused: the NVIDIA hook takes device requests from there", m.Text, target)
					}
				}
			}
			if f.MissingPaths[m.Host] {
				l.warn(list.key, "create "+m.Host+" on every node, or remove the entry", "%s: %s does not exist on this node, so it cannot be mounted here", m.Text, m.Host)
			}
		}
	}
}
