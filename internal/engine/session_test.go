package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// fakeExec plays the daemon for one exec whose process copies its stdin to
// stdout (multiplexed), writes errText to stderr, and exits with code.
func fakeExec(t *testing.T, code int, errText string, created *container.ExecOptions) *fakeAPI {
	t.Helper()
	return &fakeAPI{more: fakeMore{
		execCreate: func(_ context.Context, id string, o container.ExecOptions) (container.ExecCreateResponse, error) {
			*created = o
			return container.ExecCreateResponse{ID: "e1"}, nil
		},
		execAttach: func(_ context.Context, execID string, _ container.ExecAttachOptions) (types.HijackedResponse, error) {
			outR, outW := io.Pipe()
			stdinR, stdinW := io.Pipe()
			go func() {
				in, _ := io.ReadAll(stdinR)
				stdcopy.NewStdWriter(outW, stdcopy.Stdout).Write(in)
				stdcopy.NewStdWriter(outW, stdcopy.Stderr).Write([]byte(errText))
				outW.Close()
			}()
			conn := &fakeConn{out: outR, stdin: stdinW}
			return types.HijackedResponse{Conn: conn, Reader: bufio.NewReader(conn)}, nil
		},
		execInspect: func(context.Context, string) (container.ExecInspect, error) {
			return container.ExecInspect{ExitCode: code}, nil
		},
	}}
}

func TestExec(t *testing.T) {
	var created container.ExecOptions
	api := fakeExec(t, 3, "warn\n", &created)
	e := NewWithAPI(api, "unix:///fake")
	var out, errOut bytes.Buffer
	opts := ExecOptions{Config: container.ExecOptions{User: "2001:2001", AttachStdin: true, Cmd: []string{"cat"}}}
	code, err := e.Exec(context.Background(), testID, opts, Streams{In: strings.NewReader("hello\n"), Out: &out, Err: &errOut})
	if err != nil || code != 3 {
		t.Fatalf("Exec() = %d, %v; want 3, nil", code, err)
	}
	if out.String() != "hello\n" || errOut.String() != "warn\n" {
		t.Fatalf("Exec() printed %q and %q, want %q and %q", out.String(), errOut.String(), "hello\n", "warn\n")
	}
	want := container.ExecOptions{User: "2001:2001", AttachStdin: true, AttachStdout: true, AttachStderr: true, Cmd: []string{"cat"}}
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("exec created with %+v, want %+v", created, want)
	}
}

func TestExecDetached(t *testing.T) {
	var started container.ExecStartOptions
	var created container.ExecOptions
	api := fakeExec(t, 0, "", &created)
	api.more.execStart = func(_ context.Context, _ string, o container.ExecStartOptions) error {
		started = o
		return nil
	}
	e := NewWithAPI(api, "unix:///fake")
	opts := ExecOptions{Detach: true, Config: container.ExecOptions{AttachStdin: true, Cmd: []string{"sleep", "9"}}}
	if code, err := e.Exec(context.Background(), testID, opts, Streams{}); err != nil || code != 0 {
		t.Fatalf("Exec(-d) = %d, %v; want 0, nil", code, err)
	}
	if created.AttachStdin || created.AttachStdout || created.AttachStderr || !started.Detach {
		t.Fatalf("Exec(-d) created %+v and started %+v, want nothing attached and a detached start", created, started)
	}
	if got := api.Calls(); !reflect.DeepEqual(got, []string{"ContainerExecCreate", "ContainerExecStart"}) {
		t.Fatalf("calls = %v", got)
	}
}

func TestExecTTYNeedsTerminal(t *testing.T) {
	e := NewWithAPI(&fakeAPI{}, "unix:///fake")
	opts := ExecOptions{Config: container.ExecOptions{Tty: true, AttachStdin: true, Cmd: []string{"sh"}}}
	if _, err := e.Exec(context.Background(), testID, opts, Streams{In: strings.NewReader("")}); !errors.Is(err, ErrNotATTY) {
		t.Fatalf("Exec(-it) without a terminal = %v, want %v", err, ErrNotATTY)
	}
}

