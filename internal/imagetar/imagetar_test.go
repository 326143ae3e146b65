package imagetar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// ent is one entry of a test archive: a header and, for files, a body.
type ent struct {
	h    tar.Header
	body string
}

func file(name, body string) ent {
	return ent{h: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}, body: body}
}
func dir(name string) ent { return ent{h: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}} }
func symlink(name, to string) ent {
	return ent{h: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: to}}
}
func hardlink(name, to string) ent {
	return ent{h: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: to}}
}

// archive writes entries with Go's tar writer; raw bytes (rawEntry,
// sparse) can be spliced in with archiveOf.
func archive(t testing.TB, entries ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := e.h
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("write %q: %v", h.Name, err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return b.Bytes()
}

// archiveOf concatenates pieces of raw tar and adds the end-of-archive
// blocks.
func archiveOf(pieces ...[]byte) []byte {
	return append(bytes.Join(pieces, nil), make([]byte, 1024)...)
}

// entryBytes is archive without the end-of-archive blocks.
func entryBytes(t testing.TB, entries ...ent) []byte {
	b := archive(t, entries...)
	return b[:len(b)-1024]
}

// rawHeader is a USTAR header block of any type, as Go's writer would not
// write some of them.
func rawHeader(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:], "0000644\x000000000\x000000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00%011o\x00", size, 0))
	b[156] = typ
	copy(b[257:], "ustar\x0000")
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func padded(data []byte) []byte {
	return append(data, make([]byte, (512-len(data)%512)%512)...)
}

func paxRecord(k, v string) string {
	for n := len(k) + len(v) + 3; ; n++ {
		if s := fmt.Sprintf("%d %s=%s\n", n, k, v); len(s) == n {
			return s
		}
	}
}

// sparse is a GNU PAX 0.1 sparse file of realSize bytes that stores only
// data at offset 0: Go's tar reader, like the daemon's, reads it at its
// full size.
func sparse(name string, realSize int64, data string) []byte {
	recs := paxRecord("GNU.sparse.map", fmt.Sprintf("0,%d", len(data))) +
		paxRecord("GNU.sparse.numblocks", "1") + paxRecord("GNU.sparse.size", fmt.Sprint(realSize))
	out := append(rawHeader("PaxHeaders/"+name, 'x', int64(len(recs))), padded([]byte(recs))...)
	out = append(out, rawHeader(name, '0', int64(len(data)))...)
	return append(out, padded([]byte(data))...)
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

const (
	manifest = `[{"Config":"c.json","RepoTags":["alice/app:1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]`
	hijack   = `[{"Config":"c.json","RepoTags":["ud-test/busybox:latest"],"Layers":["l1/layer.tar","l2/layer.tar"]}]`
)

// layer is a small layer tar.
var layer = func() string {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "etc/hello", Typeflag: tar.TypeReg, Mode: 0o644, Size: 6})
	io.WriteString(tw, "hello\n")
	tw.Close()
	return b.String()
}()

// save is a docker-save archive of Docker 20.10's shape, with a second
// layer saved as a link to the first (20.10 writes that for layers with
// the same content).
func save(t testing.TB) []ent {
	return []ent{
		dir("l1/"), file("l1/VERSION", "1.0"), file("l1/json", `{}`), file("l1/layer.tar", layer),
		dir("l2/"), file("l2/VERSION", "1.0"), file("l2/json", `{}`), symlink("l2/layer.tar", "../l1/layer.tar"),
		file("c.json", `{"rootfs":{}}`),
		file("manifest.json", manifest),
		file("repositories", `{"alice/app":{"1":"l2"}}`),
	}
}

