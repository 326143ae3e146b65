package plan

import (
	"slices"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// The host namespaces a site may offer to containers of Slurm jobs
// (run.host_namespaces): the node's network, for MPI, NCCL and PMIx,
// whose peers and servers are on the node's addresses and loopback, and
// its IPC, for shared memory between the tasks of a job on one node.
// In them a container is what its user's shell on the node already is,
// and no more: same uid and groups, no capabilities, no set-uid gains
// (policy.checkHostNamespaces holds the policy to that, and
// checkNamespaces each request). docs/security-model.md has the argument.

// hostNamespace is one namespace run.host_namespaces may name, with the
// run flag that asks for it and whether a request asks.
type hostNamespace struct {
	name string // as run.host_namespaces writes it
	flag string // the run flag's canonical name
	what string // in a message: "its own <what> namespace"
	asks func(h *container.HostConfig) bool
}

var hostNamespaceFlags = []hostNamespace{
	{"network", "network", "network", func(h *container.HostConfig) bool { return h.NetworkMode.IsHost() }},
	{"ipc", "ipc", "IPC", func(h *container.HostConfig) bool { return h.IpcMode.IsHost() }},
}

// offersHostNamespace reports whether the policy offers the host's
// namespace of that name, in a policy that keeps a container in it
// within its user's own rights.
func offersHostNamespace(pol *policy.Policy, name string) bool {
	return slices.Contains(pol.Run.HostNamespaces, name) && pol.Run.EnforceUser && pol.Run.NoNewPrivileges &&
		len(pol.Run.CapAdd) == 0 && containsCap(pol.Run.CapDrop, "ALL")
}

// hostNamespaceArg reports whether the user's value for the run flag name
// asks for a host namespace that the policy offers: such a value is judged
// here and by checkNamespaces, not by run.args.
func hostNamespaceArg(pol *policy.Policy, name, value string) bool {
	for _, ns := range hostNamespaceFlags {
		if ns.flag == name && value == "host" && offersHostNamespace(pol, ns.name) {
			return true
		}
	}
	return false
}

// planHostNamespaces refuses an offered host namespace outside a job
// (where the caller may have no shell on this node), and port bindings
// with the host's network, where the container's programs listen on the
// node's ports themselves. Namespaces the policy does not offer are
// refused as before, by checkArgs and checkNamespaces.
func planHostNamespaces(req *request.Run, pol *policy.Policy, f Facts, p *request.Plan) []error {
	var errs []error
	for _, ns := range hostNamespaceFlags {
		if !ns.asks(p.Host) || !offersHostNamespace(pol, ns.name) {
			continue
		}
		if f.Job == nil {
			errs = append(errs, refusal.New("namespaces", "--%s=host is allowed only inside a Slurm job on this system: srun ... userdocker run --%s=host ...", ns.flag, ns.flag))
		}
	}
	if p.Host.NetworkMode.IsHost() && (len(p.Host.PortBindings) > 0 || p.Host.PublishAllPorts) {
		errs = append(errs, refusal.New("publish", "-p and -P do not go with --network=host: the container listens on the node's ports itself"))
	}
	return errs
}

// hostNamespaceRefusal is checkNamespaces' answer for a request that asks
// for the host's namespace ns: "" when the policy offers it and the
// caller is in a job.
func hostNamespaceRefusal(pol *policy.Policy, f Facts, ns hostNamespace) string {
	switch {
	case !offersHostNamespace(pol, ns.name):
		return "--" + ns.flag + "=host is not allowed on this system: containers get their own " + ns.what + " namespace"
	case f.Job == nil:
		return "--" + ns.flag + "=host is allowed only inside a Slurm job on this system"
	}
	return ""
}
