package policy

import (
	"reflect"
	"testing"
)

// TestEveryImagePatterns: the system-wide run.images and every override's,
// whomever the override selects; overrides that do not set the key add
// nothing.
func TestEveryImagePatterns(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []ImagePatterns
	}{
		{"built-in only", "", []ImagePatterns{{Patterns: []Pattern{}}}},
		{"system-wide and overrides", `
[run]
images = ['^a/']
[[override]]
group = "gpu"
[override.run]
images = ['^b/', '^c/']
[[override]]
user = "alice"
[override.run]
images = ['^d/']
[[override]]
uid = 7
[override.gpu]
max_count = 2
[[override]]
gid = 100
[override.run]
images = []
`, []ImagePatterns{
			{Patterns: Patterns("^a/")},
			{Patterns: Patterns("^b/", "^c/"), For: `group "gpu"`},
			{Patterns: Patterns("^d/"), For: `user "alice"`, User: "alice"},
			{Patterns: []Pattern{}, For: "gid 100"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseOne(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got := c.EveryImagePatterns()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d sets, want %d: %v", len(got), len(tt.want), got)
			}
			for i, g := range got {
				w := tt.want[i]
				if !reflect.DeepEqual(Sources(g.Patterns), Sources(w.Patterns)) || g.For != w.For || g.User != w.User {
					t.Errorf("set %d = %q for %q (user %q), want %q for %q (user %q)", i, Sources(g.Patterns), g.For, g.User,
						Sources(w.Patterns), w.For, w.User)
				}
			}
			if all, want := Sources(AllPatterns(got)), Sources(AllPatterns(tt.want)); !reflect.DeepEqual(all, want) {
				t.Errorf("AllPatterns = %q, want %q", all, want)
			}
		})
	}
}
