package listing

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/image"
	units "github.com/docker/go-units"
)

// none is docker's word for a missing repository, tag or digest.
const none = "<none>"

// ImageRow is one line of images.
type ImageRow struct {
	ID           string
	Repository   string
	Tag          string
	Digest       string
	CreatedSince string
	CreatedAt    string
	Size         string
	Containers   string
	Labels       map[string]string
}

// ImageHeaders are images's column titles.
var ImageHeaders = map[string]string{
	"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
	"CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS", "Labels": "LABELS",
}

// ImageTable and ImageDigestTable are images's default formats, without and
// with --digests.
const (
	ImageTable       = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	ImageDigestTable = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)

// Images makes the rows of images as docker does: one per tag, one per
// digest of an untagged repository, and one "<none>" row for an image with
// neither.
func Images(list []image.Summary, now time.Time, noTrunc bool) []ImageRow {
	var rows []ImageRow
	for _, im := range list {
		created := time.Unix(im.Created, 0)
		base := ImageRow{
			ID:           im.ID,
			CreatedSince: units.HumanDuration(now.Sub(created)) + " ago",
			CreatedAt:    created.UTC().Format("2006-01-02 15:04:05 -0700 MST"),
			Size:         units.HumanSizeWithPrecision(float64(im.Size), 3),
			Containers:   count(im.Containers),
			Labels:       im.Labels,
		}
		if !noTrunc {
			base.ID = shortID(base.ID)
		}
		digests := map[string]string{} // repository → digest
		for _, d := range named(im.RepoDigests) {
			if repo, dg, ok := strings.Cut(d, "@"); ok {
				digests[repo] = dg
			}
		}
		tagged := map[string]bool{}
		tags := named(im.RepoTags)
		for _, t := range tags {
			repo, tag := splitTag(t)
			r := base
			r.Repository, r.Tag, r.Digest = repo, tag, orNone(digests[repo])
			rows = append(rows, r)
			tagged[repo] = true
		}
		for _, repo := range sortedKeys(digests) {
			if tagged[repo] {
				continue
			}
			r := base
			r.Repository, r.Tag, r.Digest = repo, none, digests[repo]
			rows = append(rows, r)
		}
		if len(tags) == 0 && len(digests) == 0 {
			r := base
			r.Repository, r.Tag, r.Digest = none, none, none
			rows = append(rows, r)
		}
	}
	return rows
}

// named drops the "<none>:<none>" and "<none>@<none>" that older daemons
// list for an untagged image.
func named(refs []string) []string {
	var out []string
	for _, r := range refs {
		if !strings.HasPrefix(r, none) {
			out = append(out, r)
		}
	}
	return out
}

// splitTag splits "repo:tag" at the last colon that is not part of a
// registry's port.
func splitTag(ref string) (repo, tag string) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i+1:], "/") {
		return ref, none
	}
	return ref[:i], ref[i+1:]
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

func count(n int64) string {
	if n < 0 {
		return "N/A"
	}
	return fmt.Sprint(n)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Tree writes the local images as a forest of parent/child chains, the view
// the original tool got from dockviz: each image's short ID, its tags, and
// its size, children indented under their parent. Images whose parent is
// not in list are roots. Siblings and roots are in order of creation.
func Tree(w io.Writer, list []image.Summary) {
	byID := map[string]image.Summary{}
	for _, im := range list {
		byID[im.ID] = im
	}
	children := map[string][]image.Summary{}
	var roots []image.Summary
	for _, im := range list {
		if _, ok := byID[im.ParentID]; ok && im.ParentID != im.ID {
			children[im.ParentID] = append(children[im.ParentID], im)
		} else {
			roots = append(roots, im)
		}
	}
	order := func(a, b image.Summary) int {
		if a.Created != b.Created {
			return cmp.Compare(a.Created, b.Created)
		}
		return strings.Compare(a.ID, b.ID)
	}
	seen := map[string]bool{}
	var walk func(im image.Summary, prefix string, last, root bool)
	walk = func(im image.Summary, prefix string, last, root bool) {
		if seen[im.ID] {
			return // a cycle in what the daemon said: show each image once
		}
		seen[im.ID] = true
		branch, next := "├─", prefix+"│ "
		if last {
			branch, next = "└─", prefix+"  "
		}
		if root {
			branch, next = "", ""
		}
		line := shortID(im.ID) + " " + units.HumanSizeWithPrecision(float64(im.Size), 3)
		if tags := named(im.RepoTags); len(tags) > 0 {
			slices.Sort(tags)
			line += " Tags: " + strings.Join(tags, ", ")
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, line)
		kids := children[im.ID]
		slices.SortFunc(kids, order)
		for i, k := range kids {
			walk(k, next, i == len(kids)-1, false)
		}
	}
	slices.SortFunc(roots, order)
	for _, r := range roots {
		walk(r, "", true, true)
	}
}

// Label is the value of the image's label name, "" if it has none.
func (r ImageRow) Label(name string) string { return r.Labels[name] }
