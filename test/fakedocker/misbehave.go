package fakedocker

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Behaviour says what the fake does with a connection.
type Behaviour int

const (
	// Hang accepts connections and never reads or answers.
	Hang Behaviour = iota
	// HangUp accepts connections and closes them at once.
	HangUp
)

// Start listens on a new unix socket under dir, world-accessible, that
// misbehaves as b says, and returns its docker_host address
// ("unix:///…/docker.sock"): what userdocker and the Slurm hooks do with a
// daemon that hangs or restarts, shown without stopping the real dockerd
// that other tests use. The socket and every connection are closed when
// the test ends.
func Start(t testing.TB, dir string, b Behaviour) string {
	t.Helper()
	path := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("fake docker socket: %v", err)
	}
	os.Chmod(path, 0o666)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if b == HangUp {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "unix://" + path
}
