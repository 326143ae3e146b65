package fakedocker

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/pkg/stdcopy"
	"golang.org/x/sys/unix"
)

// Container is a container of the fake, with how its process behaves.
// Set its fields before AddContainer; afterwards read it through the
// methods, which take the daemon's lock.
type Container struct {
	ID      string // "" : AddContainer makes one
	Name    string // without the leading "/"
	Image   string
	Command string
	Labels  map[string]string
	// State is "created", "running", "exited", …: a container added
	// running runs its process from then on.
	State  container.ContainerState
	Status string // what a list shows; "" : made from State
	Config *container.Config
	Host   *container.HostConfig
	// ExitCode is its exit status, once it has exited: also what its
	// process returns, when it ends by itself.
	ExitCode int

	// Its process, unless Run is set: it writes Stdout and Stderr; with
	// Echo it copies its stdin to its stdout until stdin ends; with
	// UntilSignal it then runs until a signal ends it (status 128 plus
	// the signal's number), as a container added running always does.
	Stdout, Stderr string
	Echo           bool
	UntilSignal    bool
	// DetachKeys, with a TTY, detach an attached client when they pass
	// on its stdin: the stream ends, the process goes on.
	DetachKeys []byte
	// IgnoresTerm: no signal but SIGKILL ends the process.
	IgnoresTerm bool
	// Unkillable: nothing ends it (a process in D state), and a removal
	// by force fails.
	Unkillable bool
	// Run, when set, is the process: it returns the exit status.
	Run func(p *Process) int
	// Exec is what a process exec'd in it does; nil: it exits 0.
	Exec func(p *Process) int
	// StartError makes a start fail with this message.
	StartError string
	// OnStart is called when the process has started, before the start
	// call is answered.
	OnStart func()

	// AutoRemove: once it ends, dockerd removes it by itself; it shows as
	// "removing" until RemovingFor more inspects have seen it (-1: for
	// ever). A container created with --rm is removed at once.
	AutoRemove  bool
	RemovingFor int
	// RemoveError makes a removal fail with this message; the
	// container stays (its processes are ended).
	RemoveError string
	// HangRemove makes a removal answer nothing until the client gives up.
	HangRemove bool

	// Resized receives every resize of its TTY (made by AddContainer,
	// buffered).
	Resized chan container.ResizeOptions

	d        *Daemon
	created  time.Time
	stdinR   *io.PipeReader
	stdinW   *io.PipeWriter
	signals  chan string
	sigLog   []string
	removals []container.RemoveOptions
	attached []*attachment
	logs     bytes.Buffer // multiplexed, as docker logs sends it without a TTY
	waiters  []waiter
	gone     bool
	outMu    *sync.Mutex // orders its writers
}

// Process is what a container's or an exec's process sees.
type Process struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Signals are the signals sent to it, by name ("SIGTERM").
	Signals <-chan string
}

type waiter struct {
	condition container.WaitCondition
	ch        chan int
}

// attachment is one attached client's connection.
type attachment struct {
	conn                net.Conn
	stdout, stderr, tty bool
	once                sync.Once
}

func (a *attachment) close() { a.once.Do(func() { a.conn.Close() }) }

// AddContainer adds c to the daemon, running its process if its State is
// running (or paused, or restarting), and returns it.
func (d *Daemon) AddContainer(c *Container) *Container {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.add(c)
	if c.running() {
		state := c.State
		c.UntilSignal = true
		d.startProcess(c)
		c.State = state
	}
	return c
}

func (d *Daemon) add(c *Container) {
	c.d = d
	if c.ID == "" {
		c.ID = d.newID()
	}
	if c.State == "" {
		c.State = container.StateCreated
	}
	if c.Config == nil {
		c.Config = &container.Config{}
	}
	if c.Host == nil {
		c.Host = &container.HostConfig{}
	}
	if c.Labels == nil {
		c.Labels = c.Config.Labels
	}
	c.created = time.Now()
	c.outMu = &sync.Mutex{}
	c.Resized = make(chan container.ResizeOptions, 8)
	c.signals = make(chan string, 16)
	c.stdinR, c.stdinW = io.Pipe()
	d.containers = append(d.containers, c)
}

// find resolves a container as dockerd does: full ID, name, or a unique
// ID prefix. Under d.mu.
func (d *Daemon) find(ref string) *Container {
	if ref == "" {
		return nil
	}
	var prefixed []*Container
	for _, c := range d.containers {
		if c.ID == ref || c.Name == strings.TrimPrefix(ref, "/") {
			return c
		}
		if strings.HasPrefix(c.ID, ref) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return nil
}

// Container returns the container ref names, or nil when there is none.
func (d *Daemon) Container(ref string) *Container {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.find(ref)
}

// ContainerIDs are the IDs of the daemon's containers, in the order they
// were added.
func (d *Daemon) ContainerIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, c := range d.containers {
		out = append(out, c.ID)
	}
	return out
}

