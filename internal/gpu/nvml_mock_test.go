//go:build udmocknvml

package gpu

import "testing"

// TestOpenMock checks the promises nvml_mock.go makes to integration tests.
func TestOpenMock(t *testing.T) {
	l, err := Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer l.Close()
	devs, err := l.Devices()
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	if len(devs) != 8 {
		t.Fatalf("%d GPUs, want 8", len(devs))
	}
	for i, d := range devs {
		if d.Index != i || d.Minor != 7-i || d.UUID != MockUUID(i) {
			t.Errorf("GPU %d = index %d minor %d UUID %s; want index %d minor %d UUID %s",
				i, d.Index, d.Minor, d.UUID, i, 7-i, MockUUID(i))
		}
	}
	procs, err := l.Processes()
	if err != nil {
		t.Fatalf("Processes: %v", err)
	}
	for uuid, ps := range procs {
		if len(ps) != 0 {
			t.Errorf("GPU %s has processes %v, want none", uuid, ps)
		}
	}
}
