package plan

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

func TestJudgeLoad(t *testing.T) {
	patterns := policy.Patterns(`^ud-test/(busybox|cuda):`, `^docker\.io/library/debian:`)
	existing := map[string]bool{"docker.io/alice/tool:1": true, "docker.io/local/alice/mine:1": true}
	const (
		allowed = " is refused: this system lets it run (run.images), and a loaded image must not replace it"
		off     = " is refused: it is in your own image namespace local/alice/, which this system does not enable (run.own_images)"
		onlyOwn = " is refused: you may load only into your own image namespace local/alice/ (as local/alice/NAME:TAG)"
		bobs    = " is refused: it is in the image namespace of user bob (local/bob/): only they may load into it"
		nobodys = " is refused: names directly under local/ are nobody's: images of one's own are local/USER/NAME[:TAG]"
	)
	tests := []struct {
		name string
		tags []string
		own  bool // run.own_images
		user string
		err  string
	}{
		{name: "new tag of a denied repository", tags: []string{"alice/new:1"}},
		{name: "no tags", tags: nil},
		{name: "allowed tag", tags: []string{"ud-test/busybox:latest"}, err: "load: tag docker.io/ud-test/busybox:latest" + allowed},
		{name: "allowed tag, full spelling", tags: []string{"docker.io/library/debian:12"}, err: "load: tag docker.io/library/debian:12" + allowed},
		{name: "allowed tag, short spelling", tags: []string{"debian:12"}, err: "load: tag docker.io/library/debian:12" + allowed},
		{name: "existing tag", tags: []string{"alice/tool:1"}, err: "load: tag docker.io/alice/tool:1 is refused: it exists already, and a loaded image must not replace it"},
		{name: "invalid tag", tags: []string{"UPPER:1"}, err: `load: tag "UPPER:1" in the archive is not a valid image reference`},
		{name: "each refusal named", tags: []string{"alice/new:1", "ud-test/cuda:latest", "alice/tool:1"}, err: "load: tag docker.io/ud-test/cuda:latest" + allowed + "\nload: tag docker.io/alice/tool:1 is refused: it exists already, and a loaded image must not replace it"},

		{name: "own namespace, own images off", tags: []string{"local/alice/new:1"}, err: "load: tag docker.io/local/alice/new:1" + off},
		{name: "another's namespace, own images off", tags: []string{"local/bob/new:1"}, err: "load: tag docker.io/local/bob/new:1" + bobs},
		{name: "own namespace", tags: []string{"local/alice/new:1"}, own: true},
		{name: "own namespace, full spelling", tags: []string{"docker.io/local/alice/new:1", "index.docker.io/local/alice/x"}, own: true},
		{name: "own namespace, replacing one's own tag", tags: []string{"local/alice/mine:1"}, own: true},
		{name: "another's namespace", tags: []string{"local/bob/new:1"}, own: true, err: "load: tag docker.io/local/bob/new:1" + bobs},
		{name: "another's namespace, full spelling", tags: []string{"index.docker.io/local/bob/x:1"}, own: true, err: "load: tag docker.io/local/bob/x:1" + bobs},
		{name: "a prefix of one's name is another's", tags: []string{"local/alic/x:1"}, own: true, err: "load: tag docker.io/local/alic/x:1 is refused: it is in the image namespace of user alic (local/alic/): only they may load into it"},
		{name: "nobody's name under local/", tags: []string{"local/x:1"}, own: true, err: "load: tag docker.io/local/x:1" + nobodys},
		{name: "with own images, nothing outside the namespace", tags: []string{"alice/new:1"}, own: true, err: "load: tag docker.io/alice/new:1" + onlyOwn},
		{name: "with own images, an allowed tag", tags: []string{"ud-test/busybox:latest"}, own: true, err: "load: tag docker.io/ud-test/busybox:latest" + onlyOwn},
		{name: "a digest is no tag", tags: []string{"local/alice/x@sha256:" + strings.Repeat("a", 64)}, own: true,
			err: "load: tag docker.io/local/alice/x@sha256:" + strings.Repeat("a", 64) + " is refused: a tag cannot hold a digest"},
		{name: "a user name that cannot be a namespace", tags: []string{"local/alice/x:1"}, own: true, user: "Alice",
			err: "load: tag docker.io/local/alice/x:1 is refused: it is in the image namespace of user alice (local/alice/): only they may load into it"},
		{name: "a user name that cannot be a namespace, elsewhere", tags: []string{"x:1"}, own: true, user: "Alice",
			err: `load: tag docker.io/library/x:1 is refused: your user name "Alice" cannot be part of an image name (lower-case letters and digits, with single '.', '_' or '-' between them), so you have no image namespace of your own (local/USER/); tell your admin`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := tt.user
			if user == "" {
				user = "alice"
			}
			err := JudgeLoad(tt.tags, patterns, existing, user, tt.own)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("JudgeLoad() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.err {
				t.Fatalf("JudgeLoad() = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestCheckSpoolDir(t *testing.T) {
	root := DirEntry{Path: "/", Dir: true, Mode: 0o755}
	varDir := DirEntry{Path: "/var", Dir: true, Mode: 0o755}
	spool := DirEntry{Path: "/var/spool", Dir: true, Mode: 0o700}
	tests := []struct {
		name    string
		entries []DirEntry
		why     string
	}{
		{name: "root's", entries: []DirEntry{root, varDir, spool}},
		{name: "missing: made by userdocker", entries: []DirEntry{root, varDir, {Path: "/var/spool", Missing: true}}},
		{name: "below a sticky world-writable parent", entries: []DirEntry{root, {Path: "/var", Dir: true, Mode: 0o777 | fs.ModeSticky}, spool}},
		{name: "a parent missing", entries: []DirEntry{root, {Path: "/var", Missing: true}, {Path: "/var/spool", Missing: true}}, why: "/var does not exist"},
		{name: "a symlink on the way", entries: []DirEntry{root, {Path: "/var", Symlink: true}, spool}, why: "/var is a symbolic link (name the real path)"},
		{name: "a file", entries: []DirEntry{root, varDir, {Path: "/var/spool", Mode: 0o600}}, why: "/var/spool is not a directory"},
		{name: "a user's", entries: []DirEntry{root, varDir, {Path: "/var/spool", Dir: true, UID: 2001, Mode: 0o700}}, why: "/var/spool is owned by uid 2001, not root"},
		{name: "a parent a user owns", entries: []DirEntry{root, {Path: "/var", Dir: true, UID: 2001, Mode: 0o755}, spool}, why: "/var is owned by uid 2001, not root"},
		{name: "group-writable", entries: []DirEntry{root, varDir, {Path: "/var/spool", Dir: true, Mode: 0o770}}, why: "/var/spool is writable by group or others (mode 0770)"},
		{name: "world-writable even with the sticky bit", entries: []DirEntry{root, varDir, {Path: "/var/spool", Dir: true, Mode: 0o777 | fs.ModeSticky}}, why: "/var/spool is writable by group or others (mode 0777)"},
		{name: "a parent others may write, no sticky bit", entries: []DirEntry{root, {Path: "/var", Dir: true, Mode: 0o777}, spool}, why: "/var is writable by group or others (mode 0777)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSpoolDir(tt.entries)
			if tt.why == "" {
				if err != nil {
					t.Fatalf("CheckSpoolDir() = %v, want nil", err)
				}
				return
			}
			want := "load: the spool directory is not safe: " + tt.why + "; the administrator must fix load.spool_dir"
			if err == nil || err.Error() != want || len(refusal.All(err)) != 1 {
				t.Fatalf("CheckSpoolDir() = %v, want the refusal %q", err, want)
			}
		})
	}
}

func TestCheckRoom(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name                 string
		avail, need, minFree int64
		err                  string
	}{
		{name: "room", avail: 10 * gib, need: 4 * gib, minFree: 2 * gib},
		{name: "exactly the reserve left", avail: 6 * gib, need: 4 * gib, minFree: 2 * gib},
		{name: "one byte short", avail: 6*gib - 1, need: 4 * gib, minFree: 2 * gib,
			err: "load: the disk has 6GiB free; 4GiB more would leave less than the 2GiB this system keeps free (load.min_free)"},
		{name: "below the reserve before anything", avail: gib, minFree: 2 * gib,
			err: "load: the disk has 1GiB free, less than the 2GiB this system keeps free (load.min_free)"},
		{name: "no reserve", avail: 4 * gib, need: 4 * gib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRoom("the disk", tt.avail, tt.need, tt.minFree)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || err.Error() != tt.err) {
				t.Fatalf("CheckRoom() = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestLoadUnchanged(t *testing.T) {
	const a, b = "sha256:aaaa", "sha256:bbbb"
	allowed := []policy.Pattern{policy.MustPattern(`^ud-test/`)}
	for _, tc := range []struct {
		name string
		ids  map[string]string
		have map[string]string
		want bool
	}{
		{"every tag as that image", map[string]string{"me/app:1": a, "me/app:2": a},
			map[string]string{"docker.io/me/app:1": a, "docker.io/me/app:2": a}, true},
		{"one tag is new", map[string]string{"me/app:1": a, "me/app:2": a}, map[string]string{"docker.io/me/app:1": a}, false},
		{"a tag names another image: a hijack, refused as before", map[string]string{"me/app:1": a}, map[string]string{"docker.io/me/app:1": b}, false},
		{"a tag the site lets run: refused as before", map[string]string{"ud-test/busybox:latest": a},
			map[string]string{"docker.io/ud-test/busybox:latest": a}, false},
		{"not a reference", map[string]string{"UPPER:1": a}, map[string]string{"UPPER:1": a}, false},
		{"no tags", map[string]string{}, nil, false},
		{"no ID", map[string]string{"me/app:1": ""}, map[string]string{"docker.io/me/app:1": ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LoadUnchanged(tc.ids, tc.have, allowed, "alice", false); got != tc.want {
				t.Errorf("LoadUnchanged = %v, want %v", got, tc.want)
			}
		})
	}
}
