//go:build integration

package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/userdocker/userdocker/test/harness"
)

// savedEntries is `docker save` of image, entry by entry.
func savedEntries(t *testing.T, image string) []tarItem {
	t.Helper()
	saved, err := exec.Command("docker", "save", image).Output()
	if err != nil {
		t.Fatalf("docker save %s: %v", image, err)
	}
	var out []tarItem
	tr := tar.NewReader(bytes.NewReader(saved))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out = append(out, tarItem{h: *h, body: body})
	}
}

// tarItem is one entry of a crafted archive.
type tarItem struct {
	h    tar.Header
	body []byte
}

func regular(name string, body []byte) tarItem {
	return tarItem{h: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}, body: body}
}

func linkItem(typ byte, name, target string) tarItem {
	return tarItem{h: tar.Header{Name: name, Typeflag: typ, Linkname: target, Mode: 0o777}}
}

// withTags returns the entries of a docker save with manifest.json
// naming tags and an empty repositories file.
func withTags(entries []tarItem, tags ...string) []tarItem {
	var out []tarItem
	for _, e := range entries {
		switch e.h.Name {
		case "manifest.json":
			e = regular("manifest.json", retag(e.body, tags...))
		case "repositories":
			e = regular("repositories", []byte("{}"))
		}
		out = append(out, e)
	}
	return out
}

// retag rewrites the RepoTags of a docker save manifest.
func retag(manifest []byte, tags ...string) []byte {
	start := bytes.Index(manifest, []byte(`"RepoTags":[`))
	end := bytes.IndexByte(manifest[start:], ']')
	list := `"RepoTags":["` + strings.Join(tags, `","`) + `"]`
	return append(append(append([]byte{}, manifest[:start]...), list...), manifest[start+end+1:]...)
}

func manifestOf(entries []tarItem) []byte {
	for _, e := range entries {
		if e.h.Name == "manifest.json" {
			return e.body
		}
	}
	panic("no manifest.json")
}

// writeArchive writes entries as a tar file alice can read.
func writeArchive(t *testing.T, entries []tarItem) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := e.h
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("write %q: %v", h.Name, err)
		}
		tw.Write(e.body)
	}
	tw.Close()
	return writeRaw(t, b.Bytes())
}

func writeRaw(t *testing.T, data []byte) string {
	t.Helper()
	dir := filepath.Join("/srv/udtest", "load-"+fmt.Sprint(time.Now().UnixNano()))
	os.MkdirAll(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "image.tar")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// imageID is the ID the daemon has for ref, "" if none.
func imageID(ref string) string {
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", ref).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// loadSpool is the spool directory of the load tests: the built-in
// default, which userdocker makes on first use.
const loadSpool = "/var/spool/userdocker"

func loadConfig(extra string) string {
	return ownConfig + "\n[load]\n" + extra
}

// spoolIsEmpty fails the test when the spool directory holds anything but
// lock files.
func spoolIsEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "load-") || !strings.HasSuffix(e.Name(), ".lock") {
			t.Fatalf("the spool directory %s holds %s after the load", dir, e.Name())
		}
	}
}

