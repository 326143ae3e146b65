package policy

// ImagePatterns is one run.images value of the configuration and whom it
// is for.
type ImagePatterns struct {
	Patterns []Pattern
	// For is "" for the system-wide value (or the built-in one), else the
	// override that sets it, as provenance names it (`group "gpu"`).
	For string
	// User is the user an override for a user name selects; "" for the
	// system-wide value and every other override, which may select many.
	User string
}

// EveryImagePatterns returns every run.images value some caller could
// have: the system-wide one (the built-in empty list when no file sets
// it) and each override's. A caller's effective run.images is always one
// of them, because an override replaces the key whole. It is what load
// judges a new tag against: a tag that any of them allows is one that
// somebody may run, and so one that a load must not plant (DESIGN.md §3.8).
func (c *Config) EveryImagePatterns() []ImagePatterns {
	const key = "run.images"
	system := Default().Run.Images
	if s, ok := c.system[key]; ok {
		system = s.val.([]Pattern)
	}
	out := []ImagePatterns{{Patterns: system}}
	for _, o := range c.overrides {
		s, ok := o.values[key]
		if !ok {
			continue
		}
		p := ImagePatterns{Patterns: s.val.([]Pattern), For: o.String()}
		if o.class == byUser {
			p.User = o.name
		}
		out = append(out, p)
	}
	return out
}

// AllPatterns is every pattern of sets, in order.
func AllPatterns(sets []ImagePatterns) []Pattern {
	var out []Pattern
	for _, s := range sets {
		out = append(out, s.Patterns...)
	}
	return out
}
