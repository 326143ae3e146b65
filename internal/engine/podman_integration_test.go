//go:build integration

package engine

import (
	"context"
	"os"
	"testing"
)

// itPodman is the test machine's rootful Podman service (scripts/testenv.sh).
const itPodman = "unix:///run/podman/podman.sock"

// TestIntegrationOnPodman runs the engine's integration tests against
// Podman 4.3's Docker-compatible service: the exit status of a --rm run
// (Podman's wait for "removed" loses it), a start failure (a bare 409 at
// attach there), the streams, stdin, a detached container, the signal
// proxy, a TTY with its window size, and the detach keys, which Podman
// hands to the container: userdocker watches for them and detaches
// itself there.
func TestIntegrationOnPodman(t *testing.T) {
	if itUnavailable != "" {
		t.Skip("no Docker daemon for integration tests: " + itUnavailable)
	}
	e, err := New(itPodman)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	d, err := e.Daemon(context.Background())
	switch {
	case err != nil && os.Getenv("CI") == "true":
		t.Fatalf("the Podman service does not answer: %v (run scripts/testenv.sh)", err)
	case err != nil:
		t.Skipf("the Podman service does not answer: %v", err)
	case !d.Podman():
		t.Fatalf("%s is %s, not Podman", itPodman, d.Name())
	}
	t.Logf("%s, API %s", d.Name(), d.API)
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"ExitCodeAndRm", TestIntegrationExitCodeAndRm},
		{"StdoutStderrSeparate", TestIntegrationStdoutStderrSeparate},
		{"StdinPiped", TestIntegrationStdinPiped},
		{"Detached", TestIntegrationDetached},
		{"SignalProxy", TestIntegrationSignalProxy},
		{"StartFailure", TestIntegrationStartFailure},
		{"VersionAndImageNever", TestIntegrationVersionAndImageNever},
		{"TTY", TestIntegrationTTY},
		{"DetachKeys", TestIntegrationDetachKeys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			itHost = itPodman
			defer func() { itHost = itDocker }()
			tc.test(t)
		})
	}
}
