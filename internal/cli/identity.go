package cli

import (
	"strings"

	"github.com/userdocker/userdocker/internal/caller"
	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/request"
)

// identify establishes the caller once: from sudo's variables, checked
// against what the kernel says about this process and its parent.
func (a *app) identify() (request.Caller, error) {
	if a.identity == nil {
		p, err := caller.ReadProcess(a.env.UID, a.env.Proc)
		var who request.Caller
		if err == nil {
			who, err = caller.FromSudo(p, a.env.Lookup, a.env.Users)
		}
		a.identity = &identity{who, err}
	}
	return a.identity.who, a.identity.err
}

// refuseIdentity refuses a caller identity that does not add up. The
// audit record names the user the kernel says is calling, when it says,
// and goes where that user's records go; nothing else is done for them.
func (a *app) refuseIdentity(e *caller.IdentityError) error {
	var kernel *request.Caller
	if e.KernelUID != nil {
		if c, err := caller.ByUID(*e.KernelUID, a.env.Users); err == nil {
			kernel = &c
		}
	}
	return a.refuseEarly(e, kernel)
}

// refuseEarly refuses before the policy is loaded: the audit record names
// c, if known, and goes where c's records go.
func (a *app) refuseEarly(err error, c *request.Caller) error {
	if c != nil {
		uid := c.UID
		a.record.Caller, a.record.UID = c.Name, &uid
	}
	a.auditPolicy(c)
	return a.refuse(err)
}

// auditPolicy sets a.pol to the policy that decides where the audit
// record of a refused identity goes: kernel's, or the system-wide one
// when the kernel named no one (unless its audit.log has placeholders,
// which need a user: then the built-in default applies).
func (a *app) auditPolicy(kernel *request.Caller) {
	if err := a.loadConfig(); err != nil {
		return
	}
	if kernel != nil {
		if pol, _, err := a.cfg.For(gather.Who(*kernel), ""); err == nil {
			a.pol = pol
		}
		return
	}
	if pol, _ := a.cfg.System(); !strings.Contains(pol.Audit.Log, "{") {
		a.pol = pol
	}
}