// listing describes an archive as the tests compare it.
func listing(t testing.TB, data []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("the output does not read back: %v", err)
		}
		body, _ := io.ReadAll(tr)
		s := fmt.Sprintf("%c %s %o", h.Typeflag, h.Name, h.Mode)
		switch {
		case h.Typeflag == tar.TypeSymlink:
			s += " -> " + h.Linkname
		case len(body) > 0 && len(body) < 64:
			s += " " + string(body)
		case len(body) > 0:
			s += fmt.Sprintf(" (%d bytes)", len(body))
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.ModTime.Unix() != 0 || len(h.Xattrs) > 0 || len(h.PAXRecords) > 0 && h.Format != tar.FormatPAX {
			s += " (not normalized)"
		}
		out = append(out, s)
	}
}

var saveListing = []string{
	"5 l1/ 755", "0 l1/VERSION 644 1.0", "0 l1/json 644 {}", "0 l1/layer.tar 644 (2048 bytes)",
	"5 l2/ 755", "0 l2/VERSION 644 1.0", "0 l2/json 644 {}", "2 l2/layer.tar 777 -> ../l1/layer.tar",
	`0 c.json 644 {"rootfs":{}}`, "0 manifest.json 644 (89 bytes)", `0 repositories 644 {"alice/app":{"1":"l2"}}`,
}