// Running reports whether c's process runs.
func (c *Container) Running() bool {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	return c.running()
}

func (c *Container) running() bool {
	return c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting
}

// Signals are the signals sent to c, in order.
func (c *Container) Signals() []string {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	return slices.Clone(c.sigLog)
}

// Removals are the options of every removal asked of c.
func (c *Container) Removals() []container.RemoveOptions {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	return slices.Clone(c.removals)
}

// Signal sends c's process sig from outside the daemon's API: what a
// process's own fate would do.
func (d *Daemon) Signal(ref, sig string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.find(ref); c != nil {
		c.signal(sig)
	}
}

// signal delivers sig to c's process. Under d.mu.
func (c *Container) signal(sig string) {
	sig = signalName(sig)
	c.sigLog = append(c.sigLog, sig)
	select {
	case c.signals <- sig:
	default:
	}
}

func signalName(s string) string {
	s = strings.ToUpper(s)
	if n, err := strconv.Atoi(s); err == nil {
		return unix.SignalName(unix.Signal(n))
	}
	if !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	return s
}

// startProcess runs c's process. Under d.mu.
func (d *Daemon) startProcess(c *Container) {
	c.State = container.StateRunning
	if !c.Config.OpenStdin {
		c.stdinW.Close()
	}
	p := &Process{Stdin: c.stdinR, Stdout: c.writer(stdcopy.Stdout), Stderr: c.writer(stdcopy.Stderr), Signals: c.signals}
	run := c.Run
	if run == nil {
		run = c.script
	}
	go func() {
		code := run(p)
		d.exited(c, code)
	}()
}

// script is the process made of c's fields.
func (c *Container) script(p *Process) int {
	io.WriteString(p.Stdout, c.Stdout)
	io.WriteString(p.Stderr, c.Stderr)
	if c.Echo {
		io.Copy(p.Stdout, p.Stdin)
	}
	if !c.UntilSignal {
		return c.ExitCode
	}
	for sig := range p.Signals {
		if c.Unkillable || c.IgnoresTerm && sig != "SIGKILL" {
			continue
		}
		return 128 + int(unix.SignalNum(sig))
	}
	return c.ExitCode
}

// exited is what the daemon does when c's process ends: the attached
// streams end first, then the exit is reported; a --rm container goes.
func (d *Daemon) exited(c *Container, code int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range c.attached {
		a.close()
	}
	c.attached = nil
	c.stdinR.CloseWithError(io.ErrClosedPipe) // nobody reads it any more
	c.State, c.ExitCode = container.StateExited, code
	d.notify(c, container.WaitConditionNotRunning, container.WaitConditionNextExit)
	switch {
	case c.Host.AutoRemove:
		d.remove(c)
	case c.AutoRemove:
		c.State = container.StateRemoving
		if c.RemovingFor == 0 {
			d.remove(c)
		}
	}
}

// notify answers the waits for one of conditions. Under d.mu.
func (d *Daemon) notify(c *Container, conditions ...container.WaitCondition) {
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if slices.Contains(conditions, w.condition) {
			code := c.ExitCode
			if w.condition == container.WaitConditionRemoved && d.podmanBefore("4.6.0") {
				code = 0 // containers/podman#18889
			}
			w.ch <- code
			continue
		}
		keep = append(keep, w)
	}
	c.waiters = keep
}

// remove deletes c. Under d.mu.
func (d *Daemon) remove(c *Container) {
	d.containers = slices.DeleteFunc(d.containers, func(x *Container) bool { return x == c })
	c.gone = true
	d.notify(c, container.WaitConditionRemoved, container.WaitConditionNotRunning, container.WaitConditionNextExit)
}

// writer is c's stdout or stderr: what it writes goes to the log and to
// every client attached to that stream.
func (c *Container) writer(stream stdcopy.StdType) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		c.outMu.Lock()
		defer c.outMu.Unlock()
		stdcopy.NewStdWriter(&c.logs, stream).Write(p)
		c.d.mu.Lock()
		attached := slices.Clone(c.attached)
		c.d.mu.Unlock()
		for _, a := range attached {
			switch {
			case a.tty && (a.stdout || a.stderr):
				a.conn.Write(p)
			case stream == stdcopy.Stdout && a.stdout, stream == stdcopy.Stderr && a.stderr:
				stdcopy.NewStdWriter(a.conn, stream).Write(p)
			}
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// containersHandler answers create and list.
func (d *Daemon) containersHandler(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if op == "ContainerCreate" {
			var req container.CreateRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Config == nil {
				Fail(http.StatusBadRequest, "bad create request")(w, r)
				return
			}
			c := &Container{Name: r.URL.Query().Get("name"), Image: req.Config.Image, Config: req.Config, Host: req.HostConfig}
			c.Command = strings.Join(req.Config.Cmd, " ")
			if d.Create != nil {
				d.Create(c)
			}
			d.add(c)
			w.WriteHeader(http.StatusCreated)
			jsonReply(container.CreateResponse{ID: c.ID})(w, r)
			return
		}
		f, err := filters.FromJSON(r.URL.Query().Get("filters"))
		if err != nil {
			Fail(http.StatusBadRequest, err.Error())(w, r)
			return
		}
		all := r.URL.Query().Get("all") == "1"
		out := []container.Summary{}
		for _, c := range d.containers {
			if d.IgnoreFilters || f.MatchKVList("label", c.Labels) && (all || c.running()) {
				out = append(out, c.summary())
			}
		}
		jsonReply(out)(w, r)
	}
}

