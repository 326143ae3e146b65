package cli

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/system"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// fakeDaemon answers the Engine API calls of the subcommands on existing
// containers and images on a unix socket, from a fixed list, and records
// every call that changes something ("POST /containers/ID/stop").
type fakeDaemon struct {
	containers []container.Summary
	images     []image.Summary
	// ignoreFilters makes the list answer every container, as a daemon
	// that dropped the label filter would.
	ignoreFilters bool
	// configs are the images' configurations, by image ID.
	configs map[string]*dockerspec.DockerOCIImageConfig
	// inspected is called after each image inspect was answered, with the
	// name asked for: a test can move a tag there.
	inspected func(name string)
	// dataRoot is the DockerRootDir of /info; "" is a fresh directory.
	dataRoot string

	mu      sync.Mutex
	actions []string
	filters []filters.Args
	// created are the bodies of the container creates, which the fake
	// answers with an error: it runs no containers.
	created []container.CreateRequest
}

var apiPath = regexp.MustCompile(`^/v[0-9.]+(/.*)$`)

func (d *fakeDaemon) start(t *testing.T) (host string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	if d.dataRoot == "" {
		d.dataRoot = t.TempDir()
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(d.serve)}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

func (d *fakeDaemon) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.41")
	path := r.URL.Path
	if m := apiPath.FindStringSubmatch(path); m != nil {
		path = m[1]
	}
	switch {
	case path == "/_ping":
		io.WriteString(w, "OK")
	case r.Method == http.MethodGet && path == "/containers/json":
		f, _ := filters.FromJSON(r.URL.Query().Get("filters"))
		d.mu.Lock()
		d.filters = append(d.filters, f)
		d.mu.Unlock()
		var out []container.Summary
		for _, c := range d.containers {
			if d.ignoreFilters || f.MatchKVList("label", c.Labels) {
				out = append(out, c)
			}
		}
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodGet && path == "/info":
		json.NewEncoder(w).Encode(system.Info{DockerRootDir: d.dataRoot})
	case r.Method == http.MethodGet && path == "/images/json":
		json.NewEncoder(w).Encode(d.images)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/json"):
		name := strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/json")
		if d.inspected != nil {
			defer d.inspected(name)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, im := range d.images {
			for _, tag := range im.RepoTags {
				if sameRef(tag, name) || im.ID == name {
					json.NewEncoder(w).Encode(image.InspectResponse{ID: im.ID, RepoTags: im.RepoTags, Config: d.configs[im.ID]})
					return
				}
			}
		}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"No such image: `+name+`"}`)
	case r.Method == http.MethodPost && path == "/containers/create":
		var req container.CreateRequest
		json.NewDecoder(r.Body).Decode(&req)
		d.mu.Lock()
		d.created = append(d.created, req)
		d.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"message":"the fake daemon runs no containers"}`)
	default:
		d.mu.Lock()
		d.actions = append(d.actions, r.Method+" "+path)
		d.mu.Unlock()
		switch {
		case strings.HasSuffix(path, "/wait"):
			io.WriteString(w, `{"StatusCode":3}`)
		case strings.HasPrefix(path, "/images/create"):
			io.WriteString(w, `{"status":"Pulling from ud-test/busybox","id":"latest"}`+"\n"+`{"status":"Status: Downloaded newer image for ud-test/busybox:latest"}`+"\n")
		case strings.HasPrefix(path, "/images/load"):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"stream":"Loaded image: alice/new:1\n"}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

// sameRef reports whether two spellings name the same image, as the
// daemon's lookup does ("alice/app:1" is "docker.io/alice/app:1").
func sameRef(a, b string) bool {
	na, errA := reference.ParseNormalizedNamed(a)
	nb, errB := reference.ParseNormalizedNamed(b)
	return errA == nil && errB == nil && na.String() == nb.String()
}

// retag points the tag at the image with the given ID, as a tag or load
// by someone else would.
func (d *fakeDaemon) retag(tag, id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.images {
		d.images[i].RepoTags = slices.DeleteFunc(d.images[i].RepoTags, func(t string) bool { return sameRef(t, tag) })
		if d.images[i].ID == id {
			d.images[i].RepoTags = append(d.images[i].RepoTags, tag)
		}
	}
}

func (d *fakeDaemon) Creates() []container.CreateRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.created)
}

func (d *fakeDaemon) Actions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.actions...)
}

// twoUsers are alice's (uid 2001) and bob's (2002) containers.
func twoUsers() []container.Summary {
	mk := func(id, name, uid, user string) container.Summary {
		return container.Summary{ID: id, Names: []string{"/" + name}, Image: "ud-test/busybox", Command: "sleep 100",
			State: "running", Status: "Up 1 minute",
			Labels: map[string]string{"io.userdocker.uid": uid, "io.userdocker.user": user, "io.userdocker.job": "7"}}
	}
	return []container.Summary{
		mk("a1a1a1a1a1a1a1a1", "alice-web", "2001", "alice"),
		mk("a2a2a2a2a2a2a2a2", "alice-db", "2001", "alice"),
		mk("b1b1b1b1b1b1b1b1", "bob-web", "2002", "bob"),
	}
}

// ownConfig allows every own-container subcommand, on the fake daemon.
func ownConfig(host string) string {
	return `docker_host = "` + host + `"
subcommands = ["run", "attach", "stop", "ps", "images", "pull", "load", "logs", "version", "rm", "kill", "wait", "exec"]
[run]
images = ['^ud-test/(busybox|cuda):']
pull = "missing"
[run.args]
allowed = ["-e"]
[slurm]
outside_job = "no-gpu"
`
}
