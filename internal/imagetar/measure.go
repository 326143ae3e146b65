package imagetar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"io"
)

// meter measures, while a file of the archive is copied, what the daemon
// would write when it loads that file as a layer: the file decompressed
// (gzip, bzip2), and, if that is a tar stream, the full size of each file
// in it, sparse files included. Files that are not layers measure as what
// they are. The measuring runs in its own goroutine, fed through a pipe,
// and stops, failing the copy, as soon as it passes its limit.
type meter struct {
	pw   *io.PipeWriter
	done chan measured
}

// measured is a meter's result.
type measured struct {
	unpacked int64 // bytes the daemon would write
	entries  int64 // entries of the layer tar
	err      error // why the file is refused, or nil
}

func startMeter(name string, limit int64) *meter {
	pr, pw := io.Pipe()
	m := &meter{pw: pw, done: make(chan measured, 1)}
	go func() {
		res := measure(name, pr, limit)
		if res.err != nil {
			pr.CloseWithError(res.err) // the copy stops at its next write
		} else {
			io.Copy(io.Discard, pr) // whatever follows a layer's end
		}
		m.done <- res
	}()
	return m
}

func (m *meter) Write(p []byte) (int, error) { return m.pw.Write(p) }

// finish ends the file and returns what the meter found.
func (m *meter) finish() measured {
	m.pw.Close()
	return <-m.done
}

func measure(name string, r io.Reader, limit int64) measured {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(6)
	var in io.Reader = br
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return measured{} // not gzip after all; the daemon fails to read it too
		}
		in = zr
	case bytes.HasPrefix(head, magicBzip2):
		in = bzip2.NewReader(br)
	case bytes.HasPrefix(head, magicXz), bytes.HasPrefix(head, magicZstd):
		return measured{err: refusef("file %q of the image archive is compressed with xz or zstd, which userdocker cannot measure: save the image uncompressed or with gzip", name)}
	}
	cr := &limitCounter{r: in, limit: limit}
	tr := tar.NewReader(cr)
	var res measured
	var files int64
	for {
		h, err := tr.Next()
		if err != nil {
			break // the end of the layer, or not a tar stream: what was read counts
		}
		res.entries++
		if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeGNUSparse {
			files += h.Size
			if files > limit {
				return measured{err: tooLarge(limit)}
			}
		}
	}
	if _, err := io.Copy(io.Discard, cr); errors.Is(err, ErrTooLarge) || cr.n > limit {
		return measured{err: tooLarge(limit)}
	}
	res.unpacked = max(cr.n, files)
	return res
}

// limitCounter counts the bytes read through it and fails once there are
// more than limit, so that a decompression bomb is not read to its end.
type limitCounter struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *limitCounter) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, ErrTooLarge
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
