package cli

import (
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	path := configDir(t, adminConfig+"\n", nil)
	var configNames []string
	for _, c := range configCommands() {
		configNames = append(configNames, c.name)
	}
	tests := []struct {
		name   string
		uid    string // "" : root
		what   string
		want   []string // exactly these lines
		absent []string // for the run flags: never these
	}{
		{"user subcommands", "2001", "subcommands", []string{"run", "version"}, nil},
		{"root subcommands", "", "subcommands", []string{"run", "version", "config"}, nil},
		{"user config", "2001", "config", nil, nil},
		{"root config", "", "config", configNames, nil},
		{"user run flags", "2001", "run", nil, []string{"--privileged", "--pids-limit", "--cap-add", "--network", "-u"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAs(t, path, tc.uid, completeCommand, tc.what)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			lines := strings.Fields(out)
			if tc.absent == nil {
				if strings.Join(lines, " ") != strings.Join(tc.want, " ") {
					t.Errorf("got %q, want %q", lines, tc.want)
				}
				return
			}
			for _, f := range []string{"-i", "--interactive", "-t", "--tty", "--rm", "-e", "--env"} {
				if !strings.Contains(" "+strings.Join(lines, " ")+" ", " "+f+" ") {
					t.Errorf("allowed flag %s missing from %q", f, lines)
				}
			}
			for _, f := range tc.absent {
				if strings.Contains(" "+strings.Join(lines, " ")+" ", " "+f+" ") {
					t.Errorf("flag %s offered, but the policy does not allow it: %q", f, lines)
				}
			}
		})
	}
	t.Run("run not allowed", func(t *testing.T) {
		p := configDir(t, `subcommands = ["version"]`, nil)
		if code, out, _ := runAs(t, p, "2001", completeCommand, "run"); code != 0 || out != "" {
			t.Errorf("exit %d, %q; want no run flags for a caller who may not run", code, out)
		}
	})
	t.Run("tag only with images of one's own", func(t *testing.T) {
		const subs = `subcommands = ["run", "inspect", "tag", "rmi"]` + "\n"
		for own, want := range map[string]string{"false": "run inspect rmi", "true": "run inspect rmi tag"} {
			p := configDir(t, subs+"[run]\nown_images = "+own+"\n", nil)
			code, out, errOut := runAs(t, p, "2001", completeCommand, "subcommands")
			if got := strings.Join(strings.Fields(out), " "); code != 0 || got != want {
				t.Errorf("own_images = %s: exit %d, %q (stderr %q); want %q", own, code, got, errOut, want)
			}
		}
	})
	t.Run("hidden from help", func(t *testing.T) {
		if _, out, _ := runAs(t, path, "", "--help"); strings.Contains(out, completeCommand) {
			t.Errorf("help lists %s:\n%s", completeCommand, out)
		}
	})
	t.Run("bad argument", func(t *testing.T) {
		code, _, errOut := runAs(t, path, "2001", completeCommand, "images")
		if first, _, _ := strings.Cut(errOut, "\n"); code != ExitUsage || first != "userdocker: usage: userdocker __complete subcommands|run|config" {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}
