package engine

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/userdocker/userdocker/internal/request"
)

// Podman's Docker-compatible service answers every call, a ping or a
// 404 alike, with its libpod API version in this header; dockerd never
// sends it. dockerd names itself in Server ("Docker/20.10.24+dfsg1
// (linux)"), Podman there too ("Libpod/4.3.1 (linux)"). Reading them costs
// nothing: asking Podman for its version does (0.3 s measured: it runs
// conmon and the OCI runtime to ask theirs).
const (
	headerLibpod = "Libpod-Api-Version"
	headerServer = "Server"
)

// headerWatch is the client's transport: it passes every request on and
// keeps the engine headers of the last answer that had any.
type headerWatch struct {
	next http.RoundTripper

	mu     sync.Mutex
	seen   bool
	libpod string
	server string
}

func (h *headerWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(req)
	if resp != nil {
		h.mu.Lock()
		h.seen = true
		if v := resp.Header.Get(headerLibpod); v != "" {
			h.libpod = v
		}
		if v := resp.Header.Get(headerServer); v != "" {
			h.server = v
		}
		h.mu.Unlock()
	}
	return resp, err
}

// headers returns what the daemon said of itself so far; ok is false
// before its first answer.
func (h *headerWatch) headers() (libpod, server string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.libpod, h.server, h.seen
}

// Daemon returns what this Engine's daemon is (Docker or Podman, its
// release, the negotiated API version), learned once per Engine: from the
// headers of the answers so far, and when there were none yet, from one
// ping, which also negotiates the API version. It does not ask about CDI:
// see CDI.
func (e *Engine) Daemon(ctx context.Context) (request.Daemon, error) {
	e.daemonMu.Lock()
	defer e.daemonMu.Unlock()
	if e.daemon != nil {
		return *e.daemon, nil
	}
	libpod, server, seen := e.watch.headers()
	if !seen {
		// The client negotiates the API version before its first call;
		// after any answer, ClientVersion is the negotiated one.
		err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
			ping, err := e.api.Ping(ctx)
			if err == nil {
				e.api.NegotiateAPIVersionPing(ping)
			}
			return err
		})
		if err != nil {
			return request.Daemon{}, e.wrap(err, "ping the Docker daemon")
		}
		libpod, server, _ = e.watch.headers()
	}
	d := daemonFrom(libpod, server, e.api.ClientVersion())
	e.daemon = &d
	return d, nil
}

// daemonFrom makes a Daemon out of the engine headers and the negotiated
// API version.
func daemonFrom(libpod, server, api string) request.Daemon {
	if libpod != "" {
		return request.Daemon{Engine: request.EnginePodman, Version: libpod, API: api}
	}
	d := request.Daemon{Engine: request.EngineDocker, API: api}
	// "Docker/20.10.24+dfsg1 (linux)"
	if v, ok := strings.CutPrefix(server, "Docker/"); ok {
		d.Version, _, _ = strings.Cut(v, " ")
	}
	return d
}

// CDI returns Daemon with CDI filled in: whether the daemon injects CDI
// devices, and where its spec directories are when it says. Docker tells
// in Info (one call); Podman's Info never lists them, so its release
// decides.
func (e *Engine) CDI(ctx context.Context) (request.Daemon, error) {
	d, err := e.Daemon(ctx)
	if err != nil || d.CDIKnown {
		return d, err
	}
	if !d.Podman() {
		err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
			info, err := e.api.Info(ctx)
			d.CDISpecDirs = info.CDISpecDirs
			return err
		})
		if err != nil {
			return d, e.wrap(err, "ask the daemon about CDI")
		}
	}
	d.CDI, d.CDIKnown = d.CDIFrom(d.CDISpecDirs), true
	e.daemonMu.Lock()
	e.daemon = &d
	e.daemonMu.Unlock()
	return d, nil
}
