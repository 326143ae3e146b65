package cli

import "testing"

func TestExecRefusals(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{name: "root", args: []string{"exec", "-u", "0", "web", "id"}, stderr: "userdocker: --user \"0\" is not allowed: exec runs as you (2001:2001)\n"},
		{name: "privileged", args: []string{"exec", "--privileged", "web", "id"}, stderr: "userdocker: --privileged is not allowed on this system\n"},
		{name: "GPU variable", args: []string{"exec", "-e", "NVIDIA_VISIBLE_DEVICES=all", "web", "id"}, stderr: "userdocker: -e NVIDIA_VISIBLE_DEVICES is not allowed: userdocker sets it from the GPUs you were granted\n"},
		{name: "workdir not allowed", args: []string{"exec", "-w", "/", "web", "id"}, stderr: "userdocker: -w/--workdir is not allowed on this system\n"},
		{name: "no command", args: []string{"exec", "web"}, stderr: "userdocker: \"exec\" requires at least 2 arguments\nSee 'userdocker exec --help'.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := daemon(twoUsers()...)
			code, _, errOut := cli(t, ownConfig(d.Serve(t)), 0, tt.args...)
			if code != 125 || errOut != tt.stderr {
				t.Fatalf("exit %d, stderr %q; want 125, %q", code, errOut, tt.stderr)
			}
			if len(actions(d)) != 0 {
				t.Fatalf("the daemon was asked %q", actions(d))
			}
		})
	}
}
