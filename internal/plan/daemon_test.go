package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/request"
)

// The request shape of gpu.delivery = "cdi", as Docker 25+ and Podman
// 5.5+ take it: one request of driver "cdi" with the grant's qualified
// names, nothing else; NVIDIA_VISIBLE_DEVICES still forced to the grant.
func TestCDIDelivery(t *testing.T) {
	pol := basePolicy()
	pol.GPU.Delivery = "cdi"
	f := jobFacts()
	f.GPUs = []string{"GPU-4d4f434b-0000-4000-8000-000000000001", "MIG-4d4f434b-0000-4000-8000-0000000000aa"}
	f.Daemon = &request.Daemon{Engine: request.EngineDocker, Version: "28.5.2", API: "1.51", CDI: true, CDIKnown: true}
	p := validPlan(t, pol, f)
	want := []container.DeviceRequest{{Driver: "cdi", DeviceIDs: []string{
		"nvidia.com/gpu=GPU-4d4f434b-0000-4000-8000-000000000001", "nvidia.com/gpu=MIG-4d4f434b-0000-4000-8000-0000000000aa",
	}}}
	if got := p.Host.DeviceRequests; len(got) != 1 || got[0].Driver != want[0].Driver || !slices.Equal(got[0].DeviceIDs, want[0].DeviceIDs) ||
		got[0].Count != 0 || len(got[0].Capabilities) != 0 || len(got[0].Options) != 0 {
		t.Errorf("DeviceRequests = %+v, want %+v", got, want)
	}
	if p.Host.Runtime != "" {
		t.Errorf("Runtime = %q", p.Host.Runtime)
	}
	env := "NVIDIA_VISIBLE_DEVICES=GPU-4d4f434b-0000-4000-8000-000000000001,MIG-4d4f434b-0000-4000-8000-0000000000aa"
	if !slices.Contains(p.Config.Env, env) {
		t.Errorf("Env = %v, want %s", p.Config.Env, env)
	}

	// An index (no NVML on the node) has no CDI name userdocker can trust.
	f.GPUs = []string{"1"}
	_, err := build(t, []string{"-d", "ud-test/busybox", "true"}, pol, f)
	if err == nil || !strings.Contains(err.Error(), "GPUs 1 cannot be delivered as CDI devices") {
		t.Errorf("err = %v, want the index refused", err)
	}
}

// On Podman a request with a limit carries nofile and nproc too, at the
// caller's hard limits unless given: Podman would raise them. Without
// any, the site's containers.conf default_ulimits apply.
func TestPodmanRlimits(t *testing.T) {
	pol := basePolicy()
	pol.Run.Args.Always = append(pol.Run.Args.Always, flagArgs("--ulimit=core=0:0")...)
	f := jobFacts()
	f.GPUs = nil
	f.HardLimits["nproc"] = Unlimited
	f.Daemon = &podman431
	p, err := build(t, []string{"-d", "ud-test/busybox", "true"}, pol, f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, u := range p.Host.Ulimits {
		got[u.Name] = [2]int64{u.Soft, u.Hard}
	}
	if got["nofile"] != [2]int64{4096, 4096} || got["nproc"] != [2]int64{-1, -1} || got["core"] != [2]int64{0, 0} || len(got) != 3 {
		t.Errorf("Ulimits = %v, want the site's core, and the caller's nofile 4096 and nproc unlimited", got)
	}

	if p, err = build(t, []string{"-d", "ud-test/busybox", "true"}, basePolicy(), f); err != nil || len(p.Host.Ulimits) != 0 {
		t.Errorf("no limits asked: Ulimits = %v, %v; want none added", p.Host.Ulimits, err)
	}
	f.Daemon = &docker2010
	if p, err = build(t, []string{"-d", "ud-test/busybox", "true"}, pol, f); err != nil || len(p.Host.Ulimits) != 1 {
		t.Errorf("on dockerd: Ulimits = %v, %v; want the site's alone", p.Host.Ulimits, err)
	}
}
