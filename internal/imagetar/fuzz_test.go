package imagetar

import (
	"bytes"
	"testing"
)

// FuzzTags: whatever the archive, Tags returns or fails; it never panics
// and never hangs on a bounded input.
func FuzzTags(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Add([]byte("BZh91AY&SY"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Tags(bytes.NewReader(data))
	})
}
