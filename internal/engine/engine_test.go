package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/test/fakedocker"
)

// These tests use the real Docker client against sockets that are not a
// Docker daemon: none, a silent one, and a tiny HTTP server.

func TestPingNoDaemon(t *testing.T) {
	host := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	e, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	err = e.Ping(context.Background())
	want := "cannot reach the Docker daemon at " + host + ": is dockerd running?"
	if err == nil || err.Error() != want {
		t.Fatalf("Ping: %v\nwant: %s", err, want)
	}
	var unreachable *UnreachableError
	if !errors.As(err, &unreachable) {
		t.Errorf("Ping error is %T, want *UnreachableError", err)
	}

	// Any call reports the daemon, not the call, when the daemon is not there.
	err = e.EnsureImage(context.Background(), testImage, PullMissing, io.Discard, false)
	if err == nil || err.Error() != want {
		t.Errorf("EnsureImage: %v\nwant: %s", err, want)
	}
}

func TestPingHungDaemon(t *testing.T) {
	host := fakedocker.Start(t, t.TempDir(), fakedocker.Hang)
	e, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.timeout = 200 * time.Millisecond

	start := time.Now()
	err = e.Ping(context.Background())
	want := "the Docker daemon at " + host + " did not answer within 200ms: is dockerd hung?"
	if err == nil || err.Error() != want {
		t.Fatalf("Ping: %v\nwant: %s", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Ping took %s with a 200ms timeout", d)
	}

	// The caller's own cancellation is not the daemon's fault.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = e.Ping(ctx)
	var unreachable *UnreachableError
	if errors.As(err, &unreachable) && unreachable.Timeout != 0 {
		t.Errorf("a cancelled ctx was reported as a hung daemon: %v", err)
	}
}

// DOCKER_HOST and DOCKER_API_VERSION in the caller's environment decide
// nothing: the request goes to the configured socket, and the API version is
// negotiated with the daemon.
func TestNewIgnoresEnvironment(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "elsewhere.sock"))
	t.Setenv("DOCKER_API_VERSION", "1.24")
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", t.TempDir())

	d := fakedocker.New()
	e, err := New(d.Serve(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	v, err := e.ServerVersion(context.Background())
	if err != nil || v.Version != "20.10.24" || v.APIVersion != "1.41" {
		t.Fatalf("ServerVersion = %+v, %v; want 20.10.24, API 1.41", v, err)
	}
	present, err := e.hasImage(context.Background(), "busybox")
	if err != nil || present {
		t.Fatalf("hasImage = %v, %v; want false, nil (the server's 404 read as not found)", present, err)
	}
	calls := d.Calls()
	if last := calls[len(calls)-1]; last.Version != "1.41" || last.Path != "/images/busybox/json" {
		t.Errorf("calls = %v, want the last one at /v1.41/images/busybox/json", calls)
	}
}

func TestNewBadHost(t *testing.T) {
	_, err := New("nonsense")
	if err == nil || !strings.HasPrefix(err.Error(), `docker host "nonsense": `) {
		t.Fatalf("New(nonsense) = %v, want an error naming the host", err)
	}
}

func TestDetachSequence(t *testing.T) {
	tests := []struct {
		keys    string
		want    []byte
		wantErr string
	}{
		{keys: "", want: []byte{0x10, 0x11}},
		{keys: "ctrl-p,ctrl-q", want: []byte{0x10, 0x11}},
		{keys: "ctrl-x,x", want: []byte{0x18, 'x'}},
		{keys: "ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", want: []byte{0, 1, 26, 27, 28, 29, 30, 31}},
		{keys: "a,DEL", want: []byte{'a', 0x7f}},
		{keys: "ctrl-A", wantErr: `invalid detach key "ctrl-A" in "ctrl-A"`},
		{keys: "ctrl-p,", wantErr: `invalid detach key "" in "ctrl-p,"`},
		{keys: "alt-x", wantErr: `invalid detach key "alt-x" in "alt-x"`},
	}
	for _, tc := range tests {
		t.Run(tc.keys, func(t *testing.T) {
			got, err := detachSequence(tc.keys)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("detachSequence(%q) = %v, %v; want %v", tc.keys, got, err, tc.want)
			}
		})
	}
}

func TestKeyWatch(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		seen   bool
	}{
		{name: "no keys", chunks: []string{"hello", "\x10world"}, seen: false},
		{name: "in one read", chunks: []string{"ab\x10\x11cd"}, seen: true},
		{name: "split across reads", chunks: []string{"ab\x10", "\x11"}, seen: true},
		{name: "after a false start", chunks: []string{"\x10\x10", "\x11"}, seen: true},
		{name: "interrupted", chunks: []string{"\x10a\x11"}, seen: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in bytes.Buffer
			w := newKeyWatch(&chunkReader{chunks: tc.chunks}, defaultDetachKeys, false)
			if _, err := io.Copy(&in, w); err != nil {
				t.Fatal(err)
			}
			if in.String() != strings.Join(tc.chunks, "") {
				t.Errorf("passed on %q, want the input unchanged", in.String())
			}
			if w.Seen() != tc.seen {
				t.Errorf("Seen = %v, want %v", w.Seen(), tc.seen)
			}
		})
	}
}

// Our own watch (for a daemon that hands the keys on): the input up to
// the sequence passes, the sequence and what follows it do not, and the
// input ends with errDetached; a partial sequence is input.
func TestKeyWatchOurs(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		passed string
		seen   bool
	}{
		{name: "no keys", chunks: []string{"ab", "cd"}, passed: "abcd"},
		{name: "in one read", chunks: []string{"ab\x10\x11cd"}, passed: "ab", seen: true},
		{name: "split across reads", chunks: []string{"ab\x10", "\x11", "cd"}, passed: "ab", seen: true},
		{name: "after a false start", chunks: []string{"\x10\x10", "\x11"}, passed: "\x10", seen: true},
		{name: "interrupted", chunks: []string{"\x10a\x11"}, passed: "\x10a\x11"},
		{name: "input ends in a partial sequence", chunks: []string{"a\x10"}, passed: "a\x10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in bytes.Buffer
			w := newKeyWatch(&chunkReader{chunks: tc.chunks}, defaultDetachKeys, true)
			_, err := io.Copy(&in, w)
			if tc.seen != errors.Is(err, errDetached) || !tc.seen && err != nil {
				t.Fatalf("copy: %v, want errDetached: %v", err, tc.seen)
			}
			if in.String() != tc.passed {
				t.Errorf("passed on %q, want %q", in.String(), tc.passed)
			}
			if w.Seen() != tc.seen || w.detachedHere() != tc.seen {
				t.Errorf("Seen = %v, detachedHere = %v, want %v", w.Seen(), w.detachedHere(), tc.seen)
			}
		})
	}
}

// chunkReader returns its chunks one Read at a time.
type chunkReader struct{ chunks []string }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks = r.chunks[1:]
	return n, nil
}
