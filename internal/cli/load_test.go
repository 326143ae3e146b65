package cli

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"

	"github.com/userdocker/userdocker/internal/spool"
)

// tarEntry is one entry of a test archive.
type tarEntry struct {
	name, body, link string
	typ              byte
}

// saveArchive writes a docker-save style archive naming tags into a
// directory alice can read, with the given file mode.
func saveArchive(t *testing.T, mode os.FileMode, tags string) string {
	t.Helper()
	return archiveFile(t, mode, tarEntry{name: "manifest.json", body: `[{"Config":"c.json","RepoTags":` + tags + `,"Layers":[]}]`})
}

// archiveFile writes a tar archive of entries (regular files unless typ
// says otherwise) where alice can read it.
func archiveFile(t *testing.T, mode os.FileMode, entries ...tarEntry) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, Linkname: e.link}
		if e.typ != 0 {
			h.Typeflag, h.Size = e.typ, 0
		}
		tw.WriteHeader(h)
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return rawFile(t, mode, b.Bytes())
}

func rawFile(t *testing.T, mode os.FileMode, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is root's alone
	path := filepath.Join(dir, "image.tar")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// spoolConfig is ownConfig with a spool directory of the test's own.
func spoolConfig(host, spoolDir, extra string) string {
	return ownConfig(host) + "[load]\nspool_dir = \"" + spoolDir + "\"\n" + extra
}

func TestLoad(t *testing.T) {
	requireRoot(t)
	sameID := strings.Repeat("b", 64) // the image ID of alice/same:1 in the daemon
	hijack := `[{"Config":"c.json","RepoTags":["ud-test/busybox:latest"],"Layers":[]}]`
	tests := []struct {
		name    string
		file    func(t *testing.T) string
		extra   string // config lines in [load]
		spool   func(t *testing.T, dir string)
		code    int
		stdout  string
		stderr  string // suffix
		actions []string
	}{
		{name: "new tag of a repository nobody may run", file: func(t *testing.T) string { return saveArchive(t, 0o644, `["alice/new:1"]`) },
			stdout: "Loaded image: alice/new:1\n", actions: []string{"POST /images/load"}},
		{name: "hijack of an allowed tag", file: func(t *testing.T) string { return saveArchive(t, 0o644, `["ud-test/busybox:latest"]`) }, code: 125,
			stderr: "userdocker: load: tag docker.io/ud-test/busybox:latest is refused: this system lets it run (run.images), and a loaded image must not replace it\n"},
		{name: "existing tag", file: func(t *testing.T) string { return saveArchive(t, 0o644, `["alice/app:1","alice/new:1"]`) }, code: 125,
			stderr: "userdocker: load: tag docker.io/alice/app:1 is refused: it exists already, and a loaded image must not replace it\n"},
		{name: "every tag names its image already: nothing loaded", file: func(t *testing.T) string {
			return archiveFile(t, 0o644, tarEntry{name: "manifest.json", body: `[{"Config":"` + sameID + `.json","RepoTags":["alice/same:1"],"Layers":[]}]`})
		}, stdout: "Loaded image: alice/same:1\n"},
		{name: "the tag of another image: refused as before", file: func(t *testing.T) string {
			return archiveFile(t, 0o644, tarEntry{name: "manifest.json", body: `[{"Config":"` + strings.Repeat("c", 64) + `.json","RepoTags":["alice/same:1"],"Layers":[]}]`})
		}, code: 125, stderr: "userdocker: load: tag docker.io/alice/same:1 is refused: it exists already, and a loaded image must not replace it\n"},
		{name: "one tag new: judged as before", file: func(t *testing.T) string {
			return archiveFile(t, 0o644, tarEntry{name: "manifest.json", body: `[{"Config":"` + sameID + `.json","RepoTags":["alice/same:1","alice/new:1"],"Layers":[]}]`})
		}, code: 125, stderr: "userdocker: load: tag docker.io/alice/same:1 is refused: it exists already, and a loaded image must not replace it\n"},
		{name: "an allowed tag naming its image: refused as before", file: func(t *testing.T) string {
			return archiveFile(t, 0o644, tarEntry{name: "manifest.json", body: `[{"Config":"` + sameID + `.json","RepoTags":["ud-test/busybox:latest"],"Layers":[]}]`})
		}, code: 125, stderr: "userdocker: load: tag docker.io/ud-test/busybox:latest is refused: this system lets it run (run.images), and a loaded image must not replace it\n"},
		{name: "file alice cannot read", file: func(t *testing.T) string { return saveArchive(t, 0o600, `[]`) }, code: 125, stderr: ": permission denied\n"},
		{name: "hijack through a symlinked directory", file: func(t *testing.T) string {
			return archiveFile(t, 0o644, tarEntry{name: "manifest.json", body: `[{"RepoTags":["alice/new:1"]}]`},
				tarEntry{name: "a", link: ".", typ: tar.TypeSymlink}, tarEntry{name: "a/manifest.json", body: hijack})
		}, code: 125, stderr: "userdocker: load: symbolic link \"a\" of the image archive points to the archive's root directory; links may point only to files\n"},
		{name: "two manifests", file: func(t *testing.T) string {
			return archiveFile(t, 0o644, tarEntry{name: "manifest.json", body: `[{"RepoTags":["alice/new:1"]}]`}, tarEntry{name: "./manifest.json", body: hijack})
		}, code: 125, stderr: "userdocker: load: the image archive has entry \"manifest.json\" twice\n"},
		{name: "not an archive", file: func(t *testing.T) string { return rawFile(t, 0o644, []byte(strings.Repeat("#!/bin/sh\n", 200))) }, code: 125,
			stderr: "userdocker: load: the input is not an image archive (a tar file, plain or compressed with gzip or bzip2): archive/tar: invalid tar header\n"},
		{name: "larger than load.max_size", extra: `max_size = "1k"`, file: func(t *testing.T) string {
			return archiveFile(t, 0o644, tarEntry{name: "l/layer.tar", body: strings.Repeat("x", 2000)})
		}, code: 125, stderr: "userdocker: load: the image archive takes more than 1KiB once unpacked, the most this system loads (load.max_size)\n"},
		{name: "below load.min_free", extra: `min_free = "1p"`, file: func(t *testing.T) string { return saveArchive(t, 0o644, `["alice/new:1"]`) },
			code: 125, stderr: " free, less than the 1PiB this system keeps free (load.min_free)\n"},
		{name: "another load of alice's runs", file: func(t *testing.T) string { return saveArchive(t, 0o644, `["alice/new:1"]`) },
			spool: func(t *testing.T, dir string) {
				d, err := spool.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				lock, err := d.Lock(2001)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { lock.Close(); d.Close() })
			},
			code: 125, stderr: "userdocker: note: load: waiting for another load of yours to finish (one at a time per user)\nuserdocker: load: another load of yours is still running after 200ms: userdocker loads one archive per user at a time; try again when it has finished\n"},
		{name: "a load of bob's does not stop alice's", file: func(t *testing.T) string { return saveArchive(t, 0o644, `["alice/new:1"]`) },
			spool: func(t *testing.T, dir string) {
				d, _ := spool.Open(dir)
				lock, err := d.Lock(2002)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { lock.Close(); d.Close() })
			},
			stdout: "Loaded image: alice/new:1\n", actions: []string{"POST /images/load"}},
		{name: "spool directory others may write", file: func(t *testing.T) string { return saveArchive(t, 0o644, `["alice/new:1"]`) },
			spool: func(t *testing.T, dir string) { os.Mkdir(dir, 0o755); os.Chmod(dir, 0o777) },
			code:  125, stderr: " is writable by group or others (mode 0777); the administrator must fix load.spool_dir\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := withImages(daemon(), image.Summary{ID: "sha256:bbbb", RepoTags: []string{"alice/app:1"}},
				image.Summary{ID: "sha256:" + sameID, RepoTags: []string{"alice/same:1", "ud-test/busybox:latest"}})
			dir := filepath.Join(t.TempDir(), "spool")
			if tt.spool != nil {
				tt.spool(t, dir)
			}
			code, out, errOut := cli(t, spoolConfig(d.Serve(t), dir, tt.extra), 0, "load", "-i", tt.file(t))
			if code != tt.code || out != tt.stdout || !strings.HasSuffix(errOut, tt.stderr) || tt.stderr == "" && errOut != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
			if got := actions(d); !reflect.DeepEqual(got, tt.actions) {
				t.Fatalf("daemon actions %q, want %q", got, tt.actions)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), "load-") || !strings.HasSuffix(e.Name(), ".lock") {
					t.Fatalf("the spool directory holds %v; want lock files alone", entries)
				}
			}
		})
	}
}
