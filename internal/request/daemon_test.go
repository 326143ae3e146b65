package request

import "testing"

func TestDaemonDifferences(t *testing.T) {
	docker20 := Daemon{Engine: EngineDocker, Version: "20.10.24+dfsg1", API: "1.41"}
	docker25 := Daemon{Engine: EngineDocker, Version: "25.0.3", API: "1.44"}
	docker28 := Daemon{Engine: EngineDocker, Version: "28.5.2", API: "1.51"}
	podman43 := Daemon{Engine: EnginePodman, Version: "4.3.1", API: "1.41"}
	podman46 := Daemon{Engine: EnginePodman, Version: "4.6.0", API: "1.41"}
	podman55 := Daemon{Engine: EnginePodman, Version: "5.5.0", API: "1.41"}
	podmanUnknown := Daemon{Engine: EnginePodman, API: "1.41"}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"docker wait removed", docker20.WaitRemovedWorks(), true},
		{"podman 4.3 wait removed", podman43.WaitRemovedWorks(), false},
		{"podman 4.6 wait removed", podman46.WaitRemovedWorks(), true},
		{"podman unknown release counts as oldest", podmanUnknown.WaitRemovedWorks(), false},
		{"docker 20.10 stop signal", docker20.StopSignalParam(), false},
		{"docker 25 stop signal", docker25.StopSignalParam(), true},
		{"docker 20.10 nvidia requests", docker20.DeviceRequestDrivers("nvidia"), true},
		{"podman nvidia requests", podman55.DeviceRequestDrivers("nvidia"), false},
		{"docker 20.10 no CDI", docker20.CDIFrom(nil), false},
		{"docker 25 CDI off without spec dirs", docker25.CDIFrom(nil), false},
		{"docker 25 CDI on", docker25.CDIFrom([]string{"/etc/cdi"}), true},
		{"docker 28 CDI on", docker28.CDIFrom([]string{"/etc/cdi", "/var/run/cdi"}), true},
		{"podman 4.3 no CDI", podman43.CDIFrom(nil), false},
		{"podman 5.5 CDI", podman55.CDIFrom(nil), true},
		{"podman rlimits", podman43.RaisesRlimits(), true},
		{"docker rlimits", docker20.RaisesRlimits(), false},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if got := podman43.Name(); got != "Podman 4.3.1" {
		t.Errorf("Name = %q", got)
	}
}
