package plan

import (
	"slices"
	"strings"

	"github.com/docker/go-connections/nat"

	"github.com/userdocker/userdocker/internal/policy"
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

// planPorts checks every final port binding against run.publish, however
// it was spelled on the command line.
func planPorts(req *request.Run, pol *policy.Policy, _ Facts, p *request.Plan) []error {
	var errs []error
	ports := make([]nat.Port, 0, len(p.Host.PortBindings))
	for port := range p.Host.PortBindings {
		ports = append(ports, port)
	}
	slices.SortFunc(ports, func(a, b nat.Port) int { return strings.Compare(string(a), string(b)) })
	for _, port := range ports {
		for _, b := range p.Host.PortBindings[port] {
			spec := CanonicalPort(port, b)
			if !matchAny(pol.Run.Publish, spec) {
				errs = append(errs, refuse("publish", "-p %s is not allowed on this system (allowed: %s)", spec, orNone(pol.Run.Publish)))
			}
		}
	}
	return errs
}

func orNone(res []string) string {
	if len(res) == 0 {
		return "none"
	}
	return strings.Join(res, " or ")
}
