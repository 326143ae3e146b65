package fakedocker

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Image is an image of the fake: what a list shows, and the
// configuration an inspect shows.
type Image struct {
	image.Summary
	Config *dockerspec.DockerOCIImageConfig
}

// AddImage adds img to the daemon.
func (d *Daemon) AddImage(img Image) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.images = append(d.images, &img)
}

// sameRef reports whether two spellings name the same image, as the
// daemon's lookup does ("alice/app:1" is "docker.io/alice/app:1").
func sameRef(a, b string) bool {
	na, errA := reference.ParseNormalizedNamed(a)
	nb, errB := reference.ParseNormalizedNamed(b)
	return errA == nil && errB == nil && reference.TagNameOnly(na).String() == reference.TagNameOnly(nb).String()
}

// Retag points tag at the image with the given ID, as a tag or a load by
// someone else would.
func (d *Daemon) Retag(tag, id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.retag(tag, id)
}

func (d *Daemon) retag(tag, id string) {
	for _, im := range d.images {
		im.RepoTags = slices.DeleteFunc(im.RepoTags, func(t string) bool { return sameRef(t, tag) })
		if im.ID == id {
			im.RepoTags = append(im.RepoTags, tag)
		}
	}
}

// findImage resolves an image by tag or ID. Under d.mu.
func (d *Daemon) findImage(name string) *Image {
	for _, im := range d.images {
		if im.ID == name || "sha256:"+name == im.ID {
			return im
		}
		for _, t := range im.RepoTags {
			if sameRef(t, name) {
				return im
			}
		}
	}
	return nil
}

// imagesHandler answers the image calls.
func (d *Daemon) imagesHandler(op, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch op {
		case "ImageInspect":
			d.mu.Lock()
			im := d.findImage(name)
			var resp image.InspectResponse
			if im != nil {
				resp = image.InspectResponse{ID: im.ID, RepoTags: slices.Clone(im.RepoTags), Config: im.Config}
			}
			d.mu.Unlock()
			if im == nil {
				Fail(http.StatusNotFound, "No such image: "+name)(w, r)
				return
			}
			jsonReply(resp)(w, r)
		case "ImageList":
			d.mu.Lock()
			out := []image.Summary{}
			for _, im := range d.images {
				out = append(out, im.Summary)
			}
			d.mu.Unlock()
			jsonReply(out)(w, r)
		case "ImageTag":
			d.tag(w, r, name)
		case "ImageRemove":
			d.untag(w, r, name)
		case "ImagePull":
			d.pull(w, r)
		case "ImageLoad":
			d.load(w, r)
		}
	}
}

// pull "downloads" the image: it reports progress as a registry's pull
// does, and adds the image.
func (d *Daemon) pull(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	named, err := reference.ParseNormalizedNamed(q.Get("fromImage"))
	if err != nil {
		Fail(http.StatusBadRequest, err.Error())(w, r)
		return
	}
	tag := cmpOr(q.Get("tag"), "latest")
	ref := reference.FamiliarName(named) + ":" + tag
	d.mu.Lock()
	if d.findImage(ref) == nil {
		d.images = append(d.images, &Image{Summary: image.Summary{ID: "sha256:" + d.newID(), RepoTags: []string{ref}}})
	}
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status":"Pulling from %s","id":%q}`+"\n", reference.FamiliarName(named), tag)
	fmt.Fprintf(w, `{"status":"Status: Downloaded newer image for %s"}`+"\n", ref)
}

// load reads an image archive as docker save writes it and tags what its
// manifest names.
func (d *Daemon) load(w http.ResponseWriter, r *http.Request) {
	var manifest []struct {
		Config   string
		RepoTags []string
	}
	tr := tar.NewReader(r.Body)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			Fail(http.StatusBadRequest, "read the archive: "+err.Error())(w, r)
			return
		}
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				Fail(http.StatusBadRequest, "manifest.json: "+err.Error())(w, r)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range manifest {
		id := "sha256:" + strings.TrimSuffix(strings.TrimPrefix(m.Config, "blobs/sha256/"), ".json")
		if d.findImage(id) == nil {
			d.images = append(d.images, &Image{Summary: image.Summary{ID: id}})
		}
		for _, t := range m.RepoTags {
			d.retag(t, id)
			json.NewEncoder(w).Encode(map[string]string{"stream": "Loaded image: " + t + "\n"})
		}
	}
}

// tag points the tag repo:tag of the query at the image name (a tag or
// an ID), as the daemon's tag does.
func (d *Daemon) tag(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	d.mu.Lock()
	defer d.mu.Unlock()
	im := d.findImage(name)
	if im == nil {
		Fail(http.StatusNotFound, "No such image: "+name)(w, r)
		return
	}
	d.retag(q.Get("repo")+":"+q.Get("tag"), im.ID)
	w.WriteHeader(http.StatusCreated)
}

// untag is docker rmi of a tag without force: the tag goes, and the
// image with it when that was its last tag. A container using the image
// is not modelled.
func (d *Daemon) untag(w http.ResponseWriter, r *http.Request, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	im := d.findImage(name)
	if im == nil || im.ID == name || "sha256:"+name == im.ID {
		Fail(http.StatusNotFound, "No such image: "+name)(w, r)
		return
	}
	var out []image.DeleteResponse
	for _, t := range im.RepoTags {
		if sameRef(t, name) {
			out = append(out, image.DeleteResponse{Untagged: t})
		}
	}
	im.RepoTags = slices.DeleteFunc(im.RepoTags, func(t string) bool { return sameRef(t, name) })
	if len(im.RepoTags) == 0 {
		d.images = slices.DeleteFunc(d.images, func(i *Image) bool { return i == im })
		out = append(out, image.DeleteResponse{Deleted: im.ID})
	}
	jsonReply(out)(w, r)
}
