package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/userdocker/userdocker/test/fakedocker"
)

// execDaemon serves a fake daemon with the running container testID,
// in which an exec's process copies its stdin to stdout, writes errText
// to stderr, and exits with code.
func execDaemon(t *testing.T, code int, errText string) (*fakedocker.Daemon, *Engine) {
	t.Helper()
	d := fakedocker.New()
	d.AddContainer(&fakedocker.Container{ID: testID, State: container.StateRunning, Exec: func(p *fakedocker.Process) int {
		in, _ := io.ReadAll(p.Stdin)
		p.Stdout.Write(in)
		io.WriteString(p.Stderr, errText)
		return code
	}})
	return d, testEngine(t, d.Serve(t))
}

func TestExec(t *testing.T) {
	d, e := execDaemon(t, 3, "warn\n")
	var out, errOut bytes.Buffer
	opts := ExecOptions{Config: container.ExecOptions{User: "2001:2001", AttachStdin: true, Cmd: []string{"cat"}}}
	code, err := e.Exec(context.Background(), testID, opts, Streams{In: strings.NewReader("hello\n"), Out: &out, Err: &errOut})
	if err != nil || code != 3 {
		t.Fatalf("Exec() = %d, %v; want 3, nil", code, err)
	}
	if out.String() != "hello\n" || errOut.String() != "warn\n" {
		t.Fatalf("Exec() printed %q and %q, want %q and %q", out.String(), errOut.String(), "hello\n", "warn\n")
	}
	var created container.ExecOptions
	if calls := d.CallsOf("ContainerExecCreate"); len(calls) != 1 || calls[0].Decode(&created) != nil {
		t.Fatalf("exec creates %v, want one", calls)
	}
	want := container.ExecOptions{User: "2001:2001", AttachStdin: true, AttachStdout: true, AttachStderr: true, Cmd: []string{"cat"}}
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("exec created with %+v, want %+v", created, want)
	}
}

func TestExecDetached(t *testing.T) {
	d, e := execDaemon(t, 0, "")
	opts := ExecOptions{Detach: true, Config: container.ExecOptions{AttachStdin: true, Cmd: []string{"sleep", "9"}}}
	if code, err := e.Exec(context.Background(), testID, opts, Streams{}); err != nil || code != 0 {
		t.Fatalf("Exec(-d) = %d, %v; want 0, nil", code, err)
	}
	var created container.ExecOptions
	var started container.ExecStartOptions
	calls := d.Calls()
	if got := d.Ops(); !reflect.DeepEqual(got, []string{"ContainerExecCreate", "ContainerExecStart"}) {
		t.Fatalf("calls = %v", got)
	}
	if calls[0].Decode(&created) != nil || calls[1].Decode(&started) != nil {
		t.Fatalf("calls %v do not decode", calls)
	}
	if created.AttachStdin || created.AttachStdout || created.AttachStderr || !started.Detach {
		t.Fatalf("Exec(-d) created %+v and started %+v, want nothing attached and a detached start", created, started)
	}
}

func TestExecTTYNeedsTerminal(t *testing.T) {
	d, e := execDaemon(t, 0, "")
	opts := ExecOptions{Config: container.ExecOptions{Tty: true, AttachStdin: true, Cmd: []string{"sh"}}}
	if _, err := e.Exec(context.Background(), testID, opts, Streams{In: strings.NewReader("")}); !errors.Is(err, ErrNotATTY) {
		t.Fatalf("Exec(-it) without a terminal = %v, want %v", err, ErrNotATTY)
	}
	if calls := d.Ops(); len(calls) != 0 {
		t.Fatalf("Exec(-it) without a terminal asked the daemon %v", calls)
	}
}

