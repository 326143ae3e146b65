package engine

import (
	"bytes"
	"context"
	"errors"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/test/fakedocker"
)

// podmanDaemon is runDaemon playing rootful Podman of release version.
func podmanDaemon(t *testing.T, version string, proc fakedocker.Container) (*fakedocker.Daemon, *Engine) {
	t.Helper()
	d := fakedocker.New()
	d.Podman = version
	d.Create = func(c *fakedocker.Container) {
		c.ID = testID
		c.Stdout, c.ExitCode, c.StartError, c.UntilSignal = proc.Stdout, proc.ExitCode, proc.StartError, proc.UntilSignal
	}
	return d, testEngine(t, d.Serve(t))
}

func TestDaemonDetected(t *testing.T) {
	tests := []struct {
		podman string
		want   request.Daemon
	}{
		{"", request.Daemon{Engine: request.EngineDocker, Version: "20.10.24+dfsg1", API: "1.41"}},
		{"4.3.1", request.Daemon{Engine: request.EnginePodman, Version: "4.3.1", API: "1.41"}},
	}
	for _, tc := range tests {
		t.Run(tc.want.Name(), func(t *testing.T) {
			d := fakedocker.New()
			d.Podman = tc.podman
			e := testEngine(t, d.Serve(t))
			got, err := e.Daemon(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got.Engine != tc.want.Engine || got.Version != tc.want.Version || got.API != tc.want.API {
				t.Errorf("Daemon = %+v, want %+v", got, tc.want)
			}
			// Learned once: no second ping.
			if _, err := e.Daemon(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// On Podman before 4.6 a wait for "removed" reports 0 whatever the
// status: Run waits for the exit instead, then for the removal.
func TestRunRemovedStatusOnPodman(t *testing.T) {
	for _, version := range []string{"4.3.1", "4.6.0"} {
		t.Run(version, func(t *testing.T) {
			d, e := podmanDaemon(t, version, fakedocker.Container{ExitCode: 7, Stdout: "x"})
			plan := basePlan()
			plan.Host.AutoRemove = true
			var out bytes.Buffer
			code, err := runWithin(t, e, plan, Streams{Out: &out}, Hooks{})
			if err != nil || code != 7 {
				t.Fatalf("Run = %d, %v; want 7", code, err)
			}
			if d.Container(testID) != nil {
				t.Error("the --rm container is still there when Run returned")
			}
			want := container.WaitConditionRemoved
			if version == "4.3.1" {
				want = container.WaitConditionNextExit
			}
			if got := container.WaitCondition(d.CallsOf("ContainerWait")[0].Query.Get("condition")); got != want {
				t.Errorf("waited for %q, want %q", got, want)
			}
		})
	}
}

// Podman fails the attach (a bare 409) of a container whose start will
// fail; Run asks for the start to tell the user why, with docker's
// status for a command that could not be run.
func TestRunStartFailureAtAttachOnPodman(t *testing.T) {
	for _, rm := range []bool{false, true} {
		d, e := podmanDaemon(t, "4.3.1", fakedocker.Container{StartError: `runc: exec: "/no/such": stat /no/such: no such file or directory: OCI runtime attempted to invoke a command that was not found`})
		plan := basePlan()
		plan.Host.AutoRemove = rm
		_, err := runWithin(t, e, plan, Streams{}, Hooks{})
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Status != 127 {
			t.Fatalf("rm=%v: err = %v, want the runtime's message as a CommandError 127", rm, err)
		}
		want := 0
		if rm {
			want = 1
		}
		if n := len(d.CallsOf("ContainerRemove")); n != want {
			t.Errorf("rm=%v: removed %d times, want %d (kept for inspection unless --rm, as docker does)", rm, n, want)
		}
	}
}

// Podman answers a kill of a container that is not running with a 500;
// it reads as dockerd's 409, which callers treat as "ended already".
func TestKillExitedOnPodmanIsConflict(t *testing.T) {
	d, e := podmanDaemon(t, "4.3.1", fakedocker.Container{})
	d.AddContainer(&fakedocker.Container{ID: testID, State: container.StateExited})
	err := e.Kill(context.Background(), testID, "TERM")
	if !cerrdefs.IsConflict(err) {
		t.Fatalf("Kill = %v, want a conflict", err)
	}
}

// Below API 1.42 the client drops a stop's signal (and the daemon sends
// the image's stop signal): Stop sends the user's as a kill.
func TestStopSignalBelowAPI142(t *testing.T) {
	d, e := podmanDaemon(t, "4.3.1", fakedocker.Container{})
	d.AddContainer(&fakedocker.Container{ID: testID, UntilSignal: true})
	if err := e.api.ContainerStart(context.Background(), testID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	timeout := 5
	if err := e.Stop(context.Background(), testID, "SIGUSR1", &timeout); err != nil {
		t.Fatal(err)
	}
	if got := d.Container(testID).Signals(); len(got) == 0 || got[0] != "SIGUSR1" {
		t.Errorf("signals = %v, want SIGUSR1 first", got)
	}
	if n := len(d.CallsOf("ContainerStop")); n != 0 {
		t.Errorf("%d stop calls: the signal would be lost", n)
	}
}
