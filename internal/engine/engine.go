// Package engine is userdocker's imperative shell around the Docker Engine
// API: it makes sure an image is there, and runs a request.Plan the way
// `docker run` does (create, attach, wait, start, stream, exit code).
//
// Nothing here decides policy: the plan it is given is final. What it adds is
// what talking to a daemon needs: bounded waits, one clear line when the
// daemon cannot be reached, and cleanup of what it created when a run fails.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/client"

	"github.com/userdocker/userdocker/internal/request"
)

// DefaultTimeout bounds each call that is not a stream (ping, inspect,
// create, kill, resize, remove), so that a hung dockerd ends in an error
// instead of a hung userdocker.
const DefaultTimeout = 30 * time.Second

// startTimeout bounds ContainerStart. Starting runs the OCI runtime and its
// hooks (the NVIDIA hook among them), which can be slow on a loaded node, so
// it gets more than the other calls.
const startTimeout = 2 * time.Minute

// Engine talks to one Docker daemon.
type Engine struct {
	api     *client.Client
	host    string
	timeout time.Duration
	// detachGrace is how long Run waits for the exit status after the
	// attach stream ended, before it asks the daemon whether the container
	// still runs (a detach) or is on its way out.
	detachGrace time.Duration
	// watch is the client's transport, which keeps what the daemon says
	// of itself in its headers (see Daemon).
	watch    *headerWatch
	daemonMu sync.Mutex
	daemon   *request.Daemon // once learned
	// pullDir is the state directory that makes pulls single flights
	// ("": each pull on its own); pullNote hears when it cannot.
	pullDir  string
	pullNote func(format string, args ...any)
}

// New returns an Engine for the daemon at host (e.g.
// "unix:///var/run/docker.sock"), which comes from the site's configuration.
// Nothing in the environment is consulted: DOCKER_HOST, DOCKER_API_VERSION,
// DOCKER_CERT_PATH and proxy variables decide nothing. The API version is
// negotiated with the daemon on first use. New does not connect; Ping does.
func New(host string) (*Engine, error) {
	transport := &http.Transport{}
	hc := &http.Client{Transport: transport, CheckRedirect: client.CheckRedirect}
	c, err := client.NewClientWithOpts(
		client.WithHTTPClient(hc),
		client.WithHost(host),
		client.WithAPIVersionNegotiation(),
	)
	if err != nil {
		return nil, fmt.Errorf("docker host %q: %w", host, err)
	}
	// WithHost sets a TCP transport to take its proxy from HTTP_PROXY and
	// friends; the caller's environment must not route our requests.
	transport.Proxy = nil
	// Outermost, once the client has set up (and wrapped) the transport,
	// which it needs to find as it made it: the headers of every answer.
	watch := &headerWatch{next: hc.Transport}
	hc.Transport = watch
	return &Engine{api: c, host: host, timeout: DefaultTimeout, detachGrace: 250 * time.Millisecond, watch: watch}, nil
}

// Host returns the daemon address this Engine talks to.
func (e *Engine) Host() string { return e.host }

// Close releases the client's idle connections.
func (e *Engine) Close() error { return e.api.Close() }

// Ping checks that the daemon answers, and returns an *UnreachableError
// when it does not.
func (e *Engine) Ping(ctx context.Context) error {
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		_, err := e.api.Ping(ctx)
		return err
	})
	return e.wrap(err, "ping the Docker daemon")
}

// ServerVersion returns the daemon's version: its engine release, API
// version, OS and architecture.
func (e *Engine) ServerVersion(ctx context.Context) (types.Version, error) {
	var v types.Version
	err := e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		v, err = e.api.ServerVersion(ctx)
		return err
	})
	return v, e.wrap(err, "get the Docker daemon's version")
}

// UnreachableError says that the daemon could not be talked to at all: its
// socket is missing or refuses us, or it did not answer in time. It is
// returned as is, not wrapped in what was being done: the operation does not
// matter when the daemon is not there.
type UnreachableError struct {
	Host    string
	Timeout time.Duration // non-zero: the daemon accepted the call but did not answer within it
	Err     error
}

func (e *UnreachableError) Error() string {
	switch {
	case e.Timeout != 0:
		return fmt.Sprintf("the Docker daemon at %s did not answer within %s: is dockerd hung?", e.Host, e.Timeout)
	case errors.Is(e.Err, fs.ErrPermission):
		return fmt.Sprintf("cannot reach the Docker daemon at %s: permission denied on its socket", e.Host)
	default:
		return fmt.Sprintf("cannot reach the Docker daemon at %s: is dockerd running?", e.Host)
	}
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// errTimedOut marks a call that bounded cut short; wrap turns it into an
// *UnreachableError.
type errTimedOut struct {
	after time.Duration
	err   error
}

func (e *errTimedOut) Error() string { return fmt.Sprintf("no answer within %s: %v", e.after, e.err) }
func (e *errTimedOut) Unwrap() error { return e.err }

// bounded runs call with a context that ends after limit, or with ctx,
// whichever is first. When that limit ended the call, the error says so;
// when ctx did (the caller's own deadline or cancellation, such as the
// epilog's budget), the error is ctx's, whatever the client made of it.
func (e *Engine) bounded(ctx context.Context, limit time.Duration, call func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := call(cctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil && cctx.Err() == context.DeadlineExceeded:
		return &errTimedOut{after: limit, err: err}
	}
	return err
}

// noAnswer is the error for a call that the daemon accepted but did not
// answer within the engine's timeout.
func (e *Engine) noAnswer(err error) error {
	if err == nil {
		err = context.DeadlineExceeded
	}
	return &UnreachableError{Host: e.host, Timeout: e.timeout, Err: err}
}

// wrap adds what was being done to err, unless the daemon could not be
// reached at all: then the result is an *UnreachableError.
func (e *Engine) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var timedOut *errTimedOut
	if errors.As(err, &timedOut) {
		return &UnreachableError{Host: e.host, Timeout: timedOut.after, Err: err}
	}
	if client.IsErrConnectionFailed(err) {
		return &UnreachableError{Host: e.host, Err: err}
	}
	return asConflict(fmt.Errorf(format+": %w", append(args, err)...))
}

// isNotFound reports whether the daemon answered "no such object".
func isNotFound(err error) bool {
	return cerrdefs.IsNotFound(err)
}
