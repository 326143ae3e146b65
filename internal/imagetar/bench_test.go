package imagetar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"testing"
)

// BenchmarkNormalizeSmall is the cost of a tiny archive: what the fuzzer
// pays per input.
func BenchmarkNormalizeSmall(b *testing.B) {
	data := archive(b, save(b)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize(bytes.NewReader(data), io.Discard, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNormalize is the throughput on a docker-save archive of two
// 64 MiB layers of incompressible files (MB/s of input).
func BenchmarkNormalize(b *testing.B) {
	data := bigArchive(b, 2, 64<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Normalize(bytes.NewReader(data), io.Discard, 1<<40); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNormalizeGzip is an archive of program files (this test
// binary, which compresses about as well as an image's layers) compressed
// with gzip, as users send them (MB/s of the uncompressed archive).
func BenchmarkNormalizeGzip(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	prog, err := os.ReadFile(exe)
	if err != nil {
		b.Fatal(err)
	}
	var entries []ent
	for i := 0; len(entries) < 8; i++ {
		entries = append(entries, file(fmt.Sprintf("l%d/layer.tar", i), string(archive(b, file("bin/prog", string(prog))))))
	}
	data := archive(b, append(entries, file("manifest.json", manifest))...)
	b.SetBytes(int64(len(data)))
	z := gz(data)
	b.Run("normalize", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Normalize(bytes.NewReader(z), io.Discard, 1<<40); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What decompressing alone costs: the floor for any reader of it.
	b.Run("gunzip only", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			zr, _ := gzip.NewReader(bytes.NewReader(z))
			io.Copy(io.Discard, zr)
		}
	})
}

// bigArchive is a docker-save shaped archive of n layers of size bytes,
// each holding 1 MiB files of random data.
func bigArchive(b *testing.B, n, size int) []byte {
	var entries []ent
	for i := range n {
		var lb bytes.Buffer
		tw := tar.NewWriter(&lb)
		chunk := make([]byte, 1<<20)
		for j := 0; j < size>>20; j++ {
			rand.Read(chunk)
			tw.WriteHeader(&tar.Header{Name: "f" + string(rune('a'+j%26)) + string(rune('a'+j/26)), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(chunk))})
			tw.Write(chunk)
		}
		tw.Close()
		d := "l" + string(rune('0'+i))
		entries = append(entries, dir(d), file(d+"/VERSION", "1.0"), file(d+"/json", "{}"), file(d+"/layer.tar", lb.String()))
	}
	entries = append(entries, file("manifest.json", manifest))
	return archive(b, entries...)
}
