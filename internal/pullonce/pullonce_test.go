package pullonce

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: the state directory must be root's")
	}
}

// stateDir is a state directory as the lock wants it: root's, 0755.
func stateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// noLocksLeft checks that the pulls left no lock file behind.
func noLocksLeft(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, "pull-*")); len(left) != 0 {
		t.Errorf("lock files left: %q", left)
	}
}

// node is a fake daemon: it has the image once a fetch succeeded.
type node struct {
	have    atomic.Bool
	fetches atomic.Int32
	fail    error
	gate    chan struct{} // a fetch waits for it to close; nil: none
	started chan struct{} // closed when the first fetch starts
	once    sync.Once
}

func (n *node) pull(ref string, always bool, waiting *atomic.Int32, dir string) Pull {
	return Pull{
		Dir: dir, Ref: ref, Always: always,
		Have: func(context.Context) (bool, error) { return n.have.Load(), nil },
		Fetch: func(ctx context.Context) error {
			n.fetches.Add(1)
			n.once.Do(func() { close(n.started) })
			if n.gate != nil {
				select {
				case <-n.gate:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if n.fail != nil {
				return n.fail
			}
			n.have.Store(true)
			return nil
		},
		Waiting: func() { waiting.Add(1) },
	}
}

// TestOnePullForConcurrentCallers starts one caller, holds its fetch,
// starts more for the same reference, and lets the fetch finish: every
// caller succeeds (or gets the one fetch's error), with one fetch between
// them, and each of the later callers said it was waiting.
func TestOnePullForConcurrentCallers(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name   string
		always bool
		fail   error
	}{
		{"missing", false, nil},
		{"always", true, nil},
		{"failed", false, errors.New("pull image x: Get \"http://127.0.0.1:1/v2/\":\nconnection refused")},
		{"failed always", true, errors.New("pull image x: manifest unknown")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := stateDir(t)
			n := &node{gate: make(chan struct{}), started: make(chan struct{}), fail: tc.fail}
			var waiting atomic.Int32
			const callers = 8
			errs := make(chan error, callers)
			go func() { errs <- n.pull("example.org/a:1", tc.always, &waiting, dir).Do(context.Background()) }()
			<-n.started
			for range callers - 1 {
				go func() { errs <- n.pull("example.org/a:1", tc.always, &waiting, dir).Do(context.Background()) }()
			}
			for waiting.Load() < callers-1 {
				time.Sleep(time.Millisecond)
			}
			close(n.gate)
			want := ""
			if tc.fail != nil {
				want = "pull image x: Get \"http://127.0.0.1:1/v2/\": connection refused"
				if tc.always {
					want = tc.fail.Error()
				}
			}
			for range callers {
				err := <-errs
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != want && !(tc.fail != nil && errors.Is(err, tc.fail)) {
					t.Errorf("a caller got %q, want %q", got, want)
				}
			}
			if got := n.fetches.Load(); got != 1 {
				t.Errorf("%d fetches, want 1", got)
			}
			noLocksLeft(t, dir)
		})
	}
}

// TestPullAgainWhenNothingFresh: the outcome a caller finds must be of a
// pull that ended after it came; an old failure is not its answer, and an
// image that is there is not pulled for "missing".
func TestPullAgainWhenNothingFresh(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	n := &node{started: make(chan struct{}), fail: errors.New("registry down")}
	var waiting atomic.Int32
	if err := n.pull("example.org/a:1", false, &waiting, dir).Do(context.Background()); err == nil || err.Error() != "registry down" {
		t.Fatalf("first pull: %v, want the fetch's error", err)
	}
	n.fail = nil
	if err := n.pull("example.org/a:1", false, &waiting, dir).Do(context.Background()); err != nil {
		t.Fatalf("second pull, the registry back: %v", err)
	}
	if err := n.pull("example.org/a:1", false, &waiting, dir).Do(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := n.fetches.Load(); got != 2 {
		t.Errorf("%d fetches, want 2 (the third caller finds the image)", got)
	}
	if waiting.Load() != 0 {
		t.Errorf("%d callers waited, want none: the calls did not overlap", waiting.Load())
	}
	noLocksLeft(t, dir)
}

// TestGivingUpReleasesOthers: a caller whose context ends while it pulls
// (its job ended) leaves no failure behind; a waiter pulls itself.
func TestGivingUpReleasesOthers(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	n := &node{gate: make(chan struct{}), started: make(chan struct{})}
	var waiting atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- n.pull("example.org/a:1", false, &waiting, dir).Do(ctx) }()
	<-n.started
	second := make(chan error, 1)
	go func() { second <- n.pull("example.org/a:1", false, &waiting, dir).Do(context.Background()) }()
	for waiting.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("the caller that gave up: %v, want its context's error", err)
	}
	close(n.gate)
	if err := <-second; err != nil {
		t.Errorf("the waiter: %v, want its own pull to succeed", err)
	}
	if got := n.fetches.Load(); got != 2 {
		t.Errorf("%d fetches, want 2", got)
	}
	noLocksLeft(t, dir)
}

// TestKeysDiffer: other references have other locks, and the name says
// nothing a file name could not hold.
func TestKeysDiffer(t *testing.T) {
	a, b := LockFile("docker.io/library/busybox:latest"), LockFile("docker.io/library/busybox:1")
	if a == b || len(a) != len("pull-.lock")+32 {
		t.Errorf("LockFile: %q and %q", a, b)
	}
}

func TestParseOutcome(t *testing.T) {
	at := time.Unix(0, 1764600000000000000)
	for _, tc := range []struct {
		in   string
		want outcome
	}{
		{"ok 1764600000000000000\n", outcome{at: at}},
		{"failed 1764600000000000000 pull image x: down\n", outcome{at: at, err: "pull image x: down"}},
		{"", outcome{}},
		{"ok\n", outcome{}},
		{"failed 1764600000000000000\n", outcome{}},
		{"ok -5\n", outcome{}},
		{"pulling 1764600000000000000\n", outcome{}},
	} {
		if got := parseOutcome(tc.in); !got.at.Equal(tc.want.at) || got.err != tc.want.err {
			t.Errorf("parseOutcome(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if tc.want.at.IsZero() {
			continue
		}
		if got := parseOutcome(tc.want.String()); !got.at.Equal(tc.want.at) || got.err != tc.want.err {
			t.Errorf("round trip of %+v: %+v", tc.want, got)
		}
	}
}
