// Package imagetar checks an image archive for `docker load` and writes
// the copy of it that the daemon gets instead of the original.
//
// What the daemon reads must be exactly what userdocker checked
// (DESIGN.md §3.8). Docker 20.10 extracts the whole archive into a
// directory (pkg/chrootarchive.Untar), following symbolic links in parent
// directories, replacing a file by a later entry of the same name, creating
// hard links, and only then opens manifest.json (or, without one,
// repositories) in that directory; newer daemons with the containerd image
// store read index.json, manifest.json and oci-layout from the stream, the
// last entry of a name winning. An archive that reads one way to a checker
// and another way to the daemon — a harmless manifest.json, then a link
// `a -> .` and `a/manifest.json` — once replaced an allowed tag.
//
// So Normalize does not judge the user's bytes and pass them on: it
// parses them and writes a new archive of its own from what it parsed,
// with nothing in it that a reader could take two ways. Every name is
// canonical ("./x", "x/" and "x" are one name), printable ASCII, relative
// and without "..", and names no other entry, not even in another case; no
// entry lies below a file or a symbolic link; only regular files,
// directories and symbolic links to regular files (docker save of 20.10
// writes those for layers it saved once already) are written, with fixed
// owners, modes and times, so hard links, devices, extended attributes and
// sparse maps never reach the daemon; PAX global headers are dropped. The
// files that name tags (manifest.json, repositories, index.json) and
// oci-layout are regular files whose JSON has no key twice, in any case,
// and no data after it, so that no JSON reader can take a different value
// from them. Whatever follows the end of the tar stream (trailing garbage,
// a second archive) is not written at all.
//
// Normalize also measures what loading costs the daemon's disk: each file
// as the daemon would unpack it (a compressed layer decompressed, a layer
// tar's sparse files at their full size), so that a small archive cannot
// make dockerd write terabytes.
package imagetar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	units "github.com/docker/go-units"
)

// MaxEntries bounds the entries of an archive: docker save writes three or
// four per layer, so this is far beyond any real image, and it bounds the
// memory the name table takes.
const MaxEntries = 100000

// MaxTags bounds the tags an archive may name: each is looked up in the
// daemon before the load.
const MaxTags = 1000

// Archive is what Normalize found in an image archive.
type Archive struct {
	// Tags are the tags loading would create, as written in the archive,
	// sorted and without repeats.
	Tags []string
	// Size is the number of bytes written: the normalized archive.
	Size int64
	// Unpacked is what the archive takes once the daemon has unpacked it:
	// every file at the size the daemon writes it (a compressed layer
	// decompressed, the sparse files of a layer at their full size).
	Unpacked int64
	// Entries counts the entries of the archive and of its layers: about
	// the inodes loading takes.
	Entries int64
}

// Error is why an archive is refused: something in it that the daemon
// could read otherwise than userdocker, or that userdocker cannot read.
type Error struct {
	Msg string
	Err error // ErrTooLarge, or nil
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func refusef(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// ErrTooLarge is the cause of an Error about an archive that unpacks to
// more than Normalize's maxSize.
var ErrTooLarge = errors.New("image archive too large")

func tooLarge(max int64) error {
	return &Error{Err: ErrTooLarge,
		Msg: fmt.Sprintf("the image archive takes more than %s once unpacked, the most this system loads", units.BytesSize(float64(max)))}
}

// epoch is the time of every entry written: the daemon uses none of them.
var epoch = time.Unix(0, 0)

// Normalize reads the image archive r (a tar stream, plain or compressed
// with gzip or bzip2) and writes to w the archive the daemon is to load
// instead, uncompressed. It stops at the first problem, with an *Error for
// a problem of the archive (ErrTooLarge once it unpacks to more than
// maxSize) and the error of w, wrapped, when writing fails. w has then
// received part of an archive, which must not reach the daemon.
func Normalize(r io.Reader, w io.Writer, maxSize int64) (*Archive, error) {
	in, err := decompress(bufio.NewReaderSize(r, 1<<16))
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: w}
	n := &normalizer{
		tr:   tar.NewReader(in),
		tw:   tar.NewWriter(cw),
		tree: newTree(),
		max:  maxSize,
		buf:  make([]byte, 1<<18),
		tags: []string{},
	}
	for {
		h, err := n.tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, n.readError(err)
		}
		if err := n.entry(h); err != nil {
			return nil, err
		}
	}
	if n.entries == 0 {
		return nil, refusef("the image archive holds nothing")
	}
	if err := n.tree.checkLinks(); err != nil {
		return nil, err
	}
	if err := n.tw.Close(); err != nil {
		return nil, writeError(err)
	}
	slices.Sort(n.tags)
	return &Archive{Tags: slices.Compact(n.tags), Size: cw.n, Unpacked: n.unpacked, Entries: n.entries + n.inner}, nil
}

// normalizer is one run of Normalize.
type normalizer struct {
	tr       *tar.Reader
	tw       *tar.Writer
	tree     *tree
	max      int64
	buf      []byte
	tags     []string
	seen     int64 // entries read
	entries  int64 // entries written
	inner    int64 // of its layers
	unpacked int64
}