func TestLogs(t *testing.T) {
	var buf bytes.Buffer
	stdcopy.NewStdWriter(&buf, stdcopy.Stdout).Write([]byte("out\n"))
	stdcopy.NewStdWriter(&buf, stdcopy.Stderr).Write([]byte("err\n"))
	muxed := buf.String()
	tests := []struct {
		name          string
		tty           bool
		body          string
		stdout, stder string
	}{
		{name: "demultiplexed", body: muxed, stdout: "out\n", stder: "err\n"},
		{name: "tty raw", tty: true, body: "raw\r\n", stdout: "raw\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got container.LogsOptions
			api := &fakeAPI{more: fakeMore{logs: func(_ context.Context, _ string, o container.LogsOptions) (io.ReadCloser, error) {
				got = o
				return io.NopCloser(strings.NewReader(tt.body)), nil
			}}}
			var out, errOut bytes.Buffer
			opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "5"}
			if err := NewWithAPI(api, "unix:///fake").Logs(context.Background(), testID, tt.tty, opts, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.stdout || errOut.String() != tt.stder || got != opts {
				t.Fatalf("Logs() printed %q, %q with %+v; want %q, %q with %+v", out.String(), errOut.String(), got, tt.stdout, tt.stder, opts)
			}
		})
	}
}

func TestStopKillDefaults(t *testing.T) {
	var stop container.StopOptions
	var sig string
	api := &fakeAPI{
		containerKillFunc: func(_ context.Context, _ string, s string) error { sig = s; return nil },
		more:              fakeMore{stop: func(_ context.Context, _ string, o container.StopOptions) error { stop = o; return nil }},
	}
	e := NewWithAPI(api, "unix:///fake")
	five := 5
	if err := e.Stop(context.Background(), testID, "", &five); err != nil || stop.Timeout == nil || *stop.Timeout != 5 {
		t.Fatalf("Stop() = %v with %+v, want a 5 s timeout", err, stop)
	}
	if err := e.Kill(context.Background(), testID, ""); err != nil || sig != "KILL" {
		t.Fatalf("Kill() = %v sending %q, want KILL", err, sig)
	}
}

func TestAttachRunningContainer(t *testing.T) {
	tests := []struct {
		name    string
		running bool
		code    int
		out     string
		err     error
	}{
		{name: "output and exit status", running: true, code: 9, out: "hi\n"},
		{name: "stopped container", running: false, err: ErrNotRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waitC := make(chan container.WaitResponse, 1)
			var attached container.AttachOptions
			api := &fakeAPI{
				containerInspectFunc: func(context.Context, string) (container.InspectResponse, error) {
					return container.InspectResponse{
						ContainerJSONBase: &container.ContainerJSONBase{State: &container.State{Running: tt.running}},
						Config:            &container.Config{OpenStdin: true},
					}, nil
				},
				containerWaitFunc: func(context.Context, string, container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
					return waitC, make(chan error)
				},
				containerAttachFunc: func(_ context.Context, _ string, o container.AttachOptions) (types.HijackedResponse, error) {
					attached = o
					outR, outW := io.Pipe()
					stdinR, stdinW := io.Pipe()
					go func() {
						io.ReadAll(stdinR)
						stdcopy.NewStdWriter(outW, stdcopy.Stdout).Write([]byte("hi\n"))
						outW.Close()
						waitC <- container.WaitResponse{StatusCode: 9}
					}()
					conn := &fakeConn{out: outR, stdin: stdinW}
					return types.HijackedResponse{Conn: conn, Reader: bufio.NewReader(conn)}, nil
				},
			}
			var out bytes.Buffer
			code, err := NewWithAPI(api, "unix:///fake").Attach(context.Background(), testID, AttachOptions{}, Streams{In: strings.NewReader(""), Out: &out, Err: io.Discard})
			if !errors.Is(err, tt.err) || code != tt.code || out.String() != tt.out {
				t.Fatalf("Attach() = %d, %v, printed %q; want %d, %v, %q", code, err, out.String(), tt.code, tt.err, tt.out)
			}
			if tt.running && !attached.Stdin {
				t.Fatalf("attached with %+v, want stdin (the container keeps it open)", attached)
			}
		})
	}
}
