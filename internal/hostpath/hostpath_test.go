package hostpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/userdocker/userdocker/internal/plan"
)

func TestReplaceable(t *testing.T) {
	alice := Who{UID: 2001, GID: 2001, Groups: []uint32{2001, 2100}}
	tree := map[string]Stat{
		"/":                  {0, 0, fs.ModeDir | 0o755},
		"/home":              {0, 0, fs.ModeDir | 0o755},
		"/home/alice":        {2001, 2001, fs.ModeDir | 0o700},
		"/home/alice/proj":   {2001, 2001, fs.ModeDir | 0o755},
		"/scratch":           {0, 0, fs.ModeDir | fs.ModeSticky | 0o777},
		"/scratch/alice":     {2001, 2001, fs.ModeDir | 0o755},
		"/scratch/bob":       {2002, 2002, fs.ModeDir | 0o755},
		"/projects":          {0, 0, fs.ModeDir | 0o755},
		"/projects/team":     {0, 2100, fs.ModeDir | 0o775},
		"/projects/team/sub": {2002, 2100, fs.ModeDir | 0o755},
		"/tmp":               {0, 0, fs.ModeDir | 0o777},
		"/tmp/x":             {0, 0, fs.ModeDir | 0o755},
	}
	stat := func(p string) (Stat, error) {
		if s, ok := tree[p]; ok {
			return s, nil
		}
		return Stat{}, fs.ErrNotExist
	}
	cases := []struct {
		path string
		who  Who
		want []string
	}{
		{"/home/alice", alice, nil},
		{"/home/alice/proj", alice, []string{"/home/alice/proj"}},
		{"/scratch/alice", alice, []string{"/scratch/alice"}},         // sticky, but her own entry
		{"/scratch/bob", alice, nil},                                  // sticky protects bob's entry
		{"/projects/team/sub", alice, []string{"/projects/team/sub"}}, // group-writable parent
		{"/tmp/x", alice, []string{"/tmp/x"}},                         // world-writable, not sticky
		{"/home/alice/proj", Who{UID: 0}, nil},                        // root needs no trick
		{"/nowhere/x", alice, []string{"/nowhere"}},                   // unknown: unsafe
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			if got := replaceable(c.path, c.who, stat); !slices.Equal(got, c.want) {
				t.Fatalf("replaceable(%s) = %v, want %v", c.path, got, c.want)
			}
		})
	}
}

func TestLookResolvesAsCaller(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs it")
		}
		t.Skip("needs root")
	}
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	private := filepath.Join(dir, "private")
	os.Mkdir(private, 0o700)
	os.Mkdir(filepath.Join(private, "inner"), 0o755)
	os.Symlink("../../..", filepath.Join(dir, "up"))
	nobody := Who{UID: 65534, GID: 65534}
	got := Look([]string{filepath.Join(private, "inner"), filepath.Join(dir, "up"), filepath.Join(dir, "missing")}, nobody, true, nil)
	if err := got[filepath.Join(private, "inner")].Err; err == nil || err.Error() != "you have no access to it" {
		t.Errorf("inner of a root-only dir: %v", err)
	}
	if r := got[filepath.Join(dir, "up")]; r.Err != nil || r.Resolved != filepath.Clean(filepath.Join(dir, "../../..")) {
		t.Errorf("symlink up: %+v", r)
	}
	if err := got[filepath.Join(dir, "missing")].Err; !errors.Is(err, plan.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	trusted := Look([]string{filepath.Join(private, "inner")}, nobody, false, func(string) bool { return true })
	if r := trusted[filepath.Join(private, "inner")]; r.Err != nil {
		t.Errorf("a site path is resolved as root when the caller cannot: %v", r.Err)
	}
}