// TestLoadCraftedArchives: archives built so that the daemon reads other
// tags than a checker that looks only at the entries named manifest.json.
// Each would replace an allowed tag (ud-test/busybox) or another user's
// (bob's) with the denied image; each is refused, and afterwards the
// daemon's tags point where they pointed before and the harmless tag was
// not created either.
func TestLoadCraftedArchives(t *testing.T) {
	requireSetup(t)
	writeConfig(t, loadConfig(""))
	bobs := "udtest-bob/tool:1"
	docker(t, "tag", testImage, bobs)
	t.Cleanup(func() { exec.Command("docker", "rmi", bobs).Run() })
	denied := savedEntries(t, deniedImage)
	harmlessTag := "udtest-alice/harmless:1"
	harmless := withTags(denied, harmlessTag)
	dotted := strings.Repeat("./", 60) + "manifest.json" // a PAX or GNU long name for manifest.json
	shapes := []struct {
		name string
		// archive is harmless, then the hijack of target
		archive func(target string) []tarItem
		want    string
	}{
		{"symlinked directory", func(target string) []tarItem {
			return append(harmless, linkItem(tar.TypeSymlink, "a", "."), regular("a/manifest.json", retag(manifestOf(denied), target)))
		}, `userdocker: load: symbolic link "a" of the image archive points to the archive's root directory; links may point only to files`},
		{"symlink to a subdirectory, then a manifest below it", func(target string) []tarItem {
			return append(harmless, regular("d/x", nil), linkItem(tar.TypeSymlink, "a", "d/.."), regular("a/manifest.json", retag(manifestOf(denied), target)))
		}, `userdocker: load: symbolic link "a" of the image archive points to the archive's root directory; links may point only to files`},
		{"hard-linked manifest", func(target string) []tarItem {
			return append(withTags(denied[:len(denied)-2], harmlessTag), regular("evil.json", retag(manifestOf(denied), target)), linkItem(tar.TypeLink, "manifest.json", "evil.json"))
		}, `userdocker: load: entry "manifest.json" of the image archive is a hard link, which userdocker does not pass on`},
		{"second manifest (the daemon keeps the last)", func(target string) []tarItem {
			return append(harmless, regular("manifest.json", retag(manifestOf(denied), target)))
		}, `userdocker: load: the image archive has entry "manifest.json" twice`},
		{"second manifest spelled ./manifest.json", func(target string) []tarItem {
			return append(harmless, regular("./manifest.json", retag(manifestOf(denied), target)))
		}, `userdocker: load: the image archive has entry "manifest.json" twice`},
		{"second manifest under a PAX long name", func(target string) []tarItem {
			e := regular(dotted, retag(manifestOf(denied), target))
			e.h.Format = tar.FormatPAX
			return append(harmless, e)
		}, `userdocker: load: the image archive has entry "manifest.json" twice`},
		{"second manifest under a GNU long name", func(target string) []tarItem {
			e := regular(dotted, retag(manifestOf(denied), target))
			e.h.Format = tar.FormatGNU
			return append(harmless, e)
		}, `userdocker: load: the image archive has entry "manifest.json" twice`},
		{"manifest in another case", func(target string) []tarItem {
			return append(harmless, regular("MANIFEST.json", retag(manifestOf(denied), target)))
		}, `userdocker: load: the image archive has entries "manifest.json" and "MANIFEST.json", which are one name on a case-insensitive file system`},
		{"tag key twice in the manifest", func(target string) []tarItem {
			m := manifestOf(withTags(denied, harmlessTag))
			m = bytes.Replace(m, []byte(`"RepoTags":`), []byte(`"RepoTags":["`+target+`"],"RepoTags":`), 1)
			return append(withTags(denied[:len(denied)-2], harmlessTag), regular("manifest.json", m))
		}, `userdocker: load: manifest.json in the image archive: key "RepoTags" appears twice in an object (as "RepoTags" and "RepoTags")`},
	}
	for _, target := range []string{testImage, bobs} {
		for _, s := range shapes {
			t.Run(s.name+" onto "+target, func(t *testing.T) {
				before := imageID(target)
				r := ud(t, alice, nil, "load", "-i", writeArchive(t, s.archive(target)))
				if r.code != 125 || !strings.HasPrefix(r.stderr, s.want+"\n") {
					t.Errorf("exit %d, stderr %q; want 125, %q", r.code, r.stderr, s.want)
				}
				if after := imageID(target); after != before {
					t.Errorf("%s was %s and is %s now", target, before, after)
				}
				if id := imageID(harmlessTag); id != "" {
					exec.Command("docker", "rmi", harmlessTag).Run()
					t.Errorf("%s was loaded (%s)", harmlessTag, id)
				}
				spoolIsEmpty(t, loadSpool)
			})
		}
	}
	// The shapes are real attacks: the daemon itself, given the
	// symlinked-directory and the duplicate-manifest archives directly,
	// moves a tag (here a scratch one, then removed).
	for _, i := range []int{0, 3} {
		victim := "udtest-probe/victim:1"
		docker(t, "tag", testImage, victim)
		before := imageID(victim)
		f, _ := os.Open(writeArchive(t, shapes[i].archive(victim)))
		load := exec.Command("docker", "load")
		load.Stdin = f
		out, err := load.CombinedOutput()
		f.Close()
		after := imageID(victim)
		exec.Command("docker", "rmi", victim, harmlessTag).Run()
		if err != nil || after == before || after != imageID(deniedImage) {
			t.Errorf("plain docker load of the %s archive: %v %s; %s stayed %s: the shape no longer attacks this daemon", shapes[i].name, err, out, victim, after)
		}
	}
}