func TestNormalize(t *testing.T) {
	plain := archive(t, save(t)...)
	withGlobal := append([]ent{{h: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "g", PAXRecords: map[string]string{"path": "manifest.json"}}}}, save(t)...)
	long := strings.Repeat("d", 120) + "/" + strings.Repeat("f", 120)
	tests := []struct {
		name string
		data []byte
		tags []string
		list []string // nil: saveListing
	}{
		{name: "docker save", data: plain, tags: []string{"alice/app:1"}},
		{name: "gzip", data: gz(plain), tags: []string{"alice/app:1"}},
		{name: "gzip in two members", data: append(gz(plain[:3000]), gz(plain[3000:])...), tags: []string{"alice/app:1"}},
		{name: "./ prefixes, repeated slashes and repeated directories", data: archive(t, append([]ent{dir("./"), dir("./l1"), dir("l1//")},
			append(save(t)[1:], file(".//extra", "x"))...)...), tags: []string{"alice/app:1"}, list: append(saveListing, "0 extra 644 x")},
		{name: "a PAX global header is dropped", data: archive(t, withGlobal...), tags: []string{"alice/app:1"}},
		{name: "PAX and GNU long names", data: archive(t, append(save(t),
			ent{h: tar.Header{Name: long + "1", Typeflag: tar.TypeReg, Size: 1, Format: tar.FormatPAX}, body: "p"},
			ent{h: tar.Header{Name: long + "2", Typeflag: tar.TypeReg, Size: 1, Format: tar.FormatGNU}, body: "g"})...),
			tags: []string{"alice/app:1"}, list: append(saveListing, "0 "+long+"1 644 p", "0 "+long+"2 644 g")},
		{name: "owners, modes, times and xattrs are not passed on", data: archive(t, append(save(t),
			ent{h: tar.Header{Name: "odd", Typeflag: tar.TypeReg, Size: 1, Mode: 0o4777, Uid: 7, Uname: "x", PAXRecords: map[string]string{"SCHILY.xattr.user.x": "y"}}, body: "o"})...),
			tags: []string{"alice/app:1"}, list: append(saveListing, "0 odd 644 o")},
		{name: "a sparse file is written out in full", data: archiveOf(entryBytes(t, save(t)...), sparse("holes", 4096, "data")),
			tags: []string{"alice/app:1"}, list: append(saveListing, "0 holes 644 (4096 bytes)")},
		{name: "trailing garbage and a second archive are not passed on", data: append(append(plain, "garbage"...),
			archive(t, file("manifest.json", hijack), file("late", "x"))...), tags: []string{"alice/app:1"}},
		{name: "oci", data: archive(t, file("oci-layout", `{"imageLayoutVersion":"1.0.0"}`), file("index.json", `{"manifests":[
			{"annotations":{"io.containerd.image.name":"docker.io/library/busybox:latest","org.opencontainers.image.ref.name":"latest"}},
			{"annotations":{"org.opencontainers.image.ref.name":"ud-test/cuda:latest"}},
			{"annotations":{"org.opencontainers.image.ref.name":"bare"}}]}`)),
			tags: []string{"bare", "docker.io/library/busybox:latest", "ud-test/cuda:latest"},
			list: []string{`0 oci-layout 644 {"imageLayoutVersion":"1.0.0"}`, "0 index.json 644 (289 bytes)"}},
		{name: "metadata in another case is read as metadata", data: archive(t, file("MANIFEST.JSON", hijack)),
			tags: []string{"ud-test/busybox:latest"}, list: []string{"0 MANIFEST.JSON 644 (100 bytes)"}},
		{name: "a nested file of a metadata name is not metadata", data: archive(t, file("abc/manifest.json", `not json`)),
			tags: []string{}, list: []string{"0 abc/manifest.json 644 not json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			a, err := Normalize(bytes.NewReader(tt.data), &out, 1<<30)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			want := tt.list
			if want == nil {
				want = saveListing
			}
			if got := listing(t, out.Bytes()); !reflect.DeepEqual(got, want) {
				t.Errorf("output\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if !reflect.DeepEqual(a.Tags, tt.tags) || a.Size != int64(out.Len()) {
				t.Errorf("tags %q, size %d; want %q, %d", a.Tags, a.Size, tt.tags, out.Len())
			}
			// The output is its own normal form.
			var again bytes.Buffer
			if b, err := Normalize(bytes.NewReader(out.Bytes()), &again, 1<<30); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) || !reflect.DeepEqual(b, a) {
				t.Errorf("normalizing the output again: %v, same bytes %v, %+v vs %+v", err, bytes.Equal(again.Bytes(), out.Bytes()), b, a)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	head := entryBytes(t, file("manifest.json", manifest))
	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{name: "symlinked directory to the root (the tag hijack)", data: archive(t, file("manifest.json", manifest), symlink("a", "."), file("a/manifest.json", hijack)),
			err: `symbolic link "a" of the image archive points to the archive's root directory; links may point only to files`},
		{name: "entry below a symlinked directory", data: archive(t, file("manifest.json", manifest), dir("d"), symlink("a", "d"), file("a/manifest.json", hijack)),
			err: `entry "a/manifest.json" of the image archive is below "a", which is a symbolic link`},
		{name: "symlink to a directory", data: archive(t, file("manifest.json", manifest), dir("d"), symlink("a", "d/")),
			err: `symbolic link "a" of the image archive points to "d", which is a directory; links may point only to files`},
		{name: "symlink to a directory made later", data: archive(t, symlink("a", "sub"), file("sub/x", "x")),
			err: `symbolic link "a" of the image archive points to "sub", which is a directory; links may point only to files`},
		{name: "symlink to a symlink", data: archive(t, file("f", "x"), symlink("a", "f"), symlink("b", "a")),
			err: `symbolic link "b" of the image archive points to "a", which is a symbolic link; links may point only to files`},
		{name: "symlink to nothing", data: archive(t, symlink("a", "gone")),
			err: `symbolic link "a" of the image archive points to "gone", which is nothing; links may point only to files`},
		{name: "symlink outside", data: archive(t, symlink("l/layer.tar", "../../etc/shadow")),
			err: `symbolic link "l/layer.tar" of the image archive points outside the archive ("../../etc/shadow")`},
		{name: "absolute symlink", data: archive(t, symlink("a", "/etc/shadow")),
			err: `symbolic link "a" of the image archive points to "/etc/shadow"; only relative links to files in the archive are passed on`},
		{name: "symlinked manifest", data: archive(t, file("x.json", hijack), symlink("manifest.json", "x.json")),
			err: "manifest.json in the image archive is not a regular file"},
		{name: "manifest as a directory", data: archive(t, dir("manifest.json/")),
			err: "manifest.json in the image archive is not a regular file"},
		{name: "hard link", data: archive(t, file("x.json", hijack), hardlink("manifest.json", "x.json")),
			err: `entry "manifest.json" of the image archive is a hard link, which userdocker does not pass on`},
		{name: "hard-linked directory", data: archive(t, dir("d"), hardlink("a", "d")),
			err: `entry "a" of the image archive is a hard link, which userdocker does not pass on`},
		{name: "duplicate manifest (the daemon takes the last)", data: archive(t, file("manifest.json", manifest), file("manifest.json", hijack)),
			err: `the image archive has entry "manifest.json" twice`},
		{name: "duplicate through ./", data: archive(t, file("manifest.json", manifest), file("./manifest.json", hijack)),
			err: `the image archive has entry "manifest.json" twice`},
		{name: "duplicate in another case", data: archive(t, file("manifest.json", manifest), file("Manifest.json", hijack)),
			err: `the image archive has entries "manifest.json" and "Manifest.json", which are one name on a case-insensitive file system`},
		{name: "directories in another case", data: archive(t, file("L/a", "1"), file("l/b", "2")),
			err: `the image archive has entries "L" and "l", which are one name on a case-insensitive file system`},
		{name: "a file replaced by a directory", data: archive(t, file("x", "1"), dir("x")),
			err: `the image archive has entry "x" twice`},
		{name: "entry below a file", data: archive(t, file("x", "1"), file("x/manifest.json", hijack)),
			err: `entry "x/manifest.json" of the image archive is below "x", which is a file`},
		{name: "absolute name", data: archive(t, file("/manifest.json", hijack)),
			err: `entry "/manifest.json" of the image archive has an absolute name`},
		{name: "dot-dot", data: archive(t, file("a/../manifest.json", hijack)),
			err: `entry "a/../manifest.json" of the image archive has ".." in its name`},
		{name: "unicode name", data: archive(t, file("manifest\u2024json", hijack)),
			err: "entry \"manifest\u2024json\" of the image archive has a name with other characters than letters, digits and ._:+-"},
		{name: "backslash", data: archive(t, file(`a\manifest.json`, hijack)),
			err: `entry "a\\manifest.json" of the image archive has a name with other characters than letters, digits and ._:+-`},
		{name: "long name", data: archive(t, file(strings.Repeat("x", 300), "")),
			err: `entry "` + strings.Repeat("x", 300) + `" of the image archive has a name longer than 256 bytes`},
		{name: "device", data: archive(t, ent{h: tar.Header{Name: "dev", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}}),
			err: `entry "dev" of the image archive is of type '3'; an image archive holds only files, directories and symbolic links`},
		{name: "fifo", data: archive(t, ent{h: tar.Header{Name: "p", Typeflag: tar.TypeFifo}}),
			err: `entry "p" of the image archive is of type '6'; an image archive holds only files, directories and symbolic links`},
		{name: "GNU volume header", data: archiveOf(rawHeader("vol", 'V', 0)),
			err: `entry "vol" of the image archive is of type 'V'; an image archive holds only files, directories and symbolic links`},
		{name: "Solaris ACL", data: archiveOf(rawHeader("acl", 'A', 0)),
			err: `entry "acl" of the image archive is of type 'A'; an image archive holds only files, directories and symbolic links`},
		{name: "GNU multivolume", data: archiveOf(head, rawHeader("mv", 'M', 0)),
			err: `entry "mv" of the image archive is of type 'M'; an image archive holds only files, directories and symbolic links`},
		{name: "manifest key twice", data: archive(t, file("manifest.json", `[{"RepoTags":["alice/app:1"],"RepoTags":["ud-test/busybox:latest"]}]`)),
			err: `manifest.json in the image archive: key "RepoTags" appears twice in an object (as "RepoTags" and "RepoTags")`},
		{name: "manifest key in another case", data: archive(t, file("manifest.json", `[{"RepoTags":["alice/app:1"],"repotags":["ud-test/busybox:latest"]}]`)),
			err: `manifest.json in the image archive: key "repotags" appears twice in an object (as "RepoTags" and "repotags")`},
		{name: "index key twice", data: archive(t, file("index.json", `{"manifests":[],"manifests":[]}`)),
			err: `index.json in the image archive: key "manifests" appears twice in an object (as "manifests" and "manifests")`},
		{name: "non-ASCII key (Go folds the long s into s)", data: archive(t, file("manifest.json", `[{"RepoTag\u017f":["ud-test/busybox:latest"]}]`)),
			err: "manifest.json in the image archive: key \"RepoTag\u017f\" is not ASCII"},
		{name: "data after the manifest (a json.Decoder stops before it)", data: archive(t, file("manifest.json", manifest+` [{"RepoTags":["x:1"]}]`)),
			err: "manifest.json in the image archive: data after the JSON value"},
		{name: "deep JSON", data: archive(t, file("repositories", strings.Repeat("[", 100)+strings.Repeat("]", 100))),
			err: "repositories in the image archive: JSON nested more than 64 deep"},
		{name: "too many tags", data: archive(t, file("repositories", `{"alice/app":{`+strings.TrimSuffix(manyTags(1001), ",")+`}}`)),
			err: "the image archive names more than 1000 tags"},
		{name: "bad manifest", data: archive(t, file("manifest.json", `{`)),
			err: "manifest.json in the image archive: unexpected EOF"},
		{name: "manifest of the wrong shape", data: archive(t, file("manifest.json", `{"RepoTags":["x:1"]}`)),
			err: "manifest.json in the image archive: json: cannot unmarshal object into Go value of type []imagetar.manifestEntry"},
		{name: "parent image outside the archive (it could never be deleted again)", data: archive(t, file("manifest.json", `[{"Config":"ab.json","RepoTags":["alice/app:1"],"Parent":"sha256:cd"}]`)),
			err: "manifest.json in the image archive: image sha256:ab names parent image sha256:cd, which is not in the archive"},
		{name: "parent image outside the archive, config as an OCI blob", data: archive(t, file("manifest.json", `[{"Config":"blobs/sha256/ab","RepoTags":["alice/app:1"],"Parent":"sha256:ab0"}]`)),
			err: "manifest.json in the image archive: image sha256:ab names parent image sha256:ab0, which is not in the archive"},
		{name: "bad oci-layout", data: archive(t, file("oci-layout", `[`)),
			err: "oci-layout in the image archive: unexpected EOF"},
		{name: "xz", data: []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 1, 2},
			err: "the image archive is compressed with xz, which userdocker cannot inspect: decompress it first (xz -d)"},
		{name: "not a tar", data: bytes.Repeat([]byte("x"), 1024),
			err: "the input is not an image archive (a tar file, plain or compressed with gzip or bzip2): archive/tar: invalid tar header"},
		{name: "gzip of something else", data: gz([]byte("#!/bin/sh\necho hello\n")),
			err: "the input is not an image archive (a tar file, plain or compressed with gzip or bzip2): unexpected EOF"},
		{name: "empty", data: nil, err: "the image archive holds nothing"},
		{name: "only end blocks", data: make([]byte, 1024), err: "the image archive holds nothing"},
		{name: "truncated", data: archive(t, file("manifest.json", manifest), file("big", strings.Repeat("x", 4096)))[:2048],
			err: "the image archive ends in the middle of an entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Normalize(bytes.NewReader(tt.data), io.Discard, 1<<30)
			var ae *Error
			if err == nil || err.Error() != tt.err || !errors.As(err, &ae) {
				t.Fatalf("Normalize() = %+v, %v; want the refusal %q", a, err, tt.err)
			}
		})
	}
}

