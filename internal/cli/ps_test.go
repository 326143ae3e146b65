package cli

import (
	"testing"
)

func TestPs(t *testing.T) {
	tests := []struct {
		name          string
		ignoreFilters bool
		uid           int
		args          []string
		code          int
		stdout        string
		stderr        string
	}{
		{name: "own only", args: []string{"ps", "--format", "{{.Names}} {{.User}} {{.Job}}"}, stdout: "alice-web alice 7\nalice-db alice 7\n"},
		{name: "own only when the daemon ignores the filter", ignoreFilters: true, args: []string{"ps", "-q"}, stdout: "a1a1a1a1a1a1\na2a2a2a2a2a2\n"},
		{name: "no-trunc", args: []string{"ps", "-q", "--no-trunc", "--filter", "name=alice-web"}, stdout: "a1a1a1a1a1a1a1a1\na2a2a2a2a2a2a2a2\n"},
		{name: "table", args: []string{"ps", "--format", "table {{.ID}}\t{{.Names}}"}, stdout: "CONTAINER ID   NAMES\na1a1a1a1a1a1   alice-web\na2a2a2a2a2a2   alice-db\n"},
		{name: "all users is root's", args: []string{"ps", "--all-users"}, code: 125, stderr: "userdocker: --all-users is for root only: ps shows your own containers\n"},
		{name: "bad filter", args: []string{"ps", "--filter", "nonsense"}, code: 125, stderr: "userdocker: --filter \"nonsense\": bad format of filter (expected name=value)\nSee 'userdocker ps --help'.\n"},
		{name: "format past its limits", args: []string{"ps", "--format", "{{range 1000000000000}}0123456789{{end}}"}, code: 125, stderr: "userdocker: --format \"{{range 1000000000000}}0123456789{{end}}\": it wrote more than 1 MiB for one line, the most a format may write here\n"},
		{name: "bad format", args: []string{"ps", "--format", "{{.Secret}}"}, code: 125, stderr: "userdocker: --format \"{{.Secret}}\": template: format:1:2: executing \"format\" at <.Secret>: can't evaluate field Secret in type listing.ContainerRow\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := daemon(twoUsers()...)
			d.IgnoreFilters = tt.ignoreFilters
			code, out, errOut := cli(t, ownConfig(d.Serve(t)), tt.uid, tt.args...)
			if code != tt.code || out != tt.stdout || errOut != tt.stderr {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// The daemon is asked for the caller's label, whatever filters the user
// adds.
func TestPsFiltersOnTheLabel(t *testing.T) {
	d := daemon(twoUsers()...)
	if code, _, errOut := cli(t, ownConfig(d.Serve(t)), 0, "ps", "-q", "--filter", "label=io.userdocker.uid=2002"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	f := listFilters(t, d)[0]
	got := f.Get("label")
	if len(got) != 2 || !f.ExactMatch("label", "io.userdocker.uid=2001") {
		t.Fatalf("label filters %q, want the caller's among them", got)
	}
}
