package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/request"
)

func TestJudgeCDI(t *testing.T) {
	gpu0, gpu1, mig := "GPU-4d4f434b-0000-4000-8000-000000000000", "GPU-4d4f434b-0000-4000-8000-000000000001", "MIG-4d4f434b-0000-4000-8000-0000000000aa"
	withCDI := &request.Daemon{Engine: request.EngineDocker, Version: "28.5.2", API: "1.51", CDI: true}
	good := func() CDIFacts {
		return CDIFacts{
			Delivery: "cdi",
			Daemon:   withCDI,
			Dirs:     []string{"/etc/cdi", "/var/run/cdi"},
			Devices: map[string]CDIDevice{
				"nvidia.com/gpu=" + gpu0: {Spec: "/var/run/cdi/nvidia.yaml", Nodes: []string{"/dev/nvidia0"}},
				"nvidia.com/gpu=" + gpu1: {Spec: "/var/run/cdi/nvidia.yaml", Nodes: []string{"/dev/nvidia1"}},
				"nvidia.com/gpu=" + mig:  {Spec: "/var/run/cdi/nvidia.yaml", Nodes: []string{"/dev/nvidia-caps/nvidia-cap21"}},
			},
			GPUs: []NodeGPU{{UUID: gpu0, Minor: 0}, {UUID: gpu1, Minor: 1}, {UUID: mig, Minor: -1}},
		}
	}
	tests := []struct {
		name     string
		change   func(*CDIFacts)
		problems []string
		warnings []string
	}{
		{name: "every GPU has its device, the daemon injects them", change: func(*CDIFacts) {}},
		{name: "daemon without CDI", change: func(f *CDIFacts) {
			f.Daemon = &request.Daemon{Engine: request.EngineDocker, Version: "20.10.24", API: "1.41"}
		}, problems: []string{`gpu.delivery is "cdi", and Docker 20.10.24 does not inject CDI devices (Docker needs 25 or later with its cdi feature on, the default from 28.2)`}},
		{name: "Podman 4.3", change: func(f *CDIFacts) {
			f.Daemon = &request.Daemon{Engine: request.EnginePodman, Version: "4.3.1", API: "1.41"}
		}, problems: []string{"Podman 4.3.1 does not inject CDI devices (Podman takes CDI device requests from 5.5.0 on)"}},
		{name: "a GPU without a spec device", change: func(f *CDIFacts) { delete(f.Devices, "nvidia.com/gpu="+gpu1) },
			problems: []string{"GPU " + gpu1 + " (/dev/nvidia1) has no CDI device nvidia.com/gpu=" + gpu1 + " in /etc/cdi, /var/run/cdi"}},
		{name: "a device that adds another GPU's node", change: func(f *CDIFacts) {
			f.Devices["nvidia.com/gpu="+gpu1] = CDIDevice{Spec: "/etc/cdi/x.json", Nodes: []string{"/dev/nvidia0"}}
		}, problems: []string{"CDI device nvidia.com/gpu=" + gpu1 + " (/etc/cdi/x.json) does not add /dev/nvidia1, the GPU's device node (it adds /dev/nvidia0)"}},
		{name: "without CDI delivery, the same is a warning", change: func(f *CDIFacts) {
			f.Delivery = "device-requests"
			delete(f.Devices, "nvidia.com/gpu="+mig)
		}, warnings: []string{"GPU " + mig + " has no CDI device"}},
		{name: "broken spec and old hooks", change: func(f *CDIFacts) {
			f.SpecErrors = []string{"/etc/cdi/bad.yaml: failed to parse"}
			f.Devices["nvidia.com/gpu="+gpu0] = CDIDevice{Spec: "/var/run/cdi/nvidia.yaml", Nodes: []string{"/dev/nvidia0"}, HooksWithoutEnv: 2}
		}, warnings: []string{"CDI spec /etc/cdi/bad.yaml: failed to parse", "1 CDI devices have hooks without env"}},
		{name: "no NVML", change: func(f *CDIFacts) { f.GPUs, f.GPUsErr = nil, "NVML not found" },
			problems: []string{"the node's GPUs not checked against the CDI specs: NVML not found"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := good()
			tc.change(&f)
			problems, warnings, notes := JudgeCDI(f)
			match(t, "problems", problems, tc.problems)
			match(t, "warnings", warnings, tc.warnings)
			if len(notes) == 0 {
				t.Error("no notes")
			}
		})
	}
}

// match: one of got contains each of want, and got has no more.
func match(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %q, want %d like %q", what, got, len(want), want)
		return
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
			t.Errorf("%s = %q, want one with %q", what, got, w)
		}
	}
}
