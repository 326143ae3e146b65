package engine

import (
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
// The daemon acts on the sequence itself (it ends the attach stream); Run
// only needs the bytes to tell a detach from an exit afterwards.
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

// keyWatch passes a reader's bytes through unchanged and remembers whether
// the detach sequence went by, anywhere in the stream.
type keyWatch struct {
	r    io.Reader
	seq  []byte
	last []byte // the most recent len(seq) bytes
	seen atomic.Bool
}

func newKeyWatch(r io.Reader, seq []byte) *keyWatch {
	return &keyWatch{r: r, seq: seq, last: make([]byte, 0, len(seq))}
}

func (w *keyWatch) Read(p []byte) (int, error) {
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

// Seen reports whether the detach sequence has been read.
func (w *keyWatch) Seen() bool { return w.seen.Load() }