// TestLoadLegit: docker save archives of test images under new tags
// load through userdocker as the same images (same IDs), and they run:
// the denied test image, and an image whose save holds a layer as a
// symbolic link to an identical one (docker save of 20.10 writes that),
// removed from the daemon before it is loaded again, so that the daemon
// reads its layers from the archive.
func TestLoadLegit(t *testing.T) {
	requireSetup(t)
	writeConfig(t, loadConfig(""))
	twice := "udtest-probe/same-layer-twice:1"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := harness.BuildImage(ctx, twice, "FROM "+testImage+"\nCOPY f /f\nRUN [\"rm\", \"/f\"]\nCOPY f /f\n",
		harness.File{Name: "f", Mode: 0o644, ModTime: time.Unix(1e9, 0), Data: []byte("hello\n")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", twice).Run() })
	for _, image := range []string{deniedImage, twice} {
		t.Run(image, func(t *testing.T) {
			entries, id := savedEntries(t, image), imageID(image)
			if image == twice {
				docker(t, "rmi", twice)
			}
			links := 0
			for _, e := range entries {
				if e.h.Typeflag == tar.TypeSymlink {
					links++
				}
			}
			if image == twice && links != 1 {
				t.Fatalf("the save of %s has %d symbolic links; the test needs one", image, links)
			}
			tag := "udtest-alice/legit:1"
			t.Cleanup(func() { exec.Command("docker", "rmi", tag).Run() })
			r := ud(t, alice, nil, "load", "-i", writeArchive(t, withTags(entries, tag)))
			if r.code != 0 || !strings.Contains(r.stdout, "Loaded image: "+tag) {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			if got := imageID(tag); got != id {
				t.Fatalf("%s is %s; want the saved image %s", tag, got, id)
			}
			if out := docker(t, "run", "--rm", tag, "echo", "runs"); out != "runs" {
				t.Fatalf("the loaded image ran with output %q", out)
			}
			spoolIsEmpty(t, loadSpool)
		})
	}
}

// TestLoadSizeLimits: an archive larger than load.max_size, and one that
// would take the spool's file system below load.min_free, are refused;
// nothing is loaded and the spool is empty again.
func TestLoadSizeLimits(t *testing.T) {
	requireSetup(t)
	tag := "udtest-alice/big:1"
	archive := writeArchive(t, withTags(savedEntries(t, deniedImage), tag))
	t.Run("load.max_size", func(t *testing.T) {
		writeConfig(t, loadConfig(`max_size = "1m"`))
		r := ud(t, alice, nil, "load", "-i", archive)
		want := "userdocker: load: the image archive takes more than 1MiB once unpacked, the most this system loads (load.max_size)\n"
		if r.code != 125 || r.stderr != want {
			t.Fatalf("exit %d, stderr %q; want 125, %q", r.code, r.stderr, want)
		}
		if imageID(tag) != "" {
			t.Fatalf("%s was loaded", tag)
		}
		spoolIsEmpty(t, loadSpool)
	})
	t.Run("load.min_free", func(t *testing.T) {
		// A 16 MiB file system of its own for the spool; keep 15 MiB free.
		dir := filepath.Join("/srv/udtest", fmt.Sprintf("spool-%d", time.Now().UnixNano()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run(); os.Remove(dir) })
		writeConfig(t, ownConfig+"\n[load]\nspool_dir = \""+dir+"\"\nmin_free = \"15m\"\n")
		r := ud(t, alice, nil, "load", "-i", archive)
		wantStart := "userdocker: load: the spool directory's file system (" + dir + ") has "
		wantEnd := " more would leave less than the 15MiB this system keeps free (load.min_free)\n"
		if r.code != 125 || !strings.HasPrefix(r.stderr, wantStart) || !strings.HasSuffix(r.stderr, wantEnd) {
			t.Fatalf("exit %d, stderr %q; want 125, %q…%q", r.code, r.stderr, wantStart, wantEnd)
		}
		if imageID(tag) != "" {
			t.Fatalf("%s was loaded", tag)
		}
		spoolIsEmpty(t, dir)
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil || st.Bfree != st.Blocks {
			t.Fatalf("the spool's file system has %d of %d blocks free after the load (%v); want all", st.Bfree, st.Blocks, err)
		}
		// With the reserve the archive fits, it loads.
		writeConfig(t, ownConfig+"\n[load]\nspool_dir = \""+dir+"\"\nmin_free = \"4m\"\n")
		t.Cleanup(func() { exec.Command("docker", "rmi", tag).Run() })
		if r := ud(t, alice, nil, "load", "-i", archive); r.code != 0 || imageID(tag) == "" {
			t.Fatalf("load with min_free = 4m: exit %d, %q", r.code, r.stderr)
		}
	})
}

// TestLoadNotAnArchive: input that is no tar stream is refused after its
// first bytes, while the sender still holds the pipe open.
func TestLoadNotAnArchive(t *testing.T) {
	requireSetup(t)
	writeConfig(t, loadConfig(""))
	cmd := exec.Command("sudo", "-n", testBinary, "load")
	harness.AsUser(t, cmd, alice)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, strings.Repeat("#!/bin/sh\necho this is not an image\n", 100))
	// stdin stays open: userdocker must answer from what it has read.
	err = cmd.Wait()
	stdin.Close()
	want := "userdocker: load: the input is not an image archive (a tar file, plain or compressed with gzip or bzip2): archive/tar: invalid tar header\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 125 || errb.String() != want {
		t.Fatalf("err %v, stderr %q; want 125, %q", err, errb.String(), want)
	}
	spoolIsEmpty(t, loadSpool)
}

// TestLoadOneAtATime: while a load of alice's is reading its archive, a
// second one of hers waits (and says so) instead of spooling beside it,
// and bob's runs; when the first completes, the second loads too.
func TestLoadOneAtATime(t *testing.T) {
	requireSetup(t)
	writeConfig(t, loadConfig(""))
	first, second, bobs := "udtest-alice/first:1", "udtest-alice/second:1", "udtest-bob/parallel:1"
	t.Cleanup(func() { exec.Command("docker", "rmi", first, second, bobs).Run() })
	denied := savedEntries(t, deniedImage)
	data, err := os.ReadFile(writeArchive(t, withTags(denied, first)))
	if err != nil || len(data) < 1<<20 {
		t.Fatalf("the archive has %d bytes (%v); the test needs more than 1 MiB", len(data), err)
	}
	cmd := exec.Command("sudo", "-n", testBinary, "load")
	harness.AsUser(t, cmd, alice)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	stdin, _ := cmd.StdinPipe()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once 1 MiB is written, more than a pipe buffer has been read:
	// userdocker holds alice's lock and is spooling.
	if _, err := stdin.Write(data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	secondDone := make(chan result, 1)
	secondArchive := writeArchive(t, withTags(denied, second))
	go func() { secondDone <- ud(t, alice, nil, "load", "-i", secondArchive) }()
	if rb := ud(t, bob, nil, "load", "-i", writeArchive(t, withTags(denied, bobs))); rb.code != 0 {
		t.Errorf("bob's load beside alice's: exit %d, %q", rb.code, rb.stderr)
	}
	select {
	case r := <-secondDone:
		t.Fatalf("alice's second load ended while her first was spooling: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	default:
	}
	if imageID(second) != "" {
		t.Errorf("alice's second load loaded %s while her first was spooling", second)
	}
	stdin.Write(data[1<<20:])
	stdin.Close()
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "Loaded image: "+first) {
		t.Fatalf("alice's first load: %v, stdout %q, stderr %q", err, out.String(), errb.String())
	}
	r := <-secondDone
	wantNote := "userdocker: note: load: waiting for another load of yours to finish (one at a time per user)\n"
	if r.code != 0 || r.stdout != "Loaded image: "+second+"\n" || r.stderr != wantNote {
		t.Errorf("alice's second load: exit %d, stdout %q, stderr %q; want it loaded after %q", r.code, r.stdout, r.stderr, wantNote)
	}
	if imageID(second) == "" || imageID(first) == "" || imageID(bobs) == "" {
		t.Fatalf("images: first %q, second %q, bob's %q; want all three", imageID(first), imageID(second), imageID(bobs))
	}
	spoolIsEmpty(t, loadSpool)
}

// TestLoadSpoolDirOfAUser: a spool directory alice owns is refused by
// load, which then writes nothing into it, and by root's config check,
// which says where it was set; config check warns, here, that the default
// spool shares a file system with Docker's data root (when it does).
func TestLoadSpoolDirOfAUser(t *testing.T) {
	requireSetup(t)
	dir := filepath.Join("/srv/udtest", fmt.Sprintf("alice-spool-%d", time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exec.Command("chown", alice+":", dir).Run()
	config := ownConfig + "\n[load]\nspool_dir = \"" + dir + "\"\n"
	writeConfig(t, config)
	r := ud(t, alice, nil, "load", "-i", hijackArchive(t, "udtest-alice/spooled:1"))
	want := "userdocker: load: the spool directory is not safe: " + dir + " is owned by uid " + uidOf(t, alice) + ", not root; the administrator must fix load.spool_dir\n"
	if r.code != 125 || r.stderr != want {
		t.Errorf("load: exit %d, stderr %q; want 125, %q", r.code, r.stderr, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("root wrote %v into alice's directory", entries)
	}
	line := strconv.Itoa(strings.Count(config, "\n"))
	r = udRoot(t, "config", "check")
	wantCheck := testConfig + ":" + line + ": load.spool_dir: " + dir + " is owned by uid " + uidOf(t, alice) + ", not root\n    hint: "
	if r.code != 1 || !strings.HasPrefix(r.stdout, wantCheck) {
		t.Errorf("config check: exit %d, stdout %q; want 1, %q…", r.code, r.stdout, wantCheck)
	}
	writeConfig(t, ownConfig)
	var spoolFS, rootFS syscall.Stat_t
	if syscall.Stat("/var/spool", &spoolFS) != nil || syscall.Stat("/var/lib/docker", &rootFS) != nil || spoolFS.Dev != rootFS.Dev {
		return // nothing to warn about on this machine
	}
	r = udRoot(t, "config", "check")
	if warn := "\nwarning: load.spool_dir /var/spool/userdocker shares a file system with Docker's data root /var/lib/docker: "; r.code != 0 || !strings.Contains(r.stdout, warn) {
		t.Errorf("config check: exit %d, stdout %q; want 0 and %q", r.code, r.stdout, warn)
	}
}

// TestLoadParentOutsideTheArchive: a manifest that names an image of the
// node as its parent would make that image undeletable (even with force)
// while the loaded child exists. The load is refused and nothing is
// loaded: no tag, and the parent has no child.
func TestLoadParentOutsideTheArchive(t *testing.T) {
	requireSetup(t)
	writeConfig(t, loadConfig(""))
	tag := "udtest-alice/child:1"
	parent := imageID(testImage)
	entries := withTags(savedEntries(t, deniedImage), tag)
	m := manifestOf(entries)
	m = bytes.Replace(m, []byte(`"RepoTags":`), []byte(`"Parent":"`+parent+`","RepoTags":`), 1)
	var crafted []tarItem
	for _, e := range entries {
		if e.h.Name == "manifest.json" {
			e = regular("manifest.json", m)
		}
		crafted = append(crafted, e)
	}
	before := childrenOf(parent)
	r := ud(t, alice, nil, "load", "-i", writeArchive(t, crafted))
	want := "userdocker: load: manifest.json in the image archive: image sha256:"
	if r.code != 125 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "names parent image "+parent+", which is not in the archive") {
		t.Errorf("exit %d, stderr %q; want 125 and the parent refused", r.code, r.stderr)
	}
	if id := imageID(tag); id != "" {
		exec.Command("docker", "rmi", tag).Run()
		t.Errorf("%s was loaded (%s)", tag, id)
	}
	if after := childrenOf(parent); !reflect.DeepEqual(after, before) {
		t.Errorf("the children of %s were %q and are %q", testImage, before, after)
	}
	spoolIsEmpty(t, loadSpool)
}

// childrenOf lists the IDs of the daemon's images whose parent is id.
func childrenOf(id string) []string {
	out, _ := exec.Command("docker", "images", "-aq", "--no-trunc").Output()
	var children []string
	for _, c := range strings.Fields(string(out)) {
		if p, _ := exec.Command("docker", "image", "inspect", "--format", "{{.Parent}}", c).Output(); strings.TrimSpace(string(p)) == id {
			children = append(children, c)
		}
	}
	sort.Strings(children)
	return children
}

// TestLoadAgainSkipped: the tasks of a job load one archive on one node.
// The first load loads it; the later ones find every tag of the archive
// already naming its image and load nothing (no load event in the
// daemon), quickly and successfully. An archive that would move one of
// those tags to another image is still refused, and the tag stays.
func TestLoadAgainSkipped(t *testing.T) {
	requireSetup(t)
	writeConfig(t, loadConfig(""))
	tag := "udtest-alice/load-again-" + fmt.Sprint(time.Now().UnixNano()) + ":1"
	t.Cleanup(func() { exec.Command("docker", "rmi", tag).Run() })
	id := imageID(deniedImage)
	archive := writeArchive(t, withTags(savedEntries(t, deniedImage), tag))
	since := time.Now().Format(time.RFC3339Nano)

	if r := ud(t, alice, nil, "load", "-i", archive); r.code != 0 || r.stdout != "Loaded image: "+tag+"\n" || imageID(tag) != id {
		t.Fatalf("first load: exit %d, stdout %q, stderr %q, %s is %q; want it loaded as %s", r.code, r.stdout, r.stderr, tag, imageID(tag), id)
	}
	for i := range 3 {
		r := ud(t, alice, nil, "load", "-i", archive)
		if r.code != 0 || r.stdout != "Loaded image: "+tag+"\n" || r.stderr != "" {
			t.Errorf("load %d of the same archive: exit %d, stdout %q, stderr %q; want it done already", i+2, r.code, r.stdout, r.stderr)
		}
	}
	if got := imageID(tag); got != id {
		t.Errorf("after the loads %s is %s, want %s", tag, got, id)
	}
	events := docker(t, "events", "--since", since, "--until", time.Now().Add(time.Second).Format(time.RFC3339Nano),
		"--filter", "type=image", "--filter", "event=load", "--format", "{{.Action}} {{.Actor.ID}}")
	if n := strings.Count(events+"\n", "load "+id+"\n"); n != 1 {
		t.Errorf("the daemon loaded %s %d times, want once (the first load):\n%s", id, n, events)
	}
	spoolIsEmpty(t, loadSpool)

	// The same tag on another image: a hijack, refused as before.
	r := ud(t, alice, nil, "load", "-i", writeArchive(t, withTags(savedEntries(t, testImage), tag)))
	want := "userdocker: load: tag docker.io/" + tag + " is refused: it exists already, and a loaded image must not replace it\n"
	if r.code != 125 || r.stderr != want {
		t.Errorf("load of another image as %s: exit %d, stderr %q; want 125, %q", tag, r.code, r.stderr, want)
	}
	if got := imageID(tag); got != id {
		t.Errorf("after the refused load %s is %s, want %s still", tag, got, id)
	}
}

// TestLoadTasksAtOnce: the tasks of a job load one archive at the same
// moment (an srun step with a task per GPU, each `load -i` of a file on a
// shared file system). They take turns on alice's load lock instead of
// being refused; the first loads the image, the others find it there and
// load nothing: every task succeeds, and the daemon loads it once.
func TestLoadTasksAtOnce(t *testing.T) {
	requireSetup(t)
	writeConfig(t, loadConfig(""))
	tag := "udtest-alice/load-tasks-" + fmt.Sprint(time.Now().UnixNano()) + ":1"
	t.Cleanup(func() { exec.Command("docker", "rmi", tag).Run() })
	id := imageID(deniedImage)
	archive := writeArchive(t, withTags(savedEntries(t, deniedImage), tag))
	since := time.Now().Format(time.RFC3339Nano)
	const tasks = 4
	results := make(chan result, tasks)
	for range tasks {
		go func() { results <- ud(t, alice, nil, "load", "-i", archive) }()
	}
	waited := 0
	for range tasks {
		r := <-results
		if r.code != 0 || r.stdout != "Loaded image: "+tag+"\n" {
			t.Errorf("a task's load: exit %d, stdout %q, stderr %q; want it loaded", r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "waiting for another load of yours") {
			waited++
		}
	}
	if got := imageID(tag); got != id {
		t.Errorf("after the loads %s is %q, want %s", tag, got, id)
	}
	events := docker(t, "events", "--since", since, "--until", time.Now().Add(time.Second).Format(time.RFC3339Nano),
		"--filter", "type=image", "--filter", "event=load", "--format", "{{.Action}} {{.Actor.ID}}")
	if n := strings.Count(events+"\n", "load "+id+"\n"); n != 1 {
		t.Errorf("the daemon loaded %s %d times, want once:\n%s", id, n, events)
	}
	t.Logf("%d of %d tasks waited for another's load", waited, tasks)
	spoolIsEmpty(t, loadSpool)
}
