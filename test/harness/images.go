package harness

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// DockerHost is the test machine's daemon.
const DockerHost = "unix:///var/run/docker.sock"

// Busybox is the test image's Dockerfile (DESIGN.md §8): no registry is
// reachable, so it is built FROM scratch around busybox-static.
const Busybox = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nENV PATH=/bin\n"

// File is one file of a build context.
type File struct {
	Name    string
	Mode    int64
	ModTime time.Time // zero: now
	Data    []byte
}

// BuildImage builds the image dockerfile describes, with files as its
// context, as tag, with the classic builder, and returns its ID.
func BuildImage(ctx context.Context, tag, dockerfile string, files ...File) (string, error) {
	c, err := client.NewClientWithOpts(client.WithHost(DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return "", err
	}
	defer c.Close()
	var buildContext bytes.Buffer
	tw := tar.NewWriter(&buildContext)
	for _, f := range append([]File{{Name: "Dockerfile", Mode: 0o644, Data: []byte(dockerfile)}}, files...) {
		mtime := f.ModTime
		if mtime.IsZero() {
			mtime = time.Now()
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: f.Mode, Size: int64(len(f.Data)), ModTime: mtime}); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	resp, err := c.ImageBuild(ctx, &buildContext, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true, Version: build.BuilderV1})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil); err != nil {
		return "", fmt.Errorf("build %s: %w", tag, err)
	}
	img, err := c.ImageInspect(ctx, tag)
	if err != nil {
		return "", fmt.Errorf("build %s did not make it: %w", tag, err)
	}
	return img.ID, nil
}

// EnsureBusybox builds the busybox test image as tag, unless the daemon
// has it (scripts/testenv.sh builds it too).
func EnsureBusybox(ctx context.Context, tag string) error {
	c, err := client.NewClientWithOpts(client.WithHost(DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ImageInspect(ctx, tag); err == nil {
		return nil
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("%s is missing and cannot be built without busybox-static: %w", tag, err)
	}
	_, err = BuildImage(ctx, tag, Busybox, File{Name: "busybox", Mode: 0o755, Data: bb})
	return err
}
