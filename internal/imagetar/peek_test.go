package imagetar

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestPeek(t *testing.T) {
	cfg := strings.Repeat("ab", 32)
	other := strings.Repeat("cd", 32)
	id := "sha256:" + cfg
	manifest := func(config string, tags ...string) ent {
		return file("manifest.json", `[{"Config":"`+config+`","RepoTags":["`+strings.Join(tags, `","`)+`"],"Layers":["l/layer.tar"]}]`)
	}
	layer := file("l/layer.tar", strings.Repeat("x", 5000))
	for _, tc := range []struct {
		name string
		data []byte
		want map[string]string // nil: not ok
	}{
		{"docker save of 20.10", archive(t, file(cfg+".json", "{}"), layer, manifest(cfg+".json", "me/app:1", "me/app:2")),
			map[string]string{"me/app:1": id, "me/app:2": id}},
		{"OCI layout of newer daemons", archive(t, file("blobs/sha256/"+cfg, "{}"), manifest("blobs/sha256/"+cfg, "me/app:1"),
			file("index.json", `{"manifests":[{"annotations":{"io.containerd.image.name":"me/app:1"}}]}`)),
			map[string]string{"me/app:1": id}},
		{"repositories agrees", archive(t, manifest(cfg+".json", "me/app:1"), file("repositories", `{"me/app":{"1":"x"}}`)),
			map[string]string{"me/app:1": id}},
		{"./ names", archive(t, file("./manifest.json", `[{"Config":"./`+cfg+`.json","RepoTags":["me/app:1"]}]`)),
			map[string]string{"me/app:1": id}},
		{"a tag only repositories names", archive(t, manifest(cfg+".json", "me/app:1"), file("repositories", `{"me/other":{"1":"x"}}`)), nil},
		{"a tag only index.json names", archive(t, manifest(cfg+".json", "me/app:1"),
			file("index.json", `{"manifests":[{"annotations":{"io.containerd.image.name":"me/other:1"}}]}`)), nil},
		{"no manifest.json", archive(t, file("repositories", `{"me/app":{"1":"x"}}`)), nil},
		{"no tags", archive(t, file("manifest.json", `[{"Config":"`+cfg+`.json","RepoTags":null}]`)), nil},
		{"an empty tag", archive(t, manifest(cfg+".json")), nil},
		{"manifest.json twice", archive(t, manifest(cfg+".json", "me/app:1"), manifest(cfg+".json", "me/app:1")), nil},
		{"MANIFEST.JSON beside it", archive(t, manifest(cfg+".json", "me/app:1"), file("MANIFEST.JSON", "[]")), nil},
		{"a tag given two images", archive(t, file("manifest.json", `[{"Config":"`+cfg+`.json","RepoTags":["me/app:1"]},{"Config":"`+other+`.json","RepoTags":["me/app:1"]}]`)), nil},
		{"a config not named by its digest", archive(t, manifest("config.json", "me/app:1")), nil},
		{"a config in another directory", archive(t, manifest("x/"+cfg+".json", "me/app:1")), nil},
		{"a key twice", archive(t, file("manifest.json", `[{"Config":"`+cfg+`.json","RepoTags":["me/app:1"],"repotags":["me/app:2"]}]`)), nil},
		{"a name Normalize refuses", archive(t, manifest(cfg+".json", "me/app:1"), file("../x", "")), nil},
		{"a manifest.json that is a link", archive(t, symlink("manifest.json", cfg+".json")), nil},
		{"gzip", gz(archive(t, manifest(cfg+".json", "me/app:1"))), nil},
		{"not a tar", []byte("hello, this is not an archive at all"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Peek(bytes.NewReader(tc.data))
			if tc.want == nil {
				if ok {
					t.Errorf("Peek = %v, ok; want not ok", got.IDs)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got.IDs, tc.want) {
				t.Errorf("Peek = %v, %v; want %v", got.IDs, ok, tc.want)
			}
		})
	}
}
