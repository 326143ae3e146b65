package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// Images lists the daemon's images as docker images does.
func (e *Engine) Images(ctx context.Context, opts image.ListOptions) ([]image.Summary, error) {
	var list []image.Summary
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		list, err = e.api.ImageList(ctx, opts)
		return err
	})
	return list, e.wrap(err, "list images")
}

// ImageExists reports whether the daemon has an image by the reference
// ref (a tag or an ID).
func (e *Engine) ImageExists(ctx context.Context, ref string) (bool, error) {
	return e.hasImage(ctx, ref)
}

// Pull fetches the image ref (a normalized reference, already judged by
// the caller), showing progress on out as the docker CLI does; a single
// flight on the node once PullOnce said where its locks are.
func (e *Engine) Pull(ctx context.Context, ref string, out io.Writer, isTerm bool) error {
	return e.pullShared(ctx, ref, true, out, isTerm)
}

// Load sends an image tarball to the daemon, which the caller has
// inspected already, and shows the daemon's messages on out as docker load
// does. Loading has no time limit of its own; ctx ends it.
func (e *Engine) Load(ctx context.Context, tarball io.Reader, quiet bool, out io.Writer, isTerm bool) error {
	resp, err := e.api.ImageLoad(ctx, tarball, client.ImageLoadWithQuiet(quiet))
	if err != nil {
		return e.wrap(err, "load images")
	}
	defer resp.Body.Close()
	if !resp.JSON {
		_, err = io.Copy(out, resp.Body)
		return err
	}
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, out, fdOf(out, &isTerm), isTerm, nil); err != nil {
		return fmt.Errorf("load images: %w", err)
	}
	return nil
}

// DataRoot returns the daemon's data root directory (/var/lib/docker),
// where loading writes: a path on the daemon's host.
func (e *Engine) DataRoot(ctx context.Context) (string, error) {
	var root string
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		info, err := e.api.Info(ctx)
		root = info.DockerRootDir
		return err
	})
	return root, e.wrap(err, "ask the daemon for its data root")
}

// fdOf returns out's descriptor, and clears isTerm when out has none.
func fdOf(out io.Writer, isTerm *bool) uintptr {
	if f, ok := out.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	*isTerm = false
	return 0
}

// Tag points the tag target (a normalized reference) at the image id, as
// docker tag does; an image the tag named before keeps its other tags.
// The caller has judged both: source by the reference it resolved to id.
func (e *Engine) Tag(ctx context.Context, id, target string) error {
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		return e.api.ImageTag(ctx, id, target)
	})
	return e.wrap(err, "tag %s", target)
}

// RemoveTag removes the tag ref (a normalized reference) as docker rmi
// does without --force: it untags, and deletes the image when that was
// its last tag and no container uses it (prune: also its untagged
// parents). What was untagged and deleted comes back in docker's order.
func (e *Engine) RemoveTag(ctx context.Context, ref string, prune bool) ([]image.DeleteResponse, error) {
	var resp []image.DeleteResponse
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		resp, err = e.api.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: prune})
		return err
	})
	return resp, e.wrap(err, "rmi %s", ref)
}

// InspectImageRaw returns the daemon's JSON about the image ref, as docker
// image inspect prints it; found is false, with no error, when the daemon
// does not have it.
func (e *Engine) InspectImageRaw(ctx context.Context, ref string) (raw []byte, found bool, err error) {
	var buf bytes.Buffer
	err = e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		_, err := e.api.ImageInspect(ctx, ref, client.ImageInspectWithRawResponse(&buf))
		return err
	})
	switch {
	case err == nil:
		return buf.Bytes(), true, nil
	case isNotFound(err):
		return nil, false, nil
	}
	return nil, false, e.wrap(err, "inspect image %s", ref)
}

// CgroupDriver returns how the daemon makes its containers' cgroups:
// its cgroup driver ("cgroupfs", "systemd", "none"; "" from a daemon
// before API 1.23) and the cgroup version it sees ("1", "2"; "" before
// API 1.41).
func (e *Engine) CgroupDriver(ctx context.Context) (driver, version string, err error) {
	err = e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		info, err := e.api.Info(ctx)
		driver, version = info.CgroupDriver, info.CgroupVersion
		return err
	})
	return driver, version, e.wrap(err, "ask the daemon for its cgroup driver")
}
