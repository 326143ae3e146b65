package imagetar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The files of an archive that loaders read by name, and how big they may
// be: they are JSON, not layers.
const (
	manifestFile = "manifest.json" // docker save: [{"Config": ..., "RepoTags": ["repo:tag"], "Layers": [...]}]
	reposFile    = "repositories"  // docker save, older format: {"repo": {"tag": "image ID"}}
	indexFile    = "index.json"    // OCI: {"manifests": [{"annotations": {...}}]}
	layoutFile   = "oci-layout"    // OCI: {"imageLayoutVersion": "1.0.0"}; names nothing
	maxMetaSize  = 16 << 20
	maxJSONDepth = 64
)

// OCI annotations that name an image. containerd names an image by the
// first, else by the second, however it looks ("latest" included);
// userdocker also counts a ref.name that has a repository in it when both
// are there, as other loaders take it for the full name.
const (
	annotationContainerd = "io.containerd.image.name"
	annotationRefName    = "org.opencontainers.image.ref.name"
)

// metaFile returns which metadata file the canonical name is, or "". Case
// does not matter: on a case-insensitive file system MANIFEST.JSON is the
// file the daemon opens.
func metaFile(name string) string {
	switch lower := strings.ToLower(name); lower {
	case manifestFile, reposFile, indexFile, layoutFile:
		return lower
	}
	return ""
}

// parseMeta checks the metadata file meta and returns the tags it names.
func parseMeta(meta string, data []byte) ([]string, error) {
	if err := checkJSON(data); err != nil {
		return nil, err
	}
	var tags []string
	switch meta {
	case manifestFile:
		var m []manifestEntry
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		ids := make(map[string]bool, len(m))
		for _, e := range m {
			ids[configID(e.Config)] = true
			tags = append(tags, e.RepoTags...)
		}
		// The daemon links a loaded image to any image of the node named
		// as its Parent whose history fits, and then refuses to delete
		// that image, even with force, while the child is there. A user
		// may name only a parent that comes in the same archive.
		for _, e := range m {
			if e.Parent != "" && !ids[e.Parent] {
				return nil, fmt.Errorf("image %s names parent image %s, which is not in the archive", configID(e.Config), e.Parent)
			}
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
			name, ref := d.Annotations[annotationContainerd], d.Annotations[annotationRefName]
			if name != "" {
				tags = append(tags, name)
			}
			if ref != "" && (name == "" || strings.ContainsAny(ref, "/:@")) {
				tags = append(tags, ref)
			}
		}
	case layoutFile:
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// manifestEntry is what userdocker reads of an image in a docker save
// manifest.
type manifestEntry struct {
	Config   string
	RepoTags []string
	Parent   string
}

// configID is the image ID of a docker save manifest's Config path: the
// digest of the config file, which is named "<hex>.json" by Docker before
// 25 and "blobs/sha256/<hex>" since.
func configID(config string) string {
	name := config[strings.LastIndexByte(config, '/')+1:]
	return "sha256:" + strings.TrimSuffix(name, ".json")
}

// checkJSON makes sure data is one JSON value that every JSON reader
// reads alike: no object has a key twice, also not in another case (Go's
// encoding/json matches struct fields case-insensitively, and the last of
// two spellings wins), keys are ASCII (Go also folds the Kelvin sign and
// the long s), and nothing follows the value (a json.Decoder, as the
// daemon uses, stops after the first value).
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, 0); err == io.EOF {
		return io.ErrUnexpectedEOF
	} else if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

func checkValue(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("JSON nested more than %d deep", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]string{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key := tok.(string) // inside an object, the decoder returns keys as strings
			for i := 0; i < len(key); i++ {
				if key[i] >= 0x80 {
					return fmt.Errorf("key %q is not ASCII", key)
				}
			}
			if prev, dup := seen[strings.ToLower(key)]; dup {
				return fmt.Errorf("key %q appears twice in an object (as %q and %q)", key, prev, key)
			}
			seen[strings.ToLower(key)] = key
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}