func (c *Container) summary() container.Summary {
	status := c.Status
	if status == "" {
		status = string(c.State)
	}
	return container.Summary{ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, Command: c.Command,
		Created: c.created.Unix(), Labels: c.Labels, State: c.State, Status: status}
}

// containerHandler answers the calls about one container.
func (d *Daemon) containerHandler(op, ref string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		c := d.find(ref)
		if c == nil {
			d.mu.Unlock()
			Fail(http.StatusNotFound, "No such container: "+ref)(w, r)
			return
		}
		q := r.URL.Query()
		switch op {
		case "ContainerInspect":
			d.inspect(w, c)
		case "ContainerAttach":
			d.mu.Unlock()
			d.attach(w, c, q)
			return
		case "ContainerWait":
			d.wait(w, r, c, container.WaitCondition(q.Get("condition")))
			return // wait unlocks
		case "ContainerStart":
			d.start(w, c)
			return // start unlocks
		case "ContainerKill":
			if !c.running() && d.Podman != "" {
				Fail(http.StatusInternalServerError, "can only kill running containers. "+c.ID+" is in state exited: container state improper")(w, r)
				break
			}
			if !c.running() {
				Fail(http.StatusConflict, "Container "+c.ID+" is not running")(w, r)
				break
			}
			c.signal(cmpOr(q.Get("signal"), "SIGKILL"))
			w.WriteHeader(http.StatusNoContent)
		case "ContainerStop":
			d.mu.Unlock()
			d.stop(w, c, q.Get("signal"))
			return
		case "ContainerResize":
			h, _ := strconv.ParseUint(q.Get("h"), 10, 32)
			wd, _ := strconv.ParseUint(q.Get("w"), 10, 32)
			select {
			case c.Resized <- container.ResizeOptions{Height: uint(h), Width: uint(wd)}:
			default:
			}
			w.WriteHeader(http.StatusOK)
		case "ContainerRemove":
			d.mu.Unlock()
			d.removeCall(w, r, c, container.RemoveOptions{Force: q.Get("force") == "1", RemoveVolumes: q.Get("v") == "1", RemoveLinks: q.Get("link") == "1"})
			return
		case "ContainerLogs":
			logs := slices.Clone(c.logs.Bytes())
			tty := c.Config.Tty
			d.mu.Unlock()
			w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
			if tty {
				var out, errOut bytes.Buffer
				stdcopy.StdCopy(&out, &errOut, bytes.NewReader(logs))
				logs = append(out.Bytes(), errOut.Bytes()...)
			}
			w.Write(logs)
			return
		case "ContainerExecCreate":
			d.execCreate(w, r, c)
		}
		d.mu.Unlock()
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// inspect answers an inspect of c. Under d.mu. A container dockerd is
// removing by itself goes once RemovingFor inspects have seen it.
func (d *Daemon) inspect(w http.ResponseWriter, c *Container) {
	if c.State == container.StateRemoving && c.RemovingFor >= 0 {
		if c.RemovingFor == 0 {
			d.remove(c)
			Fail(http.StatusNotFound, "No such container: "+c.ID)(w, nil)
			return
		}
		c.RemovingFor--
	}
	jsonReply(container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{
			ID: c.ID, Name: "/" + c.Name, Image: c.Image, HostConfig: c.Host,
			State: &container.State{Status: c.State, Running: c.running(), ExitCode: c.ExitCode},
		},
		Config: c.Config,
	})(w, nil)
}

// wait answers at once that the wait is registered, and the exit status
// when condition is met. It unlocks d.mu.
func (d *Daemon) wait(w http.ResponseWriter, r *http.Request, c *Container, condition container.WaitCondition) {
	if condition == "" {
		condition = container.WaitConditionNotRunning
	}
	ch := make(chan int, 1)
	if condition == container.WaitConditionNotRunning && !c.running() {
		ch <- c.ExitCode
	} else {
		c.waiters = append(c.waiters, waiter{condition, ch})
	}
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	select {
	case code := <-ch:
		json.NewEncoder(w).Encode(container.WaitResponse{StatusCode: int64(code)})
	case <-r.Context().Done():
	case <-d.stopped:
	}
}

