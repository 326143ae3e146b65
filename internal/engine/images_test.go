package engine

import (
	"context"
	"testing"

	"github.com/userdocker/userdocker/test/fakedocker"
)

func TestDataRoot(t *testing.T) {
	d := fakedocker.New()
	d.DataRoot = "/var/lib/docker"
	if root, err := testEngine(t, d.Serve(t)).DataRoot(context.Background()); root != "/var/lib/docker" || err != nil {
		t.Fatalf("DataRoot() = %q, %v", root, err)
	}
	failing := fakedocker.New()
	failing.On("Info", fakedocker.Fail(500, "boom"))
	if _, err := testEngine(t, failing.Serve(t)).DataRoot(context.Background()); err == nil || err.Error() != "ask the daemon for its data root: Error response from daemon: boom" {
		t.Fatalf("DataRoot() error %v", err)
	}
}
