package plan

import (
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/policy"
)

// userRootsFacts are baseFacts with the user roots looked up and the sources
// of a user's bind mounts opened as the edge would have.
func userRootsFacts() Facts {
	f := baseFacts()
	f.Paths["/scratch/alice"] = Path{Resolved: "/scratch/alice"}
	// A root alice could swap for a symlink counts for nothing.
	f.Paths["/shared/alice"] = Path{Resolved: "/shared/alice", Replaceable: []string{"/shared/alice"}}
	f.Paths["/gone/{user}"] = Path{Err: ErrNotExist}
	f.Opened = map[string]Opened{
		"/home/alice/proj":       {Path: "/home/alice/proj"},
		"/home/alice/link":       {Path: "/scratch/alice/run1"}, // her symlink to an allowed place
		"/home/alice/etc":        {Path: "/etc"},                // her symlink out
		"/home/alice/file":       {Err: ErrNotExist},
		"/shared/alice/x":        {Path: "/shared/alice/x"},
		"/home/alice/proj/../..": {Path: "/home"},
		"/home/alicex":           {Path: "/home/alicex"},
	}
	f.StagingDir = "/run/userdocker/mounts/0123abcd"
	return f
}

func userRootsPolicy() *policy.Policy {
	pol := basePolicy()
	pol.Run.Mounts.UserRoots = []string{"/home/alice", "/scratch/alice", "/shared/alice", "/gone/{user}"}
	return pol
}

func TestBuildOwnMounts(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		target  string
		opened  string
		ro      bool
		refusal string
	}{
		{name: "project rw", args: []string{"-v", "/home/alice/proj:/code"}, target: "/code", opened: "/home/alice/proj"},
		{name: "project ro", args: []string{"-v", "/home/alice/proj:/code:ro"}, target: "/code", opened: "/home/alice/proj", ro: true},
		{name: "mount flag", args: []string{"--mount", "type=bind,src=/home/alice/proj,dst=/w,readonly"}, target: "/w", opened: "/home/alice/proj", ro: true},
		{name: "through her symlink to another root", args: []string{"-v", "/home/alice/link:/run1"}, target: "/run1", opened: "/scratch/alice/run1"},
		// Not under a root: the site's other rules judge it, and refuse it.
		{name: "her symlink to /etc", args: []string{"-v", "/home/alice/etc:/x"},
			refusal: "-v /home/alice/etc:/x: /home/alice/etc (it is /etc) is not allowed: you may mount directories under /home/alice, /scratch/alice (or see `userdocker run -h`)"},
		{name: "above the root", args: []string{"-v", "/home/alice/proj/../..:/x"}, refusal: "/home/alice/proj/../.. is not allowed: you may mount directories under"},
		{name: "a sibling with the root's prefix", args: []string{"-v", "/home/alicex:/x"}, refusal: "/home/alicex is not allowed: you may mount"},
		{name: "under a root she could replace", args: []string{"-v", "/shared/alice/x:/x"}, refusal: "/shared/alice/x is not allowed"},
		{name: "not there", args: []string{"-v", "/home/alice/file:/x"}, refusal: "-v /home/alice/file:/x: /home/alice/file: does not exist"},
		{name: "over the container's /", args: []string{"-v", "/home/alice/proj:/"}, refusal: "cannot mount over the container's /"},
		{name: "twice at one place", args: []string{"-v", "/home/alice/proj:/c", "-v", "/home/alice/link:/c"}, refusal: "/c is already mounted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := userRootsFacts()
			if c.name == "her symlink to /etc" {
				// What the site's rules see of the path as written.
				f.Paths["/home/alice/etc"] = Path{Resolved: "/etc", Replaceable: []string{"/home/alice/proj"}}
			}
			p, err := build(t, append(c.args, "ud-test/busybox"), userRootsPolicy(), withLookups(f, c.args))
			if c.refusal != "" {
				if err == nil || !strings.Contains(err.Error(), c.refusal) {
					t.Fatalf("err %v, want %q", err, c.refusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Staged) != 1 || p.Staged[0].Opened != c.opened || p.Staged[0].Staging != f.StagingDir+"/0" {
				t.Fatalf("staged %+v", p.Staged)
			}
			if got := p.Config.Labels[label.Staging]; got != "0123abcd" {
				t.Errorf("label %s = %q", label.Staging, got)
			}
			for _, m := range p.Host.Mounts {
				if m.Target == c.target {
					if m.Source != f.StagingDir+"/0" || m.ReadOnly != c.ro {
						t.Fatalf("mount %+v, want the staging directory, ro=%v", m, c.ro)
					}
					return
				}
			}
			t.Fatalf("no mount at %s in %+v", c.target, p.Host.Mounts)
		})
	}
}

// withLookups adds what hostpath would have found for each source the
// case names and baseFacts lacks: a path with an entry alice could
// replace, as every path in her home has.
func withLookups(f Facts, args []string) Facts {
	for i, a := range args {
		if i == 0 || (args[i-1] != "-v" && args[i-1] != "--mount") {
			continue
		}
		src := strings.Split(a, ":")[0]
		if strings.HasPrefix(a, "type=") {
			src = strings.TrimPrefix(strings.Split(a, ",")[1], "src=")
		}
		if _, ok := f.Paths[src]; !ok {
			f.Paths[src] = Path{Resolved: src, Replaceable: []string{"/home/alice/proj"}}
		}
	}
	return f
}

// TestOwnMountsWithoutRoots: with no user roots (or nothing opened), a
// path the caller could replace is refused as before, and nothing is
// staged or labelled.
func TestOwnMountsWithoutRoots(t *testing.T) {
	f := userRootsFacts()
	_, err := build(t, []string{"-v", "/home/alice/proj:/code", "ud-test/busybox"}, basePolicy(), f)
	if err == nil || !strings.Contains(err.Error(), "you could replace /home/alice/proj with a symlink") {
		t.Fatalf("err %v", err)
	}
	p, err := build(t, []string{"ud-test/busybox"}, userRootsPolicy(), f)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Staged) != 0 || p.Config.Labels[label.Staging] != "" {
		t.Fatalf("staged %+v, label %q", p.Staged, p.Config.Labels[label.Staging])
	}
}

// TestCheckMountsStaged: the final check lets a staging directory through
// only as the plan staged it, for a directory under a usable root.
func TestCheckMountsStaged(t *testing.T) {
	f := userRootsFacts()
	p, err := build(t, []string{"-v", "/home/alice/proj:/code", "ud-test/busybox"}, userRootsPolicy(), f)
	if err != nil {
		t.Fatal(err)
	}
	if got := checkMounts(p, userRootsPolicy(), f); len(got) != 0 {
		t.Fatalf("the plan's own mounts refused: %v", got)
	}
	p.Staged[0].Opened = "/etc"
	if got := checkMounts(p, userRootsPolicy(), f); len(got) != 1 {
		t.Fatalf("a staged /etc passed: %v", got)
	}
	p.Staged[0].Opened = "/home/alice/proj"
	for i, m := range p.Host.Mounts {
		if m.Target == "/code" {
			p.Host.Mounts[i].Source = "/run/userdocker/mounts/other/0"
		}
	}
	if got := checkMounts(p, userRootsPolicy(), f); len(got) == 0 {
		t.Fatal("a staging directory the plan did not make passed")
	}
}
