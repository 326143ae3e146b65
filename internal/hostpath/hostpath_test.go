package hostpath

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/test/testacl"
)

func TestReplaceable(t *testing.T) {
	alice := Who{UID: 2001, GID: 2001, Groups: []uint32{2001, 2100}}
	root := Entry{Path: "/x", UID: 0, ParentUID: 0}
	// One change from root's entry in root's directory per case.
	with := func(f func(*Entry)) []Entry { e := root; f(&e); return []Entry{e} }
	unknown := errors.New("stale file handle")
	cases := []struct {
		name    string
		entries []Entry
		who     Who
		want    []string
	}{
		{"parent not writable", with(func(e *Entry) {}), alice, nil},
		{"parent writable", with(func(e *Entry) { e.ParentWritable = true }), alice, []string{"/x"}},
		{"sticky protects another's entry", with(func(e *Entry) { e.ParentWritable, e.ParentSticky = true, true }), alice, nil},
		{"sticky, but her own entry", with(func(e *Entry) { e.ParentWritable, e.ParentSticky, e.UID = true, true, 2001 }), alice, []string{"/x"}},
		{"sticky, but her own directory", with(func(e *Entry) { e.ParentWritable, e.ParentSticky, e.ParentUID = true, true, 2001 }), alice, []string{"/x"}},
		{"her entry, parent not writable", with(func(e *Entry) { e.UID, e.ParentSticky = 2001, true }), alice, nil},
		{"unknown: unsafe", with(func(e *Entry) { e.Err = unknown }), alice, []string{"/x"}},
		{"root needs no trick", with(func(e *Entry) { e.ParentWritable = true }), Who{UID: 0}, nil},
		{"every replaceable entry, top down, up to an unknown one", []Entry{
			{Path: "/a", ParentWritable: true}, {Path: "/a/b"}, {Path: "/a/b/c", ParentWritable: true},
			{Path: "/a/b/c/d", Err: unknown}, {Path: "/a/b/c/d/e", ParentWritable: true},
		}, alice, []string{"/a", "/a/b/c", "/a/b/c/d"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := replaceable(c.entries, c.who); !slices.Equal(got, c.want) {
				t.Fatalf("replaceable(%+v) = %v, want %v", c.entries, got, c.want)
			}
		})
	}
}

// TestLookAsksTheKernel builds directories whose mode bits and ACLs
// disagree and checks that an entry counts as replaceable exactly when the
// kernel lets the caller rename it, which the test then does as the caller.
func TestLookAsksTheKernel(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755)
	os.Chmod(base, 0o755)
	nobody := Who{UID: 65534, GID: 65534}
	mk := func(p string, mode os.FileMode, uid int) string {
		p = filepath.Join(base, p)
		os.Mkdir(p, mode)
		os.Chmod(p, mode) // past the umask, and for the sticky bit
		os.Chown(p, uid, uid)
		return p
	}
	plain := mk("plain", 0o755, 0)
	mk("plain/sub", 0o755, 0)
	acl := mk("acl", 0o755, 0)
	mk("acl/sub", 0o755, 0)
	sticky := mk("sticky", 0o755|os.ModeSticky, 0)
	mk("sticky/roots", 0o755, 0)
	mk("sticky/nobodys", 0o755, 65534)
	testacl.GrantUser(t, acl, nobody.UID, 7)
	testacl.GrantUser(t, sticky, nobody.UID, 7)
	cases := []struct {
		path string
		want bool
	}{
		{filepath.Join(plain, "sub"), false},
		{filepath.Join(acl, "sub"), true},               // 0775 root:root, but the ACL lets nobody write
		{filepath.Join(sticky, "roots"), false},         // the ACL lets nobody write, the sticky bit protects root's entry
		{filepath.Join(sticky, "nobodys"), true},        // but not nobody's own
		{filepath.Join(sticky, "nobodys", ".."), false}, // resolved to the sticky directory, in base
	}
	var paths []string
	for _, c := range cases {
		paths = append(paths, c.path)
	}
	got := Look(paths, nobody, false, nil)
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			r := got[c.path]
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			want := []string(nil)
			if c.want {
				want = []string{r.Resolved}
			}
			if !slices.Equal(r.Replaceable, want) {
				t.Fatalf("Replaceable = %v, want %v", r.Replaceable, want)
			}
			err := asuser.Do(asuser.Cred{UID: nobody.UID, GID: nobody.GID}, func() error {
				return os.Rename(r.Resolved, r.Resolved+".moved")
			})
			if (err == nil) != c.want {
				t.Fatalf("rename as nobody: %v, but Replaceable says %v", err, c.want)
			}
			if err == nil {
				os.Rename(r.Resolved+".moved", r.Resolved)
			}
		})
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs it")
		}
		t.Skip("needs root")
	}
}

func TestLookResolvesAsCaller(t *testing.T) {
	requireRoot(t)
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
	if r := trusted[filepath.Join(private, "inner")]; r.Err != nil || r.Replaceable != nil {
		t.Errorf("a site path is resolved as root when the caller cannot, and judged for the caller: %+v", r)
	}
}

// TestSwappedEntry checks what happens when an entry of a resolved path is
// a symlink by the time it is opened: the walk stops there and counts it
// as replaceable.
func TestSwappedEntry(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	os.Symlink("real", filepath.Join(dir, "swapped"))
	nobody := Who{UID: 65534, GID: 65534}
	for _, p := range []string{filepath.Join(dir, "swapped"), filepath.Join(dir, "swapped", "below")} {
		got := judge(p, nil, nobody, asCaller)
		if n := len(got.Replaceable); n == 0 || got.Replaceable[n-1] != filepath.Join(dir, "swapped") {
			t.Errorf("judge(%s).Replaceable = %v, want it to end with the symlink", p, got.Replaceable)
		}
	}
}
