package gpu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDriverPresent(t *testing.T) {
	tests := []struct {
		name   string
		files  []string // made under the root: "dir/" a directory, else a file
		marker string   // relative to the root; "" for absent
	}{
		{"no driver, GPU device files only", []string{"dev/nvidia0", "proc/driver/"}, ""},
		{"driver's proc directory", []string{"proc/driver/nvidia/"}, "proc/driver/nvidia"},
		{"control device", []string{"dev/nvidiactl"}, "dev/nvidiactl"},
		{"both", []string{"proc/driver/nvidia/", "dev/nvidiactl"}, "proc/driver/nvidia"},
		{"a dangling symlink is there", []string{"dev/nvidiactl->/nonexistent"}, "dev/nvidiactl"},
		{"proc is not a directory", []string{"proc"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(root, f)
				os.MkdirAll(filepath.Dir(p), 0o755)
				switch name, target, link := strings.Cut(f, "->"); {
				case link:
					if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
						t.Fatal(err)
					}
				case f[len(f)-1] == '/':
					os.MkdirAll(p, 0o755)
				default:
					if err := os.WriteFile(p, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, ok := DriverPresent(root)
			want := ""
			if tc.marker != "" {
				want = filepath.Join(root, tc.marker)
			}
			if got != want || ok != (tc.marker != "") {
				t.Errorf("DriverPresent = %q, %v; want %q", got, ok, want)
			}
		})
	}
}

// TestDriverPresentUnreadable: a marker that cannot be looked at for a
// reason other than its absence counts as a driver.
func TestDriverPresentUnreadable(t *testing.T) {
	root := filepath.Join(t.TempDir(), strings.Repeat("x", 300)) // ENAMETOOLONG
	if got, ok := DriverPresent(root); !ok || got != filepath.Join(root, "proc/driver/nvidia") {
		t.Errorf("DriverPresent = %q, %v; want the marker that could not be looked at", got, ok)
	}
}
