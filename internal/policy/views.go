package policy

// Selector is whom an [[override]] entry applies to: one of Group, GID,
// User or UID, as Kind says ("group", "gid", "user", "uid").
type Selector struct {
	Kind  string
	Name  string // for "group" and "user"
	ID    uint32 // for "gid" and "uid"
	At    Origin // where the selector is written
	Label string // as messages name it: `group "gpu"`, `uid 2001`
}

// View is the policy one source of the configuration gives: the
// system-wide values, or those with one [[override]] entry applied. It is
// what `config check` lints: a value is judged in the view of the source
// that set it (Prov says which), with what it is combined with there.
// Placeholders are left as written.
type View struct {
	// Override is the entry's selector; nil for the system-wide view.
	Override *Selector
	Policy   *Policy
	Prov     Provenance
}

// Views returns the system-wide view, then one per [[override]] entry in
// file order.
func (c *Config) Views() []View {
	sys, prov := c.merge(nil)
	out := []View{{Policy: sys, Prov: prov}}
	for _, o := range c.overrides {
		p, prov := c.merge([]*override{o})
		sel := &Selector{Kind: selectorKeys[o.class], Name: o.name, ID: o.id, At: o.at, Label: o.String()}
		out = append(out, View{Override: sel, Policy: p, Prov: prov})
	}
	return out
}

// Sets reports whether the view's own source set key: the system-wide
// files for the system-wide view, the entry for an override's.
func (v View) Sets(key string) bool {
	at, ok := v.Prov[key]
	if !ok || at.BuiltIn() {
		return false
	}
	return (v.Override == nil) == (at.Override == "")
}