func TestNormalizeSize(t *testing.T) {
	zeros := strings.Repeat("\x00", 8<<20)
	bomb := string(gz(archive(t, file("zeros", zeros))))
	tests := []struct {
		name     string
		data     []byte
		max      int64
		unpacked int64 // when not refused
		entries  int64
		err      string
	}{
		{name: "fits", data: archive(t, file("a", "12345"), file("b", "678")), max: 8, unpacked: 8, entries: 2},
		{name: "one byte too many", data: archive(t, file("a", "12345"), file("b", "6789")), max: 8,
			err: "the image archive takes more than 8B once unpacked, the most this system loads"},
		{name: "a layer counts unpacked", data: archive(t, file("l.tar.gz", bomb)), max: 16 << 20, unpacked: 8<<20 + 1536, entries: 2},
		{name: "compression bomb in a layer", data: archive(t, file("l.tar.gz", bomb)), max: 4 << 20,
			err: "the image archive takes more than 4MiB once unpacked, the most this system loads"},
		{name: "sparse file in a layer", data: archive(t, file("l.tar", string(archiveOf(sparse("holes", 1<<40, "x"))))), max: 1 << 30,
			err: "the image archive takes more than 1GiB once unpacked, the most this system loads"},
		{name: "sparse file in the archive", data: archiveOf(sparse("holes", 1<<40, "x")), max: 1 << 30,
			err: "the image archive takes more than 1GiB once unpacked, the most this system loads"},
		{name: "xz-compressed layer", data: archive(t, file("l.tar.xz", "\xfd7zXZ\x00rest")), max: 1 << 30,
			err: `file "l.tar.xz" of the image archive is compressed with xz or zstd, which userdocker cannot measure: save the image uncompressed or with gzip`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Normalize(bytes.NewReader(tt.data), io.Discard, tt.max)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || strings.Contains(tt.err, "most this system") != errors.Is(err, ErrTooLarge) {
					t.Fatalf("Normalize() = %+v, %v; want %q", a, err, tt.err)
				}
				return
			}
			if err != nil || a.Unpacked != tt.unpacked || a.Entries != tt.entries {
				t.Fatalf("Normalize() = %+v, %v; want %d bytes unpacked, %d entries", a, err, tt.unpacked, tt.entries)
			}
		})
	}
}

