package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/docker/docker/api/types/system"
)

func TestDataRoot(t *testing.T) {
	api := &fakeAPI{more: fakeMore{info: func(context.Context) (system.Info, error) {
		return system.Info{DockerRootDir: "/var/lib/docker"}, nil
	}}}
	if root, err := NewWithAPI(api, "unix:///fake").DataRoot(context.Background()); root != "/var/lib/docker" || err != nil {
		t.Fatalf("DataRoot() = %q, %v", root, err)
	}
	failing := &fakeAPI{more: fakeMore{info: func(context.Context) (system.Info, error) {
		return system.Info{}, errors.New("boom")
	}}}
	if _, err := NewWithAPI(failing, "unix:///fake").DataRoot(context.Background()); err == nil || err.Error() != "ask the daemon for its data root: boom" {
		t.Fatalf("DataRoot() error %v", err)
	}
}
