//go:build integration

package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestHostileFormats gives ps and images --format templates that, run as
// root without bounds, spin for days, write gigabytes through root (past
// the user's quota) or take gigabytes of memory. Each must be refused
// with one line and exit 125, and write nothing; docker's usual formats
// must still work.
func TestHostileFormats(t *testing.T) {
	requireSetup(t)
	r := ud(t, alice, nil, "run", "-d", "--name", "fmt", "-l", "x=hello", testImage, "sleep", "300")
	if r.code != 0 {
		t.Fatalf("alice's container: %s", r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { docker(t, "rm", "-f", id) })

	hostile := []struct{ name, format, want string }{
		{"endless loop", "{{range 1000000000000}}{{end}}", "it looped more than"},
		{"output flood", "{{range 1000000000000}}0123456789{{end}}", "it wrote more than 1 MiB for one line"},
		{"wide printf", `{{range 100000}}{{printf "%999999d" 1}}{{end}}`, "it wrote more than 1 MiB"},
		{"memory", strings.Repeat(`{{$v := printf "%999999s" ""}}`, 1000), "its functions made more than"},
		{"quadratic join", `{{$s := printf "%99999s" ""}}{{len (join (split $s "") $s)}}`, "its functions made more than"},
		{"recursion", `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, "{{define}} and {{block}} are not offered here"},
		{"table flood", `table {{range 1000000000000}}0123456789{{end}}`, "it wrote more than 1 MiB"},
		{"aligned table", `table {{pad "" 256 256}}{{pad "" 256 256}}\t{{range 20000}}\n\t{{end}}`, "its table "},
	}
	for _, sub := range []string{"ps", "images"} {
		for _, h := range hostile {
			t.Run(sub+" "+h.name, func(t *testing.T) {
				r := ud(t, alice, nil, sub, "--format", h.format)
				if r.code != 125 || r.stdout != "" {
					t.Fatalf("exit %d, %d bytes on stdout; want 125 and none (stderr %.300q)", r.code, len(r.stdout), r.stderr)
				}
				if !strings.HasPrefix(r.stderr, "userdocker: --format ") || strings.Count(r.stderr, "\n") != 1 ||
					len(r.stderr) > 300 || !strings.Contains(r.stderr, h.want) {
					t.Fatalf("stderr %.400q: want one short line saying %q", r.stderr, h.want)
				}
			})
		}
	}

	normal := []struct{ name, format, want string }{
		{"ID", "{{.ID}}", id[:12] + "\n"},
		{"table", `table {{.Names}}\t{{.Label "x"}}`, "NAMES              X\nudtest-alice-fmt   hello\n"},
		{"label", `{{.Label "x"}} {{.Label "io.userdocker.user"}}`, "hello udtest-alice\n"},
	}
	for _, n := range normal {
		t.Run("ps "+n.name, func(t *testing.T) {
			if r := ud(t, alice, nil, "ps", "--filter", "id="+id, "--format", n.format); r.code != 0 || r.stdout != n.want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, n.want)
			}
		})
	}
	t.Run("ps json", func(t *testing.T) {
		r := ud(t, alice, nil, "ps", "--filter", "id="+id, "--format", "{{json .}}")
		var row struct{ Names, User string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &row) != nil || row.Names != "udtest-alice-fmt" || row.User != alice {
			t.Fatalf("exit %d, stdout %q, stderr %q; want the row as JSON", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("images", func(t *testing.T) {
		r := ud(t, alice, nil, "images", "--format", "{{.Repository}}:{{.Tag}}")
		if r.code != 0 || !strings.Contains(r.stdout, testImage+"\n") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want %s among them", r.code, r.stdout, r.stderr, testImage)
		}
	})
}
