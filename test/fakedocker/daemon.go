package fakedocker

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// APIVersion is the Engine API version the fake speaks: Debian 12's
// dockerd 20.10's, so that the client negotiates what it does on the test
// machine.
const APIVersion = "1.41"

// Daemon is an in-memory Docker daemon. Make one with New, fill it with
// AddContainer and AddImage, and Serve it.
type Daemon struct {
	// IgnoreFilters makes the container list answer every container,
	// as a daemon that dropped the label filter would.
	IgnoreFilters bool
	// DataRoot is Info's DockerRootDir; Serve makes a fresh directory
	// when it is empty.
	DataRoot string
	// Podman, when set, makes the daemon answer as rootful Podman's
	// Docker-compatible service of that release does ("4.3.1"), where it
	// differs in ways userdocker handles (measured on 4.3.1): every answer
	// carries a Libpod-Api-Version header; a wait for "removed" of a --rm
	// container reports 0 before 4.6; an attach to a container whose
	// start will fail is a bare 409; a kill of a container that is not
	// running is a 500 "container state improper".
	Podman string
	// CgroupDriver and CgroupVersion are Info's; "" in CgroupDriver is
	// "cgroupfs", as this project's daemons have it.
	CgroupDriver, CgroupVersion string
	// Create, when set, is called with each container a create makes
	// (its name, image and configuration from the request) before it
	// exists: the test sets there how its process behaves, and may give
	// it an ID.
	Create func(c *Container)

	mu         sync.Mutex
	containers []*Container
	images     []*Image
	execs      map[string]*execution
	calls      []Call
	on         map[string]http.HandlerFunc
	before     map[string]func(Call)
	after      map[string]func(Call)
	inFlight   map[string]int
	most       map[string]int
	host       string
	seq        int
	stopped    chan struct{}
	hijacked   []net.Conn
}

// New returns an empty Daemon.
func New() *Daemon {
	return &Daemon{
		execs:    map[string]*execution{},
		on:       map[string]http.HandlerFunc{},
		before:   map[string]func(Call){},
		after:    map[string]func(Call){},
		inFlight: map[string]int{},
		most:     map[string]int{},
		stopped:  make(chan struct{}),
	}
}

// Call is one request the daemon received.
type Call struct {
	Op     string // the operation, named after the client's method
	Method string
	Path   string // without the API version: "/containers/ID/stop"
	// Version is the API version in the request's path ("1.41"), if any.
	Version string
	Query   url.Values
	// ID is the container or exec the call is about, resolved to its
	// full ID when the daemon knows it, else as the client named it.
	ID   string
	Body []byte // nil for an image archive
}

// String is "METHOD PATH", as a daemon's access log would name the call.
func (c Call) String() string { return c.Method + " " + c.Path }

// Decode decodes the call's JSON body into v.
func (c Call) Decode(v any) error { return json.Unmarshal(c.Body, v) }

// Serve listens on a new unix socket and answers until the test ends; it
// returns the socket's docker_host address. Serving again returns the
// same address.
func (d *Daemon) Serve(t testing.TB) string {
	t.Helper()
	if h := d.Host(); h != "" {
		return h
	}
	if d.DataRoot == "" {
		d.DataRoot = t.TempDir()
	}
	// Socket paths are short (108 bytes): t.TempDir can be too deep.
	dir, err := os.MkdirTemp("", "fakedocker")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(d.serve)}
	go srv.Serve(l)
	d.mu.Lock()
	d.host = "unix://" + sock
	d.mu.Unlock()
	t.Cleanup(func() {
		close(d.stopped)
		srv.Close()
		d.mu.Lock()
		for _, c := range d.hijacked {
			c.Close()
		}
		d.mu.Unlock()
		os.RemoveAll(dir)
	})
	return d.host
}

// Host is the daemon's docker_host address, once it serves.
func (d *Daemon) Host() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.host
}

// On makes h answer every call of op instead of the model.
func (d *Daemon) On(op string, h http.HandlerFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.on[op] = h
}

// Before makes the daemon call f, outside its lock, when a call of op
// arrives and before it answers: a test can hold calls there.
func (d *Daemon) Before(op string, f func(Call)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.before[op] = f
}

// After makes the daemon call f once it has answered a call of op.
func (d *Daemon) After(op string, f func(Call)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.after[op] = f
}

// Calls returns the calls received so far, in order. Pings are left out:
// the client's version negotiation pings before its first call.
func (d *Daemon) Calls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Call
	for _, c := range d.calls {
		if c.Op != "Ping" {
			out = append(out, c)
		}
	}
	return out
}

// Ops returns the operations of Calls, in order.
func (d *Daemon) Ops() []string {
	var out []string
	for _, c := range d.Calls() {
		out = append(out, c.Op)
	}
	return out
}

// CallsOf returns the calls of op, in order.
func (d *Daemon) CallsOf(op string) []Call {
	var out []Call
	for _, c := range d.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// MostInFlight is the most calls of op the daemon was handling at once.
func (d *Daemon) MostInFlight(op string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.most[op]
}

// Fail answers with the HTTP status and the daemon's error message, as
// dockerd does ("Error response from daemon: msg" to the client).
func Fail(status int, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
}

// Reply answers 200 with body.
func Reply(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, body)
	}
}

