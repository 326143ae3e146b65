package imagetar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"reflect"
	"testing"
)

type entry struct{ name, body string }

func archive(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return b.Bytes()
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func TestTags(t *testing.T) {
	save := archive(t,
		entry{"abc/layer.tar", "layer"},
		entry{"manifest.json", `[{"Config":"c.json","RepoTags":["ud-test/busybox:latest","mine:1"]}]`},
		entry{"repositories", `{"ud-test/busybox":{"latest":"abc"},"other":{"2":"abc"}}`},
	)
	tests := []struct {
		name string
		data []byte
		want []string
		err  string
	}{
		{name: "docker save", data: save, want: []string{"mine:1", "other:2", "ud-test/busybox:latest"}},
		{name: "gzip", data: gz(t, save), want: []string{"mine:1", "other:2", "ud-test/busybox:latest"}},
		{name: "dot-slash and repeated manifest", data: archive(t,
			entry{"./manifest.json", `[{"RepoTags":["a:1"]}]`},
			entry{"manifest.json", `[{"RepoTags":["b:1"]}]`}), want: []string{"a:1", "b:1"}},
		{name: "oci", data: archive(t, entry{"index.json", `{"manifests":[
			{"annotations":{"io.containerd.image.name":"docker.io/library/busybox:latest","org.opencontainers.image.ref.name":"latest"}},
			{"annotations":{"org.opencontainers.image.ref.name":"ud-test/cuda:latest"}}]}`}),
			want: []string{"docker.io/library/busybox:latest", "ud-test/cuda:latest"}},
		{name: "nested file of the same name is not metadata", data: archive(t, entry{"abc/manifest.json", `not json`})},
		{name: "no tags", data: archive(t, entry{"manifest.json", `[{"RepoTags":null}]`})},
		{name: "bad manifest", data: archive(t, entry{"manifest.json", `{`}), err: "manifest.json in the image archive: unexpected end of JSON input"},
		{name: "symlinked manifest", data: func() []byte {
			var b bytes.Buffer
			tw := tar.NewWriter(&b)
			tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeSymlink, Linkname: "x.json"})
			tw.Close()
			return b.Bytes()
		}(), err: "manifest.json in the image archive is not a regular file"},
		{name: "xz", data: []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 1, 2}, err: "the image archive is compressed with xz, which userdocker cannot inspect: decompress it first (xz -d)"},
		{name: "not a tar", data: bytes.Repeat([]byte("x"), 1024), err: "read the image archive: archive/tar: invalid tar header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Tags(bytes.NewReader(tt.data))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Tags() = %v, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Tags() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
