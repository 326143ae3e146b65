package imagetar

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"path"
	"strings"
)

// Peeked is what Peek read of an archive: every tag a loader could take
// from it, each with the image ID (the configuration's digest) that the
// archive's manifest.json gives it.
type Peeked struct {
	IDs map[string]string // tag as written → "sha256:<hex>"
}

// Peek reads the metadata of the plain (uncompressed) tar archive r and
// nothing else: the tar headers, seeking over every file's contents, and
// the files that name tags. It is how a load of an image that the daemon
// has already, under the same tags, is recognized without copying the
// archive (load at scale: many tasks of a job loading one archive from a
// shared file system).
//
// ok is false whenever the answer is not plain: a compressed archive, no
// manifest.json, a tag (in any of the files loaders read: manifest.json,
// repositories, index.json) that manifest.json gives no image, a metadata
// file twice, a name that Normalize refuses, more than MaxEntries entries
// or MaxTags tags. Peek decides nothing: what the archive claims matters
// only when the daemon has every tag with that ID already, and then the
// caller loads nothing, so a claim that is false cannot change a tag.
func Peek(r io.ReadSeeker) (p Peeked, ok bool) {
	var magic [6]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return p, false
	}
	for _, m := range [][]byte{magicGzip, magicBzip2, magicXz, magicZstd} {
		if bytes.HasPrefix(magic[:], m) {
			return p, false
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return p, false
	}
	tr := tar.NewReader(r) // r is a Seeker: Next seeks over the contents
	metas := map[string][]byte{}
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil || n >= MaxEntries {
			return p, false
		}
		name, err := canonicalName(h.Name)
		if err != nil {
			return p, false
		}
		meta := metaFile(name)
		if meta == "" {
			continue
		}
		if _, twice := metas[meta]; twice || h.Typeflag != tar.TypeReg || h.Size > maxMetaSize {
			return p, false
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxMetaSize))
		if err != nil {
			return p, false
		}
		metas[meta] = data
	}
	ids, ok := manifestIDs(metas[manifestFile])
	if !ok {
		return p, false
	}
	for meta, data := range metas {
		tags, err := parseMeta(meta, data)
		if err != nil || len(tags) > MaxTags {
			return p, false
		}
		for _, t := range tags {
			if ids[t] == "" {
				return p, false
			}
		}
	}
	return Peeked{IDs: ids}, len(ids) > 0
}

// manifestIDs reads docker save's manifest.json: the image ID each tag
// names, from the name of its configuration file ("<hex>.json", or
// "blobs/sha256/<hex>" in the OCI layout of newer daemons). A tag given
// two images, or an entry whose configuration is named otherwise, is not
// plain.
func manifestIDs(data []byte) (map[string]string, bool) {
	if data == nil || checkJSON(data) != nil {
		return nil, false
	}
	var m []struct {
		Config   string
		RepoTags []string
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, false
	}
	ids := map[string]string{}
	for _, e := range m {
		hex, ok := configDigest(e.Config)
		if !ok {
			return nil, false
		}
		for _, t := range e.RepoTags {
			if t == "" {
				return nil, false
			}
			if old, seen := ids[t]; seen && old != "sha256:"+hex {
				return nil, false
			}
			ids[t] = "sha256:" + hex
		}
	}
	return ids, true
}

// configDigest is the hex digest a configuration file's name carries.
func configDigest(name string) (string, bool) {
	name, err := canonicalName(name)
	if err != nil {
		return "", false
	}
	hex := strings.TrimSuffix(name, ".json")
	if dir, base := path.Split(name); dir == "blobs/sha256/" {
		hex = base
	} else if dir != "" || hex == name {
		return "", false
	}
	if len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", false
	}
	return hex, true
}
