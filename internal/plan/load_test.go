package plan

import "testing"

func TestJudgeLoad(t *testing.T) {
	patterns := []string{`^ud-test/(busybox|cuda):`, `^docker\.io/library/debian:`}
	existing := map[string]bool{"docker.io/alice/tool:1": true}
	tests := []struct {
		name string
		tags []string
		err  string
	}{
		{name: "new tag of a denied repository", tags: []string{"alice/new:1"}},
		{name: "no tags", tags: nil},
		{name: "allowed tag", tags: []string{"ud-test/busybox:latest"}, err: "load: tag docker.io/ud-test/busybox:latest is refused: this system lets it run (run.images), and a loaded image must not replace it"},
		{name: "allowed tag, full spelling", tags: []string{"docker.io/library/debian:12"}, err: "load: tag docker.io/library/debian:12 is refused: this system lets it run (run.images), and a loaded image must not replace it"},
		{name: "allowed tag, short spelling", tags: []string{"debian:12"}, err: "load: tag docker.io/library/debian:12 is refused: this system lets it run (run.images), and a loaded image must not replace it"},
		{name: "existing tag", tags: []string{"alice/tool:1"}, err: "load: tag docker.io/alice/tool:1 is refused: it exists already, and a loaded image must not replace it"},
		{name: "invalid tag", tags: []string{"UPPER:1"}, err: `load: tag "UPPER:1" in the archive is not a valid image reference`},
		{name: "each refusal named", tags: []string{"alice/new:1", "ud-test/cuda:latest", "alice/tool:1"}, err: "load: tag docker.io/ud-test/cuda:latest is refused: this system lets it run (run.images), and a loaded image must not replace it\nload: tag docker.io/alice/tool:1 is refused: it exists already, and a loaded image must not replace it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := JudgeLoad(tt.tags, patterns, existing)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("JudgeLoad() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.err {
				t.Fatalf("JudgeLoad() = %v, want %q", err, tt.err)
			}
		})
	}
}