func (n *normalizer) readError(err error) error {
	if n.seen == 0 {
		return refusef("the input is not an image archive (a tar file, plain or compressed with gzip or bzip2): %v", err)
	}
	if err == io.ErrUnexpectedEOF {
		return refusef("the image archive ends in the middle of an entry")
	}
	return refusef("read the image archive: %v", err)
}

func (n *normalizer) entry(h *tar.Header) error {
	if h.Typeflag == tar.TypeXGlobalHeader {
		// Records for all later entries; the daemon ignores them, and
		// nothing written here has any to take.
		return nil
	}
	n.seen++
	if n.seen > MaxEntries {
		return refusef("the image archive has more than %d entries", MaxEntries)
	}
	name, err := canonicalName(h.Name)
	if err != nil {
		return err
	}
	if name == "" {
		if h.Typeflag == tar.TypeDir {
			return nil // the archive's root, which the daemon makes itself
		}
		return refusef("entry %q of the image archive has no name", h.Name)
	}
	switch h.Typeflag {
	case tar.TypeDir:
		fresh, err := n.tree.add(name, kindDir)
		if err != nil || !fresh {
			return err
		}
		if metaFile(name) != "" {
			return refusef("%s in the image archive is not a regular file", name)
		}
		return n.header(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755})
	case tar.TypeReg, tar.TypeGNUSparse:
		if _, err := n.tree.add(name, kindFile); err != nil {
			return err
		}
		return n.file(name, h.Size)
	case tar.TypeSymlink:
		if _, err := n.tree.add(name, kindLink); err != nil {
			return err
		}
		if metaFile(name) != "" {
			return refusef("%s in the image archive is not a regular file", name)
		}
		link, err := n.tree.link(name, h.Linkname)
		if err != nil {
			return err
		}
		return n.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: link, Mode: 0o777})
	case tar.TypeLink:
		return refusef("entry %q of the image archive is a hard link, which userdocker does not pass on", name)
	}
	return refusef("entry %q of the image archive is of type %q; an image archive holds only files, directories and symbolic links", name, h.Typeflag)
}

func (n *normalizer) header(h *tar.Header) error {
	n.entries++
	h.ModTime = epoch
	if err := n.tw.WriteHeader(h); err != nil {
		return writeError(err)
	}
	return nil
}

// file writes a regular file: a metadata file as read and checked, any
// other while measuring what it unpacks to.
func (n *normalizer) file(name string, size int64) error {
	if n.unpacked+size > n.max {
		return tooLarge(n.max)
	}
	if meta := metaFile(name); meta != "" {
		if size > maxMetaSize {
			return refusef("%s in the image archive is larger than %d bytes", name, maxMetaSize)
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(n.tr, data); err != nil {
			return n.readError(err)
		}
		tags, err := parseMeta(meta, data)
		if err != nil {
			return refusef("%s in the image archive: %v", name, err)
		}
		n.tags = append(n.tags, tags...)
		if len(n.tags) > MaxTags {
			return refusef("the image archive names more than %d tags", MaxTags)
		}
		n.unpacked += size
		if err := n.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644}); err != nil {
			return err
		}
		if _, err := n.tw.Write(data); err != nil {
			return writeError(err)
		}
		return nil
	}
	if err := n.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644}); err != nil {
		return err
	}
	m := startMeter(name, n.max-n.unpacked)
	copied, err := io.CopyBuffer(io.MultiWriter(onlyWriter{n.tw}, m), onlyReader{n.tr}, n.buf)
	res := m.finish()
	switch {
	case res.err != nil: // the meter's verdict explains a failed write to it
		return res.err
	case err != nil && errors.Is(err, errWrite):
		return err
	case err != nil:
		return n.readError(err)
	case copied != size:
		return n.readError(io.ErrUnexpectedEOF)
	}
	n.unpacked += max(size, res.unpacked)
	n.inner += res.entries
	if n.unpacked > n.max {
		return tooLarge(n.max)
	}
	return nil
}

// errWrite marks errors of the output writer, so that they are not taken
// for problems of the archive.
var errWrite = errors.New("write the checked image archive")

func writeError(err error) error { return fmt.Errorf("%w: %w", errWrite, err) }

// onlyWriter hides the tar writer's ReadFrom, and marks its errors.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil {
		err = writeError(err)
	}
	return n, err
}

// onlyReader hides the tar reader's WriteTo, so that CopyBuffer uses the
// large buffer.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Compression formats by their first bytes. The daemon also reads xz and
// zstd; userdocker cannot, and refuses what it cannot read.
var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicBzip2 = []byte("BZh")
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

func decompress(br *bufio.Reader) (io.Reader, error) {
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, refusef("read the gzip-compressed image archive: %v", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, magicBzip2):
		return bzip2.NewReader(br), nil
	case bytes.HasPrefix(magic, magicXz):
		return nil, refusef("the image archive is compressed with xz, which userdocker cannot inspect: decompress it first (xz -d)")
	case bytes.HasPrefix(magic, magicZstd):
		return nil, refusef("the image archive is compressed with zstd, which userdocker cannot inspect: decompress it first (zstd -d)")
	}
	return br, nil
}
