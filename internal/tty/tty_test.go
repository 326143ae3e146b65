package tty

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
)

func TestPTYRawSizeRestore(t *testing.T) {
	master, slave, err := OpenPTY()
	if err != nil {
		t.Fatalf("OpenPTY: %v", err)
	}
	defer master.Close()
	defer slave.Close()

	if !IsTerminal(slave.Fd()) {
		t.Fatal("slave of a new pty is not a terminal")
	}
	if err := SetSize(master.Fd(), 33, 101); err != nil {
		t.Fatal(err)
	}
	h, w, err := Size(slave.Fd())
	if err != nil || h != 33 || w != 101 {
		t.Fatalf("Size = %d, %d, %v; want 33, 101, nil", h, w, err)
	}

	// Cooked mode echoes what is typed; raw mode does not, and passes ^C on.
	restore, err := Raw(slave.Fd())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte("a\x03")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 2)
	if _, err := io.ReadFull(slave, got); err != nil || !bytes.Equal(got, []byte("a\x03")) {
		t.Fatalf("raw read = %q, %v; want \"a\\x03\"", got, err)
	}
	restore()
	restore() // a second call must be harmless

	if _, err := master.Write([]byte("b\n")); err != nil {
		t.Fatal(err)
	}
	echo := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 16)
		n, _ := master.Read(buf)
		echo <- buf[:n]
	}()
	select {
	case b := <-echo:
		if !bytes.HasPrefix(b, []byte("b")) {
			t.Fatalf("after restore the terminal echoed %q; want it to echo \"b\"", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("after restore the terminal does not echo: mode not restored")
	}
}

func TestIsTerminalOnPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(r.Fd()) {
		t.Fatal("a pipe is reported as a terminal")
	}
	if _, err := Raw(r.Fd()); err == nil {
		t.Fatal("Raw on a pipe succeeded; want an error")
	}
}
