package plan

import (
	"maps"
	"slices"

	"github.com/docker/go-connections/nat"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// CanonicalPort renders one binding as the -p spec the run.publish regexes
// are matched against: "hostIP:hostPort:containerPort", with "/udp" or
// "/sctp" appended for those protocols. An empty host IP stays empty, so
// "::80" means all interfaces.
func CanonicalPort(port nat.Port, b nat.PortBinding) string {
	s := b.HostIP + ":" + b.HostPort + ":" + port.Port()
	if proto := port.Proto(); proto != "tcp" {
		s += "/" + proto
	}
	return s
}

// planPorts checks every port binding against run.publish, however it
// was spelled on the command line; checkPublish does it again on the final
// request, with -P.
func planPorts(_ *request.Run, pol *policy.Policy, _ Facts, p *request.Plan) []error {
	var errs []error
	for _, msg := range portRefusals(p, pol) {
		errs = append(errs, &refusal.Refusal{Rule: "publish", Msg: msg, Key: "run.publish"})
	}
	return errs
}

// portRefusals judges p's port bindings against run.publish.
func portRefusals(p *request.Plan, pol *policy.Policy) []string {
	var out []string
	for _, port := range slices.Sorted(maps.Keys(p.Host.PortBindings)) {
		for _, b := range p.Host.PortBindings[port] {
			spec := CanonicalPort(port, b)
			if !policy.MatchAny(pol.Run.Publish, spec) {
				out = append(out, "-p "+spec+" is not allowed on this system (allowed: "+orNone(pol.Run.Publish)+")")
			}
		}
	}
	return out
}

// orNone says which -p bindings res allows, as a user writes them
// ("127.0.0.1::PORT"), or "none".
func orNone(res []policy.Pattern) string {
	return policy.DescribeAll(res, "PORT")
}
