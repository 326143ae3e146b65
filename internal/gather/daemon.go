package gather

import (
	"context"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/request"
)

// Daemon finds out which engine docker_host is (plan.Facts.Daemon), and
// with gpu.delivery = "cdi" whether it injects CDI devices.
func Daemon(ctx context.Context, eng *engine.Engine, pol *policy.Policy) (*request.Daemon, error) {
	get := eng.Daemon
	if pol.GPU.Delivery == "cdi" {
		get = eng.CDI
	}
	d, err := get(ctx)
	if err != nil {
		return nil, err
	}
	return &d, nil
}