// failingWriter fails once it has taken n bytes, as the spool does when
// the disk's reserve is reached.
type failingWriter struct{ n int }

var errFull = errors.New("reserve reached")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestNormalizeWriteError(t *testing.T) {
	data := archive(t, save(t)...)
	for _, n := range []int{0, 600, 3000, len(data) - 1100} {
		_, err := Normalize(bytes.NewReader(data), &failingWriter{n}, 1<<30)
		var ae *Error
		if !errors.Is(err, errFull) || errors.As(err, &ae) {
			t.Errorf("after %d bytes: %v; want the writer's error, not a refusal", n, err)
		}
	}
}

// TestBzip2 reads testdata/save.tar.bz2, made with Python's bz2 module
// from the archive of save() (Go has no bzip2 writer).
func TestBzip2(t *testing.T) {
	data, err := os.ReadFile("testdata/save.tar.bz2")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a, err := Normalize(bytes.NewReader(data), &out, 1<<30)
	if err != nil || !reflect.DeepEqual(a.Tags, []string{"alice/app:1"}) || !reflect.DeepEqual(listing(t, out.Bytes()), saveListing) {
		t.Fatalf("Normalize() = %+v, %v, %q", a, err, listing(t, out.Bytes()))
	}
}

func manyTags(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `"t%d":"x",`, i)
	}
	return b.String()
}

// A parent that comes in the same archive is what docker save writes for
// an image saved with its parent; it is passed on.
func TestParentInTheArchive(t *testing.T) {
	for _, m := range []string{
		`[{"Config":"aa.json","RepoTags":["alice/base:1"]},{"Config":"bb.json","RepoTags":["alice/app:1"],"Parent":"sha256:aa"}]`,
		`[{"Config":"blobs/sha256/aa","RepoTags":["alice/base:1"]},{"Config":"blobs/sha256/bb","RepoTags":["alice/app:1"],"Parent":"sha256:aa"}]`,
	} {
		tags, err := parseMeta(manifestFile, []byte(m))
		if err != nil || !reflect.DeepEqual(tags, []string{"alice/base:1", "alice/app:1"}) {
			t.Errorf("parseMeta(%s) = %q, %v", m, tags, err)
		}
	}
}
