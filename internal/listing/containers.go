package listing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	units "github.com/docker/go-units"

	"github.com/userdocker/userdocker/internal/label"
)

// ContainerRow is one line of ps: docker's columns plus the owner, job and
// GPUs userdocker labelled the container with.
type ContainerRow struct {
	ID         string
	Image      string
	Digest     string
	Command    string
	CreatedAt  string
	RunningFor string
	Status     string
	State      string
	Ports      string
	Names      string
	User       string
	Job        string
	GPUs       string
	Labels     map[string]string
}

// ContainerHeaders are ps's column titles.
var ContainerHeaders = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Digest": "DIGEST", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Status": "STATUS", "State": "STATE", "Ports": "PORTS", "Names": "NAMES",
	"User": "USER", "Job": "JOB", "GPUs": "GPUS", "Labels": "LABELS",
}

// ContainerTable is ps's default format; ContainerDigestTable is ps
// --digests's, with the image's digest beside its reference.
const (
	ContainerTable       = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.User}}\t{{.Job}}\t{{.GPUs}}"
	ContainerDigestTable = "table {{.ID}}\t{{.Image}}\t{{.Digest}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.User}}\t{{.Job}}\t{{.GPUs}}"
)

// Container makes the ps row of c, as seen at now; truncation as docker's
// unless noTrunc.
func Container(c container.Summary, now time.Time, noTrunc bool) ContainerRow {
	created := time.Unix(c.Created, 0)
	r := ContainerRow{
		ID:         c.ID,
		Image:      imageRef(c),
		Digest:     c.Labels[label.Digest],
		Command:    c.Command,
		CreatedAt:  created.UTC().Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: units.HumanDuration(now.Sub(created)) + " ago",
		Status:     c.Status,
		State:      string(c.State),
		Ports:      ports(c.Ports),
		Names:      names(c.Names),
		User:       c.Labels[label.User],
		Job:        c.Labels[label.Job],
		GPUs:       c.Labels[label.GPUs],
		Labels:     c.Labels,
	}
	if !noTrunc {
		r.ID = shortID(r.ID)
		r.Command = ellipsis(r.Command, 20)
	}
	r.Command = strconv.Quote(r.Command)
	return r
}

// imageRef is the image the container was asked for: userdocker creates
// containers from the checked image's ID, which is all the daemon shows,
// and keeps the reference in a label.
func imageRef(c container.Summary) string {
	if ref := c.Labels[label.Image]; ref != "" {
		return ref
	}
	return c.Image
}

// names are a container's own names, without the leading slash and
// without the link names ("/other/alias") docker hides too.
func names(ns []string) string {
	var out []string
	for _, n := range ns {
		n = strings.TrimPrefix(n, "/")
		if !strings.Contains(n, "/") {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

func ports(ps []container.Port) string {
	var out []string
	for _, p := range ps {
		s := fmt.Sprintf("%d/%s", p.PrivatePort, p.Type)
		if p.PublicPort != 0 {
			s = fmt.Sprintf("%s:%d->%s", p.IP, p.PublicPort, s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// ellipsis shortens s to n runes, the last one an ellipsis, as docker's
// COMMAND column does.
func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// shortID is docker's 12-character form of an ID, without "sha256:".
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Label is the value of the container's label name, "" if it has none,
// as docker's {{.Label "name"}}.
func (r ContainerRow) Label(name string) string { return r.Labels[name] }
