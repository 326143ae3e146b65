package engine

import (
	"errors"
	"testing"
)

func TestCommandError(t *testing.T) {
	cases := []struct {
		daemon string
		status int // 0: not a command error
	}{
		{`OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown`, 127},
		{`OCI runtime create failed: exec: "/bin/x": stat /bin/x: no such file or directory: unknown`, 127},
		{`OCI runtime create failed: exec: "/data/script.sh": permission denied: unknown`, 126},
		{`driver failed programming external connectivity on endpoint`, 0},
	}
	for _, c := range cases {
		err := commandError(errors.New(c.daemon))
		var ce *CommandError
		if got := errors.As(err, &ce); got != (c.status != 0) || (got && ce.Status != c.status) {
			t.Errorf("%q: got %v, want status %d", c.daemon, err, c.status)
		}
		if err.Error() != c.daemon {
			t.Errorf("the message must stay the daemon's: %q", err)
		}
	}
}
