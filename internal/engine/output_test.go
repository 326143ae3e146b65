package engine

import (
	"bufio"
	"bytes"
	"net"
	"testing"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// TestCopyOutput: the user sees the streams the run attached, and only
// those, whatever the daemon sends; a TTY's one stream goes to stdout.
func TestCopyOutput(t *testing.T) {
	var muxed bytes.Buffer
	stdcopy.NewStdWriter(&muxed, stdcopy.Stdout).Write([]byte("o"))
	stdcopy.NewStdWriter(&muxed, stdcopy.Stderr).Write([]byte("e"))
	tests := []struct {
		name           string
		cfg            container.Config
		body           string
		stdout, stderr string
	}{
		{name: "both", cfg: container.Config{AttachStdout: true, AttachStderr: true}, body: muxed.String(), stdout: "o", stderr: "e"},
		{name: "-a stdout drops stderr", cfg: container.Config{AttachStdout: true}, body: muxed.String(), stdout: "o"},
		{name: "-a stderr drops stdout", cfg: container.Config{AttachStderr: true}, body: muxed.String(), stderr: "e"},
		{name: "TTY: one stream, on stdout", cfg: container.Config{Tty: true, AttachStderr: true}, body: "raw", stdout: "raw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours, theirs := net.Pipe()
			go func() { theirs.Write([]byte(tt.body)); theirs.Close() }()
			resp := types.HijackedResponse{Conn: ours, Reader: bufio.NewReader(ours)}
			var out, errOut bytes.Buffer
			if err := <-copyOutput(resp, &tt.cfg, Streams{Out: &out, Err: &errOut}, func() {}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.stdout || errOut.String() != tt.stderr {
				t.Errorf("stdout, stderr = %q, %q; want %q, %q", out.String(), errOut.String(), tt.stdout, tt.stderr)
			}
		})
	}
}