func TestLogs(t *testing.T) {
	tests := []struct {
		name           string
		tty            bool
		stdout, stderr string
	}{
		{name: "demultiplexed", stdout: "out\n", stderr: "err\n"},
		{name: "tty raw", tty: true, stdout: "raw\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fakedocker.New()
			c := d.AddContainer(&fakedocker.Container{ID: testID, Config: &container.Config{Tty: tt.tty}, Stdout: tt.stdout, Stderr: tt.stderr})
			e := testEngine(t, d.Serve(t))
			// The container runs once, for its log.
			if err := e.api.ContainerStart(context.Background(), testID, container.StartOptions{}); err != nil {
				t.Fatal(err)
			}
			for c.Running() {
				time.Sleep(time.Millisecond)
			}
			var out, errOut bytes.Buffer
			opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "5"}
			if err := e.Logs(context.Background(), testID, tt.tty, opts, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			q := d.CallsOf("ContainerLogs")[0].Query
			got := container.LogsOptions{ShowStdout: q.Get("stdout") == "1", ShowStderr: q.Get("stderr") == "1", Tail: q.Get("tail")}
			if out.String() != tt.stdout || errOut.String() != tt.stderr || got != opts {
				t.Fatalf("Logs() printed %q, %q with %+v; want %q, %q with %+v", out.String(), errOut.String(), got, tt.stdout, tt.stderr, opts)
			}
		})
	}
}

func TestStopKillDefaults(t *testing.T) {
	d := fakedocker.New()
	d.AddContainer(&fakedocker.Container{ID: testID, State: container.StateRunning, IgnoresTerm: true})
	e := testEngine(t, d.Serve(t))
	five := 5
	if err := e.Stop(context.Background(), testID, "", &five); err != nil {
		t.Fatalf("Stop() = %v", err)
	}
	if q := d.CallsOf("ContainerStop")[0].Query; q.Get("t") != "5" {
		t.Fatalf("Stop() asked for %v, want a 5 s timeout", q)
	}
	d.AddContainer(&fakedocker.Container{ID: "c2", State: container.StateRunning})
	if err := e.Kill(context.Background(), "c2", ""); err != nil {
		t.Fatalf("Kill() = %v", err)
	}
	if q := d.CallsOf("ContainerKill")[0].Query; q.Get("signal") != "KILL" {
		t.Fatalf("Kill() sent %v, want KILL", q)
	}
}

func TestAttachRunningContainer(t *testing.T) {
	tests := []struct {
		name  string
		state container.ContainerState
		code  int
		out   string
		err   error
	}{
		{name: "output and exit status", state: container.StateRunning, code: 9, out: "hi\n"},
		{name: "stopped container", state: container.StateExited, err: ErrNotRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fakedocker.New()
			d.AddContainer(&fakedocker.Container{ID: testID, State: tt.state, Config: &container.Config{OpenStdin: true},
				Run: func(p *fakedocker.Process) int {
					io.ReadAll(p.Stdin)
					io.WriteString(p.Stdout, "hi\n")
					return 9
				}})
			e := testEngine(t, d.Serve(t))
			var out bytes.Buffer
			code, err := e.Attach(context.Background(), testID, AttachOptions{}, Streams{In: strings.NewReader(""), Out: &out, Err: io.Discard})
			if !errors.Is(err, tt.err) || code != tt.code || out.String() != tt.out {
				t.Fatalf("Attach() = %d, %v, printed %q; want %d, %v, %q", code, err, out.String(), tt.code, tt.err, tt.out)
			}
			if a := d.CallsOf("ContainerAttach"); tt.state == container.StateRunning && (len(a) != 1 || !attachOptions(a[0]).Stdin) {
				t.Fatalf("attached with %v, want stdin (the container keeps it open)", a)
			}
		})
	}
}

// Labelled gives the containers of one label value only, whatever the
// daemon's filter let through.
func TestLabelled(t *testing.T) {
	d := fakedocker.New()
	d.IgnoreFilters = true
	for _, c := range []struct{ id, job string }{{"a1", "42"}, {"b1", "421"}, {"c1", ""}} {
		d.AddContainer(&fakedocker.Container{ID: c.id, State: container.StateExited, Labels: map[string]string{"io.userdocker.job": c.job}})
	}
	list, err := testEngine(t, d.Serve(t)).Labelled(context.Background(), "io.userdocker.job", "42", true)
	if err != nil || len(list) != 1 || list[0].ID != "a1" {
		t.Fatalf("Labelled() = %v, %v; want a1 alone", list, err)
	}
	if f := d.CallsOf("ContainerList")[0].Query.Get("filters"); !strings.Contains(f, `"io.userdocker.job=42"`) {
		t.Errorf("asked the daemon with filters %s, want the label", f)
	}
}
