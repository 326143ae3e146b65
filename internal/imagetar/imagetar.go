// Package imagetar reads, without loading anything, which tags an image
// archive for `docker load` would create: the RepoTags of a docker-save
// manifest.json, the repositories file of the older format, and the image
// name annotations of an OCI layout's index.json. userdocker refuses a load
// whose tags would replace others' images before the daemon sees it
// (DESIGN.md §3.8).
package imagetar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// The files of an archive that name tags, and how big they may be: they
// are JSON lists, not layers.
const (
	manifestFile = "manifest.json" // [{"Config": ..., "RepoTags": ["repo:tag"], "Layers": [...]}]
	reposFile    = "repositories"  // {"repo": {"tag": "image ID"}}
	indexFile    = "index.json"    // OCI: {"manifests": [{"annotations": {...}}]}
	maxMetaSize  = 16 << 20
)

// OCI annotations that name an image. A ref.name that is only a tag ("1.0")
// names no repository and makes no tag.
const (
	annotationContainerd = "io.containerd.image.name"
	annotationRefName    = "org.opencontainers.image.ref.name"
)

// Tags returns every tag the archive r names, as written in it, sorted and
// without repeats. The daemon accepts archives compressed with gzip,
// bzip2, xz or zstd; the first two are read here, the others refused, so
// that nothing reaches the daemon unread. A metadata file that is not
// valid JSON is an error too: what cannot be read is not loaded.
func Tags(r io.Reader) ([]string, error) {
	br := bufio.NewReader(r)
	in, err := decompress(br)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(in)
	var tags []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the image archive: %w", err)
		}
		name := path.Clean("/" + h.Name)[1:]
		if name != manifestFile && name != reposFile && name != indexFile {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			// A link would make the daemon read tags from a file not read here.
			return nil, fmt.Errorf("%s in the image archive is not a regular file", name)
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxMetaSize+1))
		if err != nil {
			return nil, fmt.Errorf("read %s in the image archive: %w", name, err)
		}
		if len(data) > maxMetaSize {
			return nil, fmt.Errorf("%s in the image archive is larger than %d bytes", name, maxMetaSize)
		}
		found, err := parse(name, data)
		if err != nil {
			return nil, fmt.Errorf("%s in the image archive: %w", name, err)
		}
		tags = append(tags, found...)
	}
	slices.Sort(tags)
	return slices.Compact(tags), nil
}

func decompress(br *bufio.Reader) (io.Reader, error) {
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read the gzip-compressed image archive: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return nil, errors.New("the image archive is compressed with xz, which userdocker cannot inspect: decompress it first (xz -d)")
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return nil, errors.New("the image archive is compressed with zstd, which userdocker cannot inspect: decompress it first (zstd -d)")
	}
	return br, nil
}

func parse(name string, data []byte) ([]string, error) {
	var tags []string
	switch name {
	case manifestFile:
		var m []struct{ RepoTags []string }
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		for _, e := range m {
			tags = append(tags, e.RepoTags...)
		}
	case reposFile:
		var m map[string]map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		for repo, byTag := range m {
			for tag := range byTag {
				tags = append(tags, repo+":"+tag)
			}
		}
	case indexFile:
		var m struct {
			Manifests []struct{ Annotations map[string]string }
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		for _, d := range m.Manifests {
			if n := d.Annotations[annotationContainerd]; n != "" {
				tags = append(tags, n)
			}
			// A ref.name with a repository in it is a full name to some
			// loaders; only a bare tag is not.
			if n := d.Annotations[annotationRefName]; strings.ContainsAny(n, "/:@") {
				tags = append(tags, n)
			}
		}
	}
	return tags, nil
}
