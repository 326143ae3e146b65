package gather

import (
	"context"
	"maps"
	"slices"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
)

// Image asks the daemon for the configuration of the image ref: what the
// checks need to know of it (plan.Image), or nil, with no error, when the
// daemon does not have it.
func Image(ctx context.Context, eng *engine.Engine, ref string) (*plan.Image, error) {
	resp, found, err := eng.InspectImage(ctx, ref)
	if err != nil || !found {
		return nil, err
	}
	return imageFacts(resp), nil
}

// imageFacts is what the checks need to know of an inspected image.
func imageFacts(resp image.InspectResponse) *plan.Image {
	img := &plan.Image{ID: resp.ID, RepoDigests: resp.RepoDigests}
	c := resp.Config
	if c == nil {
		return img
	}
	img.Labels, img.Env = c.Labels, c.Env
	img.Volumes = slices.Sorted(maps.Keys(c.Volumes))
	img.ExposedPorts = slices.Sorted(maps.Keys(c.ExposedPorts))
	if h := c.Healthcheck; h != nil {
		img.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	return img
}
