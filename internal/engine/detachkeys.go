package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
)

// defaultDetachKeys is the daemon's sequence when none is given: ctrl-p ctrl-q.
var defaultDetachKeys = []byte{0x10, 0x11}

// detachSequence returns the bytes of a --detach-keys value, in the syntax
// the daemon accepts: comma-separated keys, each a single character or
// "ctrl-" followed by one of a-z @ [ \ ] ^ _.
//
// dockerd acts on the sequence itself (it ends the attach stream), and Run
// needs the bytes only to tell a detach from an exit afterwards; for a
// daemon that does not (Podman), keyWatch acts on them.
func detachSequence(keys string) ([]byte, error) {
	if keys == "" {
		return defaultDetachKeys, nil
	}
	var seq []byte
	for _, k := range strings.Split(keys, ",") {
		switch {
		case len(k) == 1:
			seq = append(seq, k[0])
		case k == "DEL":
			seq = append(seq, 0x7f)
		case len(k) == len("ctrl-x") && strings.HasPrefix(k, "ctrl-") && strings.ContainsRune("@abcdefghijklmnopqrstuvwxyz[\\]^_", rune(k[5])):
			// The control code of a key is its ASCII value with the top bits
			// cleared: ctrl-@ is 0, ctrl-a 1, ctrl-_ 31.
			seq = append(seq, k[5]&0x1f)
		default:
			return nil, fmt.Errorf("invalid detach key %q in %q", k, keys)
		}
	}
	return seq, nil
}

// errDetached ends the user's input where keyWatch saw the detach keys
// in the daemon's stead.
var errDetached = errors.New("detached")

// keyWatch passes a reader's bytes on and remembers whether the detach
// sequence went by, anywhere in the stream.
//
// Where the daemon acts on the sequence itself (dockerd), the bytes pass
// unchanged: the daemon ends the stream. Where it does not (Podman, which
// hands them to the container), the watch is ours: it holds back bytes
// that may begin the sequence, drops the sequence, and ends the input with
// errDetached; the caller then closes the connection, which leaves the
// container running with its stdin open, as a detach does.
type keyWatch struct {
	r    io.Reader
	seq  []byte
	last []byte // the most recent len(seq) bytes
	seen atomic.Bool

	ours    bool
	pending []byte // ours: bytes that may be the start of the sequence
	ready   []byte // ours: bytes read that are input
	rerr    error  // ours: how the input ended
}

func newKeyWatch(r io.Reader, seq []byte, ours bool) *keyWatch {
	return &keyWatch{r: r, seq: seq, last: make([]byte, 0, len(seq)), ours: ours}
}

func (w *keyWatch) Read(p []byte) (int, error) {
	if !w.ours {
		n, err := w.r.Read(p)
		for _, b := range p[:n] {
			if len(w.last) == len(w.seq) {
				w.last = append(w.last[:0], w.last[1:]...)
			}
			w.last = append(w.last, b)
			if string(w.last) == string(w.seq) {
				w.seen.Store(true)
			}
		}
		return n, err
	}
	return w.readHolding(p)
}

// readHolding is Read for a watch of our own: it hands out the bytes read
// but the sequence, holding back those that may still become it; after
// the sequence it hands out what came before it, then errDetached. Bytes
// after the sequence in the same read are dropped: they were typed
// after the detach.
func (w *keyWatch) readHolding(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(w.ready) == 0 {
		switch {
		case w.seen.Load():
			return 0, errDetached
		case w.rerr != nil && len(w.pending) > 0:
			// The input ended inside a partial sequence: it was input.
			w.ready, w.pending = w.pending, nil
			continue
		case w.rerr != nil:
			return 0, w.rerr
		}
		buf := make([]byte, len(p))
		n, err := w.r.Read(buf)
		w.rerr = err
		for _, b := range buf[:n] {
			w.pending = append(w.pending, b)
			// Release what can no longer be the start of the sequence.
			for len(w.pending) > 0 && !bytes.HasPrefix(w.seq, w.pending) {
				w.ready = append(w.ready, w.pending[0])
				w.pending = w.pending[1:]
			}
			if len(w.pending) == len(w.seq) {
				w.seen.Store(true)
				w.pending = nil
				break
			}
		}
	}
	n := copy(p, w.ready)
	w.ready = w.ready[n:]
	return n, nil
}

// Seen reports whether the detach sequence has been read.
func (w *keyWatch) Seen() bool { return w.seen.Load() }

// detachedHere reports whether the watch, standing in for the daemon,
// ended the input at the detach keys: the connection was closed on our
// side, and its end is no error.
func (w *keyWatch) detachedHere() bool { return w != nil && w.ours && w.seen.Load() }
