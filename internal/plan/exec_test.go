package plan

import (
	"reflect"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

func TestExec(t *testing.T) {
	alice := request.Caller{UID: 2001, GID: 2001, Name: "alice", Groups: []uint32{2001, 2100}}
	pol := policy.Default()
	pol.Run.Args.Allowed = flags("-e", "-w")
	pol.Run.Env = map[string]string{"HOME": "/home/alice"}
	noArgs := policy.Default()
	base := func() ExecRequest { return ExecRequest{Cmd: []string{"sh"}, Tty: true, Stdin: true} }
	tests := []struct {
		name   string
		change func(*ExecRequest)
		pol    *policy.Policy
		want   container.ExecOptions
		err    string
	}{
		{name: "baseline", want: container.ExecOptions{User: "2001:2001", Tty: true, AttachStdin: true, Cmd: []string{"sh"}}},
		{name: "user as oneself by name", change: func(r *ExecRequest) { r.User = "alice" }, want: container.ExecOptions{User: "2001:2001", Tty: true, AttachStdin: true, Cmd: []string{"sh"}}},
		{name: "user as oneself with own group", change: func(r *ExecRequest) { r.User = "2001:2100" }, want: container.ExecOptions{User: "2001:2001", Tty: true, AttachStdin: true, Cmd: []string{"sh"}}},
		{name: "user root", change: func(r *ExecRequest) { r.User = "0" }, err: `--user "0" is not allowed: exec runs as you (2001:2001)`},
		{name: "user root by name", change: func(r *ExecRequest) { r.User = "root" }, err: `--user "root" is not allowed: exec runs as you (2001:2001)`},
		{name: "own uid with root group", change: func(r *ExecRequest) { r.User = "2001:0" }, err: `--user "2001:0" is not allowed: exec runs as you (2001:2001)`},
		{name: "privileged", change: func(r *ExecRequest) { r.Privileged = true }, err: "--privileged is not allowed on this system"},
		{name: "env allowed", change: func(r *ExecRequest) { r.Env = []string{"A=1"} }, want: container.ExecOptions{User: "2001:2001", Tty: true, AttachStdin: true, Env: []string{"A=1"}, Cmd: []string{"sh"}}},
		{name: "env GPUs", change: func(r *ExecRequest) { r.Env = []string{"NVIDIA_VISIBLE_DEVICES=all"} }, err: "-e NVIDIA_VISIBLE_DEVICES is not allowed: userdocker sets it from the GPUs you were granted"},
		{name: "env site", change: func(r *ExecRequest) { r.Env = []string{"HOME=/root"} }, err: `-e HOME is not allowed: this system sets it to "/home/alice"`},
		{name: "env not allowed", pol: noArgs, change: func(r *ExecRequest) { r.Env = []string{"A=1"} }, err: "-e/--env is not allowed on this system"},
		{name: "workdir not allowed", pol: noArgs, change: func(r *ExecRequest) { r.WorkingDir = "/" }, err: "-w/--workdir is not allowed on this system"},
		{name: "no command", change: func(r *ExecRequest) { r.Cmd = nil }, err: "exec needs a command to run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			if tt.change != nil {
				tt.change(&req)
			}
			p := pol
			if tt.pol != nil {
				p = tt.pol
			}
			got, err := Exec(req, p, alice)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Exec() error = %v, want %q", err, tt.err)
				}
				if len(refusal.All(err)) == 0 {
					t.Fatalf("Exec() error %v is not a refusal", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exec() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Exec() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
