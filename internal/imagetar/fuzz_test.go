package imagetar

import (
	"bytes"
	"testing"
)

// FuzzNormalize: whatever the archive, Normalize returns or fails; it
// never panics or hangs on a bounded input; and what it writes is its own
// normal form, with the same tags: normalizing it again changes nothing.
func FuzzNormalize(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Add([]byte("BZh91AY&SY"))
	f.Add(archive(f, save(f)...))
	f.Add(archive(f, file("manifest.json", manifest), symlink("a", "."), file("a/manifest.json", hijack)))
	f.Add(archive(f, file("manifest.json", manifest), file("./manifest.json", hijack)))
	f.Add(archive(f, file("l/layer.tar", layer), symlink("m/layer.tar", "../l/layer.tar"), file("index.json", `{"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"x"}}]}`)))
	f.Add(archiveOf(sparse("holes", 4096, "data")))
	f.Add(gz(archive(f, file("l.tar.gz", string(gz([]byte(layer)))))))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		a, err := Normalize(bytes.NewReader(data), &out, 1<<24)
		if err != nil {
			return
		}
		var again bytes.Buffer
		b, err := Normalize(bytes.NewReader(out.Bytes()), &again, 1<<24)
		if err != nil {
			t.Fatalf("the output of Normalize is refused: %v", err)
		}
		if !bytes.Equal(again.Bytes(), out.Bytes()) || len(a.Tags) != len(b.Tags) {
			t.Fatalf("normalizing twice changed the archive: tags %q then %q", a.Tags, b.Tags)
		}
	})
}
