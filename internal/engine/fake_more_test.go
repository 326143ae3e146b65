package engine

import (
	"context"
	"io"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
)

// fakeMore holds the fake's funcs for the calls of the subcommands on
// existing containers and images; nil fails the call, naming it.
type fakeMore struct {
	list        func(ctx context.Context, opts container.ListOptions) ([]container.Summary, error)
	stop        func(ctx context.Context, id string, opts container.StopOptions) error
	logs        func(ctx context.Context, id string, opts container.LogsOptions) (io.ReadCloser, error)
	execCreate  func(ctx context.Context, id string, opts container.ExecOptions) (container.ExecCreateResponse, error)
	execStart   func(ctx context.Context, execID string, opts container.ExecStartOptions) error
	execAttach  func(ctx context.Context, execID string, opts container.ExecAttachOptions) (types.HijackedResponse, error)
	execInspect func(ctx context.Context, execID string) (container.ExecInspect, error)
	execResize  func(ctx context.Context, execID string, opts container.ResizeOptions) error
	imageList   func(ctx context.Context, opts image.ListOptions) ([]image.Summary, error)
	imageLoad   func(ctx context.Context, input io.Reader) (image.LoadResponse, error)
	info        func(ctx context.Context) (system.Info, error)
}

func (f *fakeAPI) ContainerList(ctx context.Context, opts container.ListOptions) ([]container.Summary, error) {
	f.record("ContainerList")
	if f.more.list == nil {
		return nil, unexpected("ContainerList")
	}
	return f.more.list(ctx, opts)
}

func (f *fakeAPI) ContainerStop(ctx context.Context, id string, opts container.StopOptions) error {
	f.record("ContainerStop")
	if f.more.stop == nil {
		return unexpected("ContainerStop")
	}
	return f.more.stop(ctx, id, opts)
}

func (f *fakeAPI) ContainerLogs(ctx context.Context, id string, opts container.LogsOptions) (io.ReadCloser, error) {
	f.record("ContainerLogs")
	if f.more.logs == nil {
		return nil, unexpected("ContainerLogs")
	}
	return f.more.logs(ctx, id, opts)
}

func (f *fakeAPI) ContainerExecCreate(ctx context.Context, id string, opts container.ExecOptions) (container.ExecCreateResponse, error) {
	f.record("ContainerExecCreate")
	if f.more.execCreate == nil {
		return container.ExecCreateResponse{}, unexpected("ContainerExecCreate")
	}
	return f.more.execCreate(ctx, id, opts)
}

func (f *fakeAPI) ContainerExecStart(ctx context.Context, execID string, opts container.ExecStartOptions) error {
	f.record("ContainerExecStart")
	if f.more.execStart == nil {
		return unexpected("ContainerExecStart")
	}
	return f.more.execStart(ctx, execID, opts)
}

func (f *fakeAPI) ContainerExecAttach(ctx context.Context, execID string, opts container.ExecAttachOptions) (types.HijackedResponse, error) {
	f.record("ContainerExecAttach")
	if f.more.execAttach == nil {
		return types.HijackedResponse{}, unexpected("ContainerExecAttach")
	}
	return f.more.execAttach(ctx, execID, opts)
}

func (f *fakeAPI) ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error) {
	f.record("ContainerExecInspect")
	if f.more.execInspect == nil {
		return container.ExecInspect{}, unexpected("ContainerExecInspect")
	}
	return f.more.execInspect(ctx, execID)
}

func (f *fakeAPI) ContainerExecResize(ctx context.Context, execID string, opts container.ResizeOptions) error {
	f.record("ContainerExecResize")
	if f.more.execResize == nil {
		return unexpected("ContainerExecResize")
	}
	return f.more.execResize(ctx, execID, opts)
}

func (f *fakeAPI) ImageList(ctx context.Context, opts image.ListOptions) ([]image.Summary, error) {
	f.record("ImageList")
	if f.more.imageList == nil {
		return nil, unexpected("ImageList")
	}
	return f.more.imageList(ctx, opts)
}

func (f *fakeAPI) ImageLoad(ctx context.Context, input io.Reader, _ ...client.ImageLoadOption) (image.LoadResponse, error) {
	f.record("ImageLoad")
	if f.more.imageLoad == nil {
		return image.LoadResponse{}, unexpected("ImageLoad")
	}
	return f.more.imageLoad(ctx, input)
}

func (f *fakeAPI) Info(ctx context.Context) (system.Info, error) {
	f.record("Info")
	if f.more.info == nil {
		return system.Info{}, unexpected("Info")
	}
	return f.more.info(ctx)
}
