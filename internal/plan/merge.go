package plan

import (
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/userdocker/userdocker/internal/request"
)

// What a container gets from its image's configuration: the daemon fills
// in what the request leaves out (moby daemon/commit.go, merge). Environment
// variables and labels of the image are added where the request has none
// of the same name; volumes and exposed ports are added to the request's;
// health check fields the request leaves zero come from the image's. The
// helpers here compute that for the fields the checks judge; without image
// facts they return the request's own.

// envKeys are the names of the variables in env ("K=V", or "K" alone).
func envKeys(env []string) map[string]bool {
	out := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		out[k] = true
	}
	return out
}

// exposedPorts are the ports the container will expose: the request's and
// the image's, sorted.
func exposedPorts(p *request.Plan, img *Image) []nat.Port {
	var out []nat.Port
	for port := range p.Config.ExposedPorts {
		out = append(out, port)
	}
	if img != nil {
		for _, s := range img.ExposedPorts {
			if port := nat.Port(s); !slices.Contains(out, port) {
				out = append(out, port)
			}
		}
	}
	slices.Sort(out)
	return out
}

// mergedHealthcheck is the health check the container will run, and
// whether any of it came from the image.
func mergedHealthcheck(hc *container.HealthConfig, img *Image) (*container.HealthConfig, bool) {
	if img == nil || img.Healthcheck == nil {
		return hc, false
	}
	if hc == nil {
		return img.Healthcheck, true
	}
	out := *hc
	from := false
	fill := func(dst *int64, src int64) {
		if *dst == 0 && src != 0 {
			*dst, from = src, true
		}
	}
	if len(out.Test) == 0 && len(img.Healthcheck.Test) > 0 {
		out.Test, from = img.Healthcheck.Test, true
	}
	fill((*int64)(&out.Interval), int64(img.Healthcheck.Interval))
	fill((*int64)(&out.Timeout), int64(img.Healthcheck.Timeout))
	fill((*int64)(&out.StartPeriod), int64(img.Healthcheck.StartPeriod))
	retries := int64(out.Retries)
	fill(&retries, int64(img.Healthcheck.Retries))
	out.Retries = int(retries)
	return &out, from
}
