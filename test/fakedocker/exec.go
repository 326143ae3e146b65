package fakedocker

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// execution is one exec of a container.
type execution struct {
	id       string
	c        *Container
	opts     container.ExecOptions
	running  bool
	exitCode int
}

// execCreate makes an exec in c. Under d.mu.
func (d *Daemon) execCreate(w http.ResponseWriter, r *http.Request, c *Container) {
	var opts container.ExecOptions
	if err := json.NewDecoder(r.Body).Decode(&opts); err != nil {
		Fail(http.StatusBadRequest, err.Error())(w, r)
		return
	}
	if !c.running() {
		Fail(http.StatusConflict, "Container "+c.ID+" is not running")(w, r)
		return
	}
	d.seq++
	e := &execution{id: fmt.Sprintf("e%d", d.seq), c: c, opts: opts}
	d.execs[e.id] = e
	w.WriteHeader(http.StatusCreated)
	jsonReply(container.ExecCreateResponse{ID: e.id})(w, r)
}

// execHandler answers the calls about one exec.
func (d *Daemon) execHandler(op, id string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		e := d.execs[id]
		d.mu.Unlock()
		if e == nil {
			Fail(http.StatusNotFound, "No such exec instance: "+id)(w, r)
			return
		}
		switch op {
		case "ContainerExecInspect":
			d.mu.Lock()
			resp := container.ExecInspect{ExecID: e.id, ContainerID: e.c.ID, Running: e.running, ExitCode: e.exitCode}
			d.mu.Unlock()
			jsonReply(resp)(w, r)
		case "ContainerExecResize":
			w.WriteHeader(http.StatusCreated)
		case "ContainerExecStart":
			d.runExec(e, nil, io.Discard)
			w.WriteHeader(http.StatusOK)
		case "ContainerExecAttach":
			conn, in, err := d.hijack(w)
			if err != nil {
				return
			}
			var stdin io.Reader
			if e.opts.AttachStdin {
				stdin = in
			}
			go func() {
				d.runExec(e, stdin, conn)
				conn.Close()
			}()
		}
	}
}

// runExec runs e's process with stdin (nil: none) and its output on out,
// multiplexed unless e has a TTY; a detached one (out io.Discard) runs in
// the background. The exit code is there before the stream ends.
func (d *Daemon) runExec(e *execution, stdin io.Reader, out io.Writer) {
	d.mu.Lock()
	e.running = true
	run := e.c.Exec
	d.mu.Unlock()
	if stdin == nil {
		stdin = eofReader{}
	}
	p := &Process{Stdin: stdin, Stdout: out, Stderr: out, Signals: make(chan string)}
	if !e.opts.Tty {
		p.Stdout, p.Stderr = stdcopy.NewStdWriter(out, stdcopy.Stdout), stdcopy.NewStdWriter(out, stdcopy.Stderr)
	}
	finish := func() {
		code := 0
		if run != nil {
			code = run(p)
		}
		d.mu.Lock()
		e.running, e.exitCode = false, code
		d.mu.Unlock()
	}
	if out == io.Discard {
		go finish()
		return
	}
	finish()
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
