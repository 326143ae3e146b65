package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/userdocker/userdocker/internal/pullonce"
)

// Pull policies, the values of the config's run.pull and of Plan.Pull.
const (
	PullNever   = "never"   // use only images the daemon already has
	PullMissing = "missing" // pull when the daemon does not have the image
	PullAlways  = "always"  // pull every time
)

// EnsureImage makes sure the daemon has the image ref (a normalized
// reference) according to policy, which is one of the Pull constants ("" is
// PullMissing, as in docker). Pull progress is shown on out as the docker CLI
// shows it, with cursor movements only when isTerm says out is a terminal.
// Once PullOnce was called, a pull is shared with the other callers that
// pull the same reference on the node at the same time.
func (e *Engine) EnsureImage(ctx context.Context, ref, policy string, out io.Writer, isTerm bool) error {
	switch policy {
	case PullAlways:
		return e.pullShared(ctx, ref, true, out, isTerm)
	case PullNever, PullMissing, "":
	default:
		return fmt.Errorf("unknown pull policy %q (want %q, %q or %q)", policy, PullNever, PullMissing, PullAlways)
	}

	present, err := e.hasImage(ctx, ref)
	if err != nil || present {
		return err
	}
	if policy == PullNever {
		return &MissingImageError{Ref: ref}
	}
	fmt.Fprintf(out, "Unable to find image '%s' locally\n", ref)
	return e.pullShared(ctx, ref, false, out, isTerm)
}

// PullOnce makes this Engine's pulls single flights on the node
// (internal/pullonce): concurrent pulls of one reference, by any process
// that does the same with the same state directory dir, become one pull,
// and the others wait for it and use its image. note, if not nil, hears
// when the lock cannot be had and a pull goes on alone.
func (e *Engine) PullOnce(dir string, note func(format string, args ...any)) {
	e.pullDir, e.pullNote = dir, note
}

// pullShared pulls ref, as a single flight when PullOnce said where.
// always: pull even when the daemon has ref, unless a pull of it ended
// while this one waited.
func (e *Engine) pullShared(ctx context.Context, ref string, always bool, out io.Writer, isTerm bool) error {
	if e.pullDir == "" {
		return e.pull(ctx, ref, out, isTerm)
	}
	return pullonce.Pull{
		Dir: e.pullDir, Ref: ref, Always: always,
		Have:  func(ctx context.Context) (bool, error) { return e.hasImage(ctx, ref) },
		Fetch: func(ctx context.Context) error { return e.pull(ctx, ref, out, isTerm) },
		Waiting: func() {
			fmt.Fprintf(out, "waiting for the pull of %s started by another job\n", ref)
		},
		Alone: func(err error) {
			if e.pullNote != nil {
				e.pullNote("pull %s without the node's pull lock: %v", ref, err)
			}
		},
	}.Do(ctx)
}

// MissingImageError is an image the daemon does not have, where the pull
// policy is never: the caller says on which node.
type MissingImageError struct{ Ref string }

func (e *MissingImageError) Error() string {
	return fmt.Sprintf("image %s is not available locally, and this system does not pull images (run.pull = %q)", e.Ref, PullNever)
}

func (e *Engine) hasImage(ctx context.Context, ref string) (bool, error) {
	_, found, err := e.InspectImage(ctx, ref)
	return found, err
}

// InspectImage returns what the daemon knows of the image ref (a
// reference or an ID): its ID and configuration. found is false, with no
// error, when the daemon does not have it.
func (e *Engine) InspectImage(ctx context.Context, ref string) (resp image.InspectResponse, found bool, err error) {
	err = e.bounded(ctx, e.timeout, func(ctx context.Context) error {
		var err error
		resp, err = e.api.ImageInspect(ctx, ref)
		return err
	})
	switch {
	case err == nil:
		return resp, true, nil
	case isNotFound(err):
		return resp, false, nil
	default:
		return resp, false, e.wrap(err, "inspect image %s", ref)
	}
}

// pull has no time limit of its own: an image can take long to arrive, and
// progress shows that the daemon is working. The caller's ctx ends it.
func (e *Engine) pull(ctx context.Context, ref string, out io.Writer, isTerm bool) error {
	body, err := e.api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return e.wrap(err, "pull image %s", ref)
	}
	defer body.Close()
	if err := jsonmessage.DisplayJSONMessagesStream(body, out, fdOf(out, &isTerm), isTerm, nil); err != nil {
		return fmt.Errorf("pull image %s: %w", ref, err)
	}
	return nil
}
