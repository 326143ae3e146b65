package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Who is what the policy needs to know about a caller: whom overrides
// select, and what {user}, {uid}, {gid} and {home} expand to. It is filled
// from the identity sudo established (internal/caller), never from the
// caller's environment.
type Who struct {
	User string
	UID  uint32
	GID  uint32 // primary group
	// Groups are all the caller's gids, the primary group included;
	// GroupNames their names, in the same order ("" when a gid has none).
	Groups     []uint32
	GroupNames []string
	Home       string
}

// Provenance records, for every leaf key of the schema ("run.pull",
// "gpu.max_count", …), where its effective value came from. A key with the
// zero Origin has its built-in default.
type Provenance map[string]Origin

// System returns the system-wide policy, without overrides and with
// placeholders left as written. It is what ud-prolog and ud-epilog use
// (they act for no caller) and what keys marked system-only always have.
func (c *Config) System() (*Policy, Provenance) {
	return c.merge(nil)
}

// For returns the effective policy for who, calling from inside Slurm job
// job ("" when outside any job): the system-wide values, then the
// overrides that select who (groups by priority, then gids, users, uids;
// ties in file order), then placeholders expanded. It fails when a
// placeholder has no value for this call (such as {job} outside a job) or
// when the overrides together make an impossible combination.
func (c *Config) For(who Who, job string) (*Policy, Provenance, error) {
	var selected []*override
	for _, o := range c.overrides {
		if o.matches(who) {
			selected = append(selected, o)
		}
	}
	slices.SortStableFunc(selected, applyOrder)
	p, prov := c.merge(selected)
	vars := map[string]string{
		"user": who.User,
		"uid":  strconv.FormatUint(uint64(who.UID), 10),
		"gid":  strconv.FormatUint(uint64(who.GID), 10),
		"home": who.Home,
		"job":  job,
	}
	var errs []error
	for i := range leaves {
		if leaves[i].expand {
			if err := c.expandLeaf(&leaves[i], p, prov, vars); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, comb := range combinations {
		if err := comb.check(p, prov); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return p, prov, nil
}

// merge applies the system-wide layer and then overrides, in order, to
// the built-in defaults.
func (c *Config) merge(overrides []*override) (*Policy, Provenance) {
	p := Default()
	prov := Provenance{}
	apply := func(l layer) {
		for i := range leaves {
			if s, ok := l[leaves[i].key]; ok {
				assign(leaves[i].field(p), s.val)
				prov[leaves[i].key] = s.at
			}
		}
	}
	apply(c.system)
	for _, o := range overrides {
		apply(o.values)
	}
	for i := range leaves {
		if _, ok := prov[leaves[i].key]; !ok {
			prov[leaves[i].key] = Origin{}
		}
	}
	return p, prov
}

// assign stores a decoded value into the Policy field dst points to,
// copying slices and maps so that policies never share them with the
// Config or with each other.
func assign(dst, val any) {
	switch d := dst.(type) {
	case *string:
		*d = val.(string)
	case *bool:
		*d = val.(bool)
	case *int:
		*d = val.(int)
	case *time.Duration:
		*d = val.(time.Duration)
	case *Bytes:
		*d = val.(Bytes)
	case *Limit:
		*d = val.(Limit)
	case *NanoCPUs:
		*d = val.(NanoCPUs)
	case *[]string:
		*d = slices.Clone(val.([]string))
	case *[]Pattern:
		*d = slices.Clone(val.([]Pattern))
	case *[]Flag:
		*d = slices.Clone(val.([]Flag))
	case *[]FlagArg:
		*d = slices.Clone(val.([]FlagArg))
	case *[]MountSpec:
		*d = slices.Clone(val.([]MountSpec))
	case *map[string]string:
		*d = maps.Clone(val.(map[string]string))
	case *map[string]FlagValues:
		m := make(map[string]FlagValues, len(val.(map[string]FlagValues)))
		for k, v := range val.(map[string]FlagValues) {
			v.Patterns = slices.Clone(v.Patterns)
			m[k] = v
		}
		*d = m
	default:
		panic(fmt.Sprintf("policy: no assign for %T", dst))
	}
}

// expandLeaf expands placeholders in l's field of p and checks the result
// again: a home directory with a ':' in it would make a different mount.
func (c *Config) expandLeaf(l *leaf, p *Policy, prov Provenance, vars map[string]string) error {
	ctx := &decodeCtx{expand: true, checkFlag: c.checkFlag}
	var errs []error
	// redo expands s and decodes it again in the shape the leaf's
	// decoder takes (wrap turns the string into that shape), so that the
	// typed value is made from the expanded text and checked again.
	redo := func(s string, wrap func(string) any) any {
		x, err := expand(s, vars)
		var val any
		if err != nil {
			err = fmt.Errorf("%q: %w", s, err)
		} else if v, probs := l.decode(ctx, wrap(x)); len(probs) > 0 {
			err = probs[0].err
		} else {
			val = v
		}
		if err != nil {
			errs = append(errs, errorAt(prov[l.key], l.key, err, "%s", err.Error()))
		}
		return val
	}
	asList := func(x string) any { return []any{x} }
	switch f := l.field(p).(type) {
	case *string:
		if v, ok := redo(*f, func(x string) any { return x }).(string); ok {
			*f = v
		}
	case *[]string:
		for i, x := range *f {
			if v, ok := redo(x, asList).([]string); ok {
				(*f)[i] = v[0]
			}
		}
	case *[]FlagArg:
		for i, a := range *f {
			if v, ok := redo(a.Text, asList).([]FlagArg); ok {
				(*f)[i] = v[0]
			}
		}
	case *[]MountSpec:
		for i, m := range *f {
			if v, ok := redo(m.Text, asList).([]MountSpec); ok {
				(*f)[i] = v[0]
			}
		}
	case *map[string]string:
		for _, k := range sortedKeys(*f) {
			if v, ok := redo((*f)[k], func(x string) any { return map[string]any{k: x} }).(map[string]string); ok {
				(*f)[k] = v[k]
			}
		}
	default:
		panic(fmt.Sprintf("policy: no expansion for %T", f))
	}
	return errors.Join(errs...)
}

// combinations are the checks of what no single key can decide, each
// over a whole policy and where its values were set, with the keys it
// reads: an override that sets none of them cannot change its answer.
var combinations = []struct {
	check func(*Policy, Provenance) error
	keys  []string
}{
	{checkGPUCounts, []string{"gpu.default_count", "gpu.max_count"}},
	{checkHostNamespaces, []string{"run.host_namespaces", "run.enforce_user", "run.no_new_privileges", "run.cap_drop", "run.cap_add"}},
}

// checkCombinations checks what no single key can: the system-wide policy,
// and the system-wide policy with each override alone. (Overrides that are
// fine alone can still clash for a caller they all select; For reports
// that for the caller.)
func (c *Config) checkCombinations() []error {
	var errs []error
	for _, comb := range combinations {
		if err := comb.check(c.merge(nil)); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, o := range c.overrides {
			if !slices.ContainsFunc(comb.keys, func(k string) bool { _, set := o.values[k]; return set }) {
				continue
			}
			if err := comb.check(c.merge([]*override{o})); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// checkGPUCounts refuses a default GPU count above the maximum, located at
// whichever of the two keys was set last.
func checkGPUCounts(p *Policy, prov Provenance) error {
	if p.GPU.DefaultCount <= p.GPU.MaxCount {
		return nil
	}
	def, maxAt := prov["gpu.default_count"], prov["gpu.max_count"]
	if rank(def) > rank(maxAt) {
		return errorAt(def, "gpu.default_count", nil, "%d is more than gpu.max_count = %d (%s)",
			p.GPU.DefaultCount, p.GPU.MaxCount, maxAt.from())
	}
	return errorAt(maxAt, "gpu.max_count", nil, "%d is less than gpu.default_count = %d (%s)",
		p.GPU.MaxCount, p.GPU.DefaultCount, def.from())
}

// rank orders origins by how late they apply: defaults, files, overrides.
func rank(o Origin) int {
	switch {
	case o.BuiltIn():
		return 0
	case o.Override == "":
		return 1
	}
	return 2
}