// NoAnswer answers nothing until the client gives up (or the test ends).
func NoAnswer(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

var (
	apiPath  = regexp.MustCompile(`^/v([0-9.]+)(/.*)$`)
	ctrPath  = regexp.MustCompile(`^/containers/([^/]+)(/[a-z]+)?$`)
	execPath = regexp.MustCompile(`^/exec/([^/]+)/([a-z]+)$`)
)

// route names the operation of a request and the container, exec or
// image it is about.
func route(method, path string, header http.Header) (op, subject string) {
	get := method == http.MethodGet || method == http.MethodHead
	switch {
	case path == "/_ping":
		return "Ping", ""
	case get && path == "/version":
		return "ServerVersion", ""
	case get && path == "/info":
		return "Info", ""
	case method == http.MethodPost && path == "/containers/create":
		return "ContainerCreate", ""
	case get && path == "/containers/json":
		return "ContainerList", ""
	case get && path == "/images/json":
		return "ImageList", ""
	case method == http.MethodPost && path == "/images/create":
		return "ImagePull", ""
	case method == http.MethodPost && path == "/images/load":
		return "ImageLoad", ""
	case get && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/json"):
		return "ImageInspect", strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/json")
	case method == http.MethodPost && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/tag"):
		return "ImageTag", strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/tag")
	case method == http.MethodDelete && strings.HasPrefix(path, "/images/"):
		return "ImageRemove", strings.TrimPrefix(path, "/images/")
	}
	if m := ctrPath.FindStringSubmatch(path); m != nil {
		ops := map[string]string{
			"GET /json": "ContainerInspect", "POST /attach": "ContainerAttach", "POST /wait": "ContainerWait",
			"POST /start": "ContainerStart", "POST /kill": "ContainerKill", "POST /stop": "ContainerStop",
			"POST /resize": "ContainerResize", "DELETE ": "ContainerRemove", "GET /logs": "ContainerLogs",
			"POST /exec": "ContainerExecCreate",
		}
		if op, ok := ops[method+" "+m[2]]; ok {
			return op, m[1]
		}
	}
	if m := execPath.FindStringSubmatch(path); m != nil {
		switch {
		case method == http.MethodPost && m[2] == "start" && header.Get("Upgrade") != "":
			return "ContainerExecAttach", m[1]
		case method == http.MethodPost && m[2] == "start":
			return "ContainerExecStart", m[1]
		case get && m[2] == "json":
			return "ContainerExecInspect", m[1]
		case method == http.MethodPost && m[2] == "resize":
			return "ContainerExecResize", m[1]
		}
	}
	return "Unknown", ""
}

func (d *Daemon) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", APIVersion)
	if d.Podman != "" {
		w.Header().Set("Libpod-Api-Version", d.Podman)
		w.Header().Set("Server", "Libpod/"+d.Podman+" (linux)")
	} else {
		w.Header().Set("Server", "Docker/20.10.24+dfsg1 (linux)")
	}
	path, version := r.URL.Path, ""
	if m := apiPath.FindStringSubmatch(path); m != nil {
		path, version = m[2], m[1]
	}
	op, subject := route(r.Method, path, r.Header)
	call := Call{Op: op, Method: r.Method, Path: path, Version: version, Query: r.URL.Query(), ID: subject}
	if op != "ImageLoad" {
		call.Body, _ = io.ReadAll(r.Body)
	}
	d.mu.Lock()
	if c := d.find(subject); c != nil && strings.HasPrefix(op, "Container") && op != "ContainerExecStart" {
		call.ID = c.ID
	}
	d.calls = append(d.calls, call)
	d.inFlight[op]++
	d.most[op] = max(d.most[op], d.inFlight[op])
	before, after, h := d.before[op], d.after[op], d.on[op]
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.inFlight[op]--
		d.mu.Unlock()
		if after != nil {
			after(call)
		}
	}()
	if before != nil {
		before(call)
	}
	if h == nil {
		h = d.model(op, call)
	}
	if op != "ImageLoad" {
		r.Body = io.NopCloser(strings.NewReader(string(call.Body)))
	}
	h(w, r)
}

// model returns the model's answer to op.
func (d *Daemon) model(op string, call Call) http.HandlerFunc {
	switch op {
	case "Ping":
		return Reply("text/plain", "OK")
	case "ServerVersion":
		return jsonReply(map[string]string{"Version": "20.10.24", "ApiVersion": APIVersion, "Os": "linux", "Arch": "amd64"})
	case "Info":
		return func(w http.ResponseWriter, _ *http.Request) {
			driver := d.CgroupDriver
			if driver == "" {
				driver = "cgroupfs"
			}
			jsonReply(map[string]string{"DockerRootDir": d.DataRoot, "CgroupDriver": driver, "CgroupVersion": d.CgroupVersion})(w, nil)
		}
	case "ContainerCreate", "ContainerList":
		return d.containersHandler(op)
	case "ImageInspect", "ImagePull", "ImageList", "ImageLoad", "ImageTag", "ImageRemove":
		return d.imagesHandler(op, call.ID)
	case "ContainerExecStart", "ContainerExecAttach", "ContainerExecInspect", "ContainerExecResize":
		return d.execHandler(op, call.ID)
	case "Unknown":
		return Fail(http.StatusNotFound, "page not found")
	}
	return d.containerHandler(op, call.ID)
}

func jsonReply(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
}

// newID returns a fresh 64-hex-digit ID.
func (d *Daemon) newID() string {
	d.seq++
	return fmt.Sprintf("%064x", 0xfa4e0000+d.seq)
}

// hijack takes over the connection of w for a raw stream, as dockerd does
// for attach and exec start, and answers the upgrade.
func (d *Daemon) hijack(w http.ResponseWriter) (net.Conn, io.Reader, error) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return nil, nil, err
	}
	d.mu.Lock()
	d.hijacked = append(d.hijacked, conn)
	d.mu.Unlock()
	io.WriteString(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	return conn, buf.Reader, nil
}