// start starts c's process. It unlocks d.mu.
func (d *Daemon) start(w http.ResponseWriter, c *Container) {
	if c.StartError != "" {
		d.mu.Unlock()
		Fail(http.StatusInternalServerError, c.StartError)(w, nil)
		return
	}
	if !c.running() {
		d.startProcess(c)
	}
	onStart := c.OnStart
	d.mu.Unlock()
	if onStart != nil {
		onStart()
	}
	w.WriteHeader(http.StatusNoContent)
}

// stop sends c its stop signal, and SIGKILL when that does not end it
// soon: the fake does not wait a grace period out.
func (d *Daemon) stop(w http.ResponseWriter, c *Container, sig string) {
	d.mu.Lock()
	if !c.running() {
		d.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if sig == "" {
		sig = cmpOr(c.Config.StopSignal, "SIGTERM")
	}
	c.signal(sig)
	d.mu.Unlock()
	for range 10 {
		if !c.Running() {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.mu.Lock()
	if c.running() {
		c.signal("SIGKILL")
	}
	d.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// removeCall removes c as dockerd does, with c's misbehaviour.
func (d *Daemon) removeCall(w http.ResponseWriter, r *http.Request, c *Container, opts container.RemoveOptions) {
	d.mu.Lock()
	c.removals = append(c.removals, opts)
	hang := c.HangRemove
	d.mu.Unlock()
	if hang {
		NoAnswer(w, r)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case c.gone:
		Fail(http.StatusNotFound, "No such container: "+c.ID)(w, r)
	case c.State == container.StateRemoving:
		Fail(http.StatusConflict, "removal of container "+c.ID+" is already in progress")(w, r)
	case c.Unkillable && c.running():
		Fail(http.StatusInternalServerError, "Could not kill running container "+c.ID+", cannot remove - tried to kill container, but did not receive an exit event")(w, r)
	case c.RemoveError != "":
		if c.running() {
			c.signal("SIGKILL")
		}
		Fail(http.StatusInternalServerError, c.RemoveError)(w, r)
	case c.running() && !opts.Force:
		Fail(http.StatusConflict, "You cannot remove a running container "+c.ID+". Stop the container before attempting removal or force remove")(w, r)
	default:
		if c.running() {
			c.State = container.StateExited // killed: SIGKILL ends every process
			c.ExitCode = 137
			for _, a := range c.attached {
				a.close()
			}
		}
		d.remove(c)
		w.WriteHeader(http.StatusNoContent)
	}
}

// attach hijacks the connection for c's streams: its output goes there,
// and what the client sends is c's stdin until the client closes its
// half, or sends c's detach keys.
func (d *Daemon) attach(w http.ResponseWriter, c *Container, q map[string][]string) {
	get := func(k string) bool { return len(q[k]) > 0 && q[k][0] == "1" }
	d.mu.Lock()
	if c.gone || c.State == container.StateExited || c.State == container.StateDead {
		d.mu.Unlock()
		Fail(http.StatusConflict, "You cannot attach to a stopped container, start it first")(w, nil)
		return
	}
	if c.StartError != "" && d.Podman != "" {
		// Podman creates the container in the OCI runtime at attach,
		// and answers its failure with a bare 409.
		d.mu.Unlock()
		w.WriteHeader(http.StatusConflict)
		return
	}
	d.mu.Unlock()
	conn, in, err := d.hijack(w)
	if err != nil {
		return
	}
	d.mu.Lock()
	a := &attachment{conn: conn, stdout: get("stdout"), stderr: get("stderr"), tty: c.Config.Tty}
	c.attached = append(c.attached, a)
	keys, tty := c.DetachKeys, c.Config.Tty
	d.mu.Unlock()
	if !get("stdin") {
		return
	}
	go func() {
		var seen []byte
		buf := make([]byte, 1024)
		for {
			n, err := in.Read(buf)
			seen = append(seen, buf[:n]...)
			if tty && keys != nil && bytes.Contains(seen, keys) {
				d.mu.Lock()
				c.attached = slices.DeleteFunc(c.attached, func(x *attachment) bool { return x == a })
				d.mu.Unlock()
				a.close() // detached: the stream ends, the process goes on
				return
			}
			if n > 0 {
				c.stdinW.Write(buf[:n])
			}
			if err != nil {
				c.stdinW.Close()
				return
			}
		}
	}()
}

// podmanBefore reports whether the daemon plays a Podman older than v.
func (d *Daemon) podmanBefore(v string) bool {
	return d.Podman != "" && versions.LessThan(d.Podman, v)
}
