package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/test/fakedocker"
)

func TestOwnContainerActions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string
		stderr  string
		actions []string
	}{
		{name: "stop by name", args: []string{"stop", "web"}, stdout: "web\n",
			actions: []string{"POST /containers/a1a1a1a1a1a1a1a1/stop"}},
		{name: "stop by full name and prefix", args: []string{"stop", "alice-web", "a2a2"}, stdout: "alice-web\na2a2\n",
			actions: []string{"POST /containers/a1a1a1a1a1a1a1a1/stop", "POST /containers/a2a2a2a2a2a2a2a2/stop"}},
		{name: "bob's by name is not found", args: []string{"stop", "bob-web"}, code: 1, stderr: "userdocker: no container bob-web of yours\n"},
		{name: "bob's by ID is not found", args: []string{"rm", "-f", "b1b1b1b1b1b1b1b1"}, code: 1, stderr: "userdocker: no container b1b1b1b1b1b1b1b1 of yours\n"},
		{name: "bob's by prefix is not found", args: []string{"kill", "b1"}, code: 1, stderr: "userdocker: no container b1 of yours\n"},
		{name: "one of several fails, the others act", args: []string{"kill", "-s", "TERM", "bob-web", "db"}, code: 1, stdout: "db\n",
			stderr: "userdocker: no container bob-web of yours\n", actions: []string{"POST /containers/a2a2a2a2a2a2a2a2/kill"}},
		{name: "ambiguous prefix", args: []string{"rm", "a"}, code: 1, stderr: "userdocker: container ID prefix \"a\" matches 2 of your containers: give more of the ID\n"},
		{name: "rm -f", args: []string{"rm", "-f", "web"}, stdout: "web\n", actions: []string{"DELETE /containers/a1a1a1a1a1a1a1a1"}},
		{name: "wait prints the status", args: []string{"wait", "web"}, stdout: "3\n", actions: []string{"POST /containers/a1a1a1a1a1a1a1a1/wait"}},
		{name: "logs of bob's", args: []string{"logs", "bob-web"}, code: 1, stderr: "userdocker: no container bob-web of yours\n"},
		{name: "attach to bob's", args: []string{"attach", "b1b1"}, code: 1, stderr: "userdocker: no container b1b1 of yours\n"},
		{name: "exec in bob's", args: []string{"exec", "bob-web", "id"}, code: 1, stderr: "userdocker: no container bob-web of yours\n"},
		{name: "stop needs an argument", args: []string{"stop"}, code: 125, stderr: "userdocker: \"stop\" requires at least 1 argument\nSee 'userdocker stop --help'.\n"},
		{name: "unknown flag", args: []string{"rm", "--bogus", "web"}, code: 125, stderr: "userdocker: unknown flag: --bogus\nSee 'userdocker rm --help'.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := daemon(twoUsers()...)
			// As if the container exited with 3 just then.
			d.On("ContainerWait", fakedocker.Reply("application/json", `{"StatusCode":3}`))
			code, out, errOut := cli(t, ownConfig(d.Serve(t)), 0, tt.args...)
			if code != tt.code || out != tt.stdout || errOut != tt.stderr {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
			if got := actions(d); !reflect.DeepEqual(got, tt.actions) {
				t.Fatalf("daemon actions %q, want %q", got, tt.actions)
			}
		})
	}
}

// A daemon that ignores the label filter must not make bob's container
// alice's: every row's label is checked again.
func TestOwnershipCheckedClientSide(t *testing.T) {
	d := ignoringFilters(daemon(twoUsers()...))
	code, _, errOut := cli(t, ownConfig(d.Serve(t)), 0, "stop", "bob-web")
	if code != 1 || errOut != "userdocker: no container bob-web of yours\n" || len(actions(d)) != 0 {
		t.Fatalf("exit %d, stderr %q, actions %q; want 1, not yours, none", code, errOut, actions(d))
	}
}

func TestSubcommandNotAllowed(t *testing.T) {
	d := daemon(twoUsers()...)
	code, out, errOut := cli(t, `docker_host = "`+d.Serve(t)+`"
subcommands = ["run", "ps"]
`, 0, "rm", "web")
	if code != 125 || errOut != "userdocker: \"rm\" is not allowed on this system\n" || len(actions(d)) != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q, actions %q", code, out, errOut, actions(d))
	}
}

func TestHelpListsOwnSubcommandsWhenAllowed(t *testing.T) {
	d := daemon()
	_, out, _ := cli(t, ownConfig(d.Serve(t)), 0, "-h")
	for _, name := range []string{"attach", "exec", "images", "kill", "load", "logs", "ps", "pull", "rm", "stop", "wait"} {
		if !strings.Contains(out, "\n  "+name+" ") {
			t.Errorf("help lacks %s:\n%s", name, out)
		}
	}
	_, out, _ = cli(t, `docker_host = "`+d.Serve(t)+`"
subcommands = ["run", "ps"]
`, 0, "-h")
	if strings.Contains(out, "  stop ") || !strings.Contains(out, "  ps ") {
		t.Errorf("help must list ps and not stop:\n%s", out)
	}
}

func TestSubcommandHelp(t *testing.T) {
	d := daemon()
	host := d.Serve(t)
	tests := []struct {
		args   []string
		want   []string
		absent []string
	}{
		{args: []string{"rm", "-h"}, want: []string{"Usage:  userdocker rm [OPTIONS] CONTAINER [CONTAINER...]\n", "  -f, --force "}, absent: []string{"[=true|false]"}},
		{args: []string{"exec", "--help"}, want: []string{"  -u, --user string "}, absent: []string{"--privileged"}},
		{args: []string{"pull", "-h"}, want: []string{"  -q, --quiet "}, absent: []string{"--all-tags"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, _ := cli(t, ownConfig(host), 0, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out, a) {
					t.Errorf("help shows %q:\n%s", a, out)
				}
			}
		})
	}
}
