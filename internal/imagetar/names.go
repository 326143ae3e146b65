package imagetar

import (
	"path"
	"strings"
)

// maxName bounds an entry's canonical name. Image archives name files by
// digests: "blobs/sha256/<64 hex>" is the longest that tools write.
const maxName = 256

// canonicalName returns raw as the one name that every reader of the
// archive agrees on: without "./" components, repeated or trailing
// slashes; "" for the archive's root. Absolute names, ".." and bytes other
// than letters, digits and "._:+-" are refused: no image archive needs
// them, and they are where extraction, case folding and Unicode
// normalization can make two names one.
func canonicalName(raw string) (string, error) {
	var parts []string
	for _, p := range strings.Split(raw, "/") {
		switch p {
		case "", ".":
			if p == "" && len(parts) == 0 && strings.HasPrefix(raw, "/") {
				return "", refusef("entry %q of the image archive has an absolute name", raw)
			}
			continue
		case "..":
			return "", refusef("entry %q of the image archive has \"..\" in its name", raw)
		}
		for i := 0; i < len(p); i++ {
			if !nameByte(p[i]) {
				return "", refusef("entry %q of the image archive has a name with other characters than letters, digits and ._:+-", raw)
			}
		}
		parts = append(parts, p)
	}
	name := strings.Join(parts, "/")
	if len(name) > maxName {
		return "", refusef("entry %q of the image archive has a name longer than %d bytes", raw, maxName)
	}
	return name, nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == ':' || c == '+' || c == '-'
}

// kind is what an entry of the archive is.
type kind int

const (
	kindDir kind = iota // a directory entry, or the parent of another entry
	kindFile
	kindLink // a symbolic link
)

func (k kind) String() string {
	return [...]string{"a directory", "a file", "a symbolic link"}[k]
}

// node is one name in the archive.
type node struct {
	name   string // as written
	kind   kind
	entry  bool   // an entry of the archive, not only a parent of one
	target string // of a link: the canonical name it points to
}

// tree holds every name of the archive and of its parent directories,
// keyed by the name in lower case: on a case-insensitive file system two
// names that differ only in case are one file.
type tree struct {
	nodes map[string]*node
	links []*node // in archive order
}

func newTree() *tree { return &tree{nodes: map[string]*node{}} }

// add records the entry name of kind k. Its parents must be directories
// (a name below a file cannot be extracted, and one below a link is
// extracted wherever the link points); no other entry may have the same
// name, in any case. A directory may be named again: add then returns
// false, and the entry need not be written twice.
func (t *tree) add(name string, k kind) (bool, error) {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			if _, err := t.put(name[:i], kindDir, name); err != nil {
				return false, err
			}
		}
	}
	return t.put(name, k, "")
}

// put records name as k; below is the entry that needs it as a parent,
// or "" when name is an entry itself.
func (t *tree) put(name string, k kind, below string) (bool, error) {
	key := strings.ToLower(name)
	old, ok := t.nodes[key]
	switch {
	case !ok:
		t.nodes[key] = &node{name: name, kind: k, entry: below == ""}
		return true, nil
	case old.name != name:
		return false, refusef("the image archive has entries %q and %q, which are one name on a case-insensitive file system", old.name, name)
	case below != "" && old.kind != kindDir:
		return false, refusef("entry %q of the image archive is below %q, which is %s", below, name, old.kind)
	case old.kind == kindDir && k == kindDir:
		fresh := below == "" && !old.entry
		old.entry = old.entry || below == ""
		return fresh, nil
	}
	return false, refusef("the image archive has entry %q twice", name)
}

// link records where the symbolic link name points, and returns the link
// text to write: relative, without ".." beyond what leads from the link's
// directory to the target, so that it resolves on disk exactly as it does
// here. Whether the target is a regular file is known only when the whole
// archive is read (checkLinks).
func (t *tree) link(name, linkname string) (string, error) {
	if linkname == "" || strings.HasPrefix(linkname, "/") {
		return "", refusef("symbolic link %q of the image archive points to %q; only relative links to files in the archive are passed on", name, linkname)
	}
	joined := path.Join(path.Dir(name), linkname)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return "", refusef("symbolic link %q of the image archive points outside the archive (%q)", name, linkname)
	}
	target, err := canonicalName(joined)
	switch {
	case err != nil:
		return "", refusef("symbolic link %q of the image archive points to %q, which is not a name in the archive", name, linkname)
	case target == "":
		return "", refusef("symbolic link %q of the image archive points to the archive's root directory; links may point only to files", name)
	}
	n := t.nodes[strings.ToLower(name)]
	n.target = target
	t.links = append(t.links, n)
	return relative(path.Dir(name), target), nil
}

// checkLinks makes sure every symbolic link points to a regular file of
// the archive, by its exact name: never to a directory (a link `a -> .`
// would let `a/manifest.json` replace manifest.json), to another link or
// to nothing.
func (t *tree) checkLinks() error {
	for _, n := range t.links {
		to, ok := t.nodes[strings.ToLower(n.target)]
		if !ok || to.name != n.target || to.kind != kindFile {
			what := "nothing"
			if ok {
				what = to.kind.String()
			}
			return refusef("symbolic link %q of the image archive points to %q, which is %s; links may point only to files", n.name, n.target, what)
		}
	}
	return nil
}

// relative returns the path from directory dir to name, both canonical
// ("." and "" are the root).
func relative(dir, name string) string {
	split := func(p string) []string {
		if p == "" || p == "." {
			return nil
		}
		return strings.Split(p, "/")
	}
	from, to := split(dir), split(name)
	i := 0
	for i < len(from) && i < len(to) && from[i] == to[i] {
		i++
	}
	return strings.Repeat("../", len(from)-i) + strings.Join(to[i:], "/")
}
