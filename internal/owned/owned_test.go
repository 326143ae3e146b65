package owned

import "testing"

func TestResolve(t *testing.T) {
	alice := Caller{Name: "alice", UID: 2001}
	list := []Container{
		{ID: "aaaa1111", Names: []string{"/alice-web"}, UID: "2001"},
		{ID: "aaaa2222", Names: []string{"/alice-db"}, UID: "2001"},
		{ID: "bbbb1111", Names: []string{"/bob-web"}, UID: "2002"},
		{ID: "abcd0000", Names: []string{"/alice-bob"}, UID: "2002"}, // bob named it so
		{ID: "cccc0000", Names: []string{"/alice-unlabelled"}, UID: ""},
		{ID: "dddd0000", Names: []string{"/aaaa2222"}, UID: "2001"}, // a name that looks like an ID
	}
	tests := []struct {
		name, arg, want, err string
	}{
		{name: "full ID", arg: "aaaa1111", want: "aaaa1111"},
		{name: "name with prefix", arg: "alice-web", want: "aaaa1111"},
		{name: "name without prefix", arg: "web", want: "aaaa1111"},
		{name: "name with slash is not a name", arg: "/alice-web", err: "no container /alice-web of yours"},
		{name: "unique prefix", arg: "aaaa1", want: "aaaa1111"},
		{name: "full ID wins over a name", arg: "aaaa2222", want: "aaaa2222"},
		{name: "ambiguous prefix", arg: "aaaa", err: `container ID prefix "aaaa" matches 2 of your containers: give more of the ID`},
		{name: "bob's by name", arg: "bob-web", err: "no container bob-web of yours"},
		{name: "bob's by ID", arg: "bbbb1111", err: "no container bbbb1111 of yours"},
		{name: "bob's by prefix", arg: "bbbb", err: "no container bbbb of yours"},
		{name: "bob's named like alice's", arg: "alice-bob", err: "no container alice-bob of yours"},
		{name: "bob's prefix does not make alice's ambiguous", arg: "a", err: `container ID prefix "a" matches 2 of your containers: give more of the ID`},
		{name: "unlabelled", arg: "unlabelled", err: "no container unlabelled of yours"},
		{name: "missing", arg: "nothing", err: "no container nothing of yours"},
		{name: "empty", arg: "", err: `no container "" of yours`},
		{name: "name that looks like a prefix", arg: "dddd", want: "dddd0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.arg, alice, list)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Resolve(%q) = %q, %v; want error %q", tt.arg, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
			}
		})
	}
}

func TestIsMine(t *testing.T) {
	c := Caller{Name: "alice", UID: 2001}
	for label, want := range map[string]bool{"2001": true, "2002": false, "": false, "02001": false, " 2001": false} {
		if got := IsMine(c, label); got != want {
			t.Errorf("IsMine(%q) = %v, want %v", label, got, want)
		}
	}
}
