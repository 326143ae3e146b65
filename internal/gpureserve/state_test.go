package gpureserve

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func TestPrune(t *testing.T) {
	bound := Entry{UUID: "GPU-a", Token: "t1", PID: 10, PIDStart: 100, Container: "c1", Created: t0}
	pending := Entry{UUID: "GPU-b", Token: "t2", PID: 20, PIDStart: 200, Created: t0}
	live := Liveness{Now: t0.Add(time.Minute), Active: map[string]bool{"c1": true}, ProcStart: map[int]uint64{20: 200}}
	tests := []struct {
		name  string
		entry Entry
		l     func(Liveness) Liveness
		keep  bool
	}{
		{"container active", bound, nil, true},
		{"container gone or exited", bound, func(l Liveness) Liveness { l.Active = nil; return l }, false},
		{"pending, its process alive", pending, nil, true},
		{"pending, its process gone", pending, func(l Liveness) Liveness { l.ProcStart = nil; return l }, false},
		{"pending, its PID reused", pending, func(l Liveness) Liveness { l.ProcStart = map[int]uint64{20: 201}; return l }, false},
		{"pending past the grace", pending, func(l Liveness) Liveness { l.Now = t0.Add(PendingGrace); return l }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := live
			if tt.l != nil {
				l = tt.l(l)
			}
			keep, stale := Prune([]Entry{tt.entry}, l)
			if got := len(keep) == 1; got != tt.keep || len(keep)+len(stale) != 1 {
				t.Errorf("Prune: keep %v, stale %v; want kept = %v", keep, stale, tt.keep)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	entries := []Entry{{UUID: "MIG-a", UID: 2001, User: "alice", Token: "t", PID: 1, PIDStart: 2, Created: t0}}
	data, err := MarshalState(entries)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseState(data); err != nil || !reflect.DeepEqual(got, entries) {
		t.Errorf("ParseState(MarshalState(e)) = %v, %v; want %v", got, err, entries)
	}
	for _, tt := range []struct{ name, data, want string }{
		{"unknown key", `{"version":1,"reservations":[],"extra":1}`, `decode: json: unknown field "extra"`},
		{"other version", `{"version":2,"reservations":[]}`, "version 2, this userdocker reads version 1"},
		{"garbage", `{`, "decode: unexpected EOF"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseState([]byte(tt.data)); err == nil || err.Error() != tt.want {
				t.Errorf("ParseState(%s) = %v, want %q", tt.data, err, tt.want)
			}
		})
	}
}

func TestProcStartTime(t *testing.T) {
	stat := "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10"
	if got, err := ProcStartTime([]byte(stat)); err != nil || got != 98765 {
		t.Errorf("ProcStartTime = %d, %v; want 98765", got, err)
	}
	if _, err := ProcStartTime([]byte("1 (x) S 1")); err == nil || !strings.Contains(err.Error(), "fields after the command name") {
		t.Errorf("ProcStartTime(short) = %v, want a field-count error", err)
	}
	pid, start, err := SelfStart()
	if err != nil || pid != os.Getpid() || start == 0 {
		t.Errorf("SelfStart = %d, %d, %v", pid, start, err)
	}
	if got := ProcStarts([]Entry{{PID: pid}, {PID: 1 << 30}}); !reflect.DeepEqual(got, map[int]uint64{pid: start}) {
		t.Errorf("ProcStarts = %v, want only this process", got)
	}
}

func stateDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the state directory must be root-owned (CI runs tests as root)")
	}
	return filepath.Join(t.TempDir(), "state")
}

// TestStoreExcludes has many goroutines each take the lock, read the
// reservations, add one and save: with the lock, none is lost.
func TestStoreExcludes(t *testing.T) {
	dir := stateDir(t)
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Lock(context.Background(), dir)
			if err != nil {
				errs <- err
				return
			}
			defer s.Unlock()
			entries, err := s.Load()
			if err != nil {
				errs <- err
				return
			}
			time.Sleep(time.Millisecond) // widen the window a race would need
			errs <- s.Save(append(entries, Entry{UUID: "GPU-x", PID: i, Created: t0}))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Lock(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unlock()
	entries, err := s.Load()
	if err != nil || len(entries) != n {
		t.Errorf("after %d locked updates: %d entries, %v", n, len(entries), err)
	}
}

func TestStoreRefusesUntrustedFiles(t *testing.T) {
	dir := stateDir(t)
	s, err := Lock(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unlock()
	path := filepath.Join(dir, StateFile)
	if err := os.WriteFile(path, []byte(`{"version":1,"reservations":[]}`), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o666)
	_, err = s.Load()
	want := "GPU reservations: " + path + " must be a regular file owned by root and writable by nobody else (uid 0, mode 0666)"
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %q", err, want)
	}
	os.Remove(path)
	if err := os.Symlink("/etc/passwd", path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("Load(symlink) = %v, want a refusal", err)
	}
}

func TestLockRefusesWritableDir(t *testing.T) {
	dir := stateDir(t)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	_, err := Lock(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "writable by group or others (mode 0777)") {
		t.Errorf("Lock(0777 dir) = %v, want a refusal naming the mode", err)
	}
}
