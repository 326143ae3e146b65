package owned

import "testing"

// FuzzResolve: whatever the argument, the answer is never a container
// whose label is not the caller's.
func FuzzResolve(f *testing.F) {
	list := []Container{
		{ID: "aaaa1111", Names: []string{"/alice-web"}, UID: "2001"},
		{ID: "aaab2222", Names: []string{"/bob-web"}, UID: "2002"},
		{ID: "aaac3333", Names: []string{"/alice-x"}, UID: ""},
	}
	for _, s := range []string{"web", "aaa", "aaab", "bob-web", "alice-x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		id, err := Resolve(arg, Caller{Name: "alice", UID: 2001}, list)
		if err == nil && id != "aaaa1111" {
			t.Fatalf("Resolve(%q) = %q, which is not alice's", arg, id)
		}
	})
}
