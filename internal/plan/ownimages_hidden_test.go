package plan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
)

func TestOthersHidden(t *testing.T) {
	list := []image.Summary{
		{ID: "a", RepoTags: []string{"local/alice/model:1", "local/bob/model:1"}, RepoDigests: []string{"local/bob/model@sha256:" + strings.Repeat("ab", 32)}},
		{ID: "b", RepoTags: []string{"local/bob/secret-project:2"}},
		{ID: "c", RepoTags: []string{"ud-test/busybox:latest", "docker.io/local/bob/x:1"}},
		{ID: "d"},
		{ID: "e", RepoTags: []string{"local/nobody-ns:1"}},
		{ID: "f", RepoTags: []string{"registry.example.org/local/bob/x:1"}},
	}
	got := OthersHidden(list, "alice")
	want := []image.Summary{
		{ID: "a", RepoTags: []string{"local/alice/model:1"}},
		{ID: "c", RepoTags: []string{"ud-test/busybox:latest"}},
		{ID: "d"},
		// Only docker.io/local/ is anyone's namespace.
		{ID: "f", RepoTags: []string{"registry.example.org/local/bob/x:1"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("OthersHidden() =\n%+v\nwant\n%+v", got, want)
	}
	if list[0].RepoTags[1] != "local/bob/model:1" {
		t.Fatalf("OthersHidden changed its input: %+v", list[0])
	}
}
