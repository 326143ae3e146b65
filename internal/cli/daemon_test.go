package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/userdocker/userdocker/test/fakedocker"
)

// daemon is a fake daemon with cs, which runs no containers: its creates
// fail, so that the unit tests see what userdocker asked for and start
// nothing.
func daemon(cs ...*fakedocker.Container) *fakedocker.Daemon {
	d := fakedocker.New()
	for _, c := range cs {
		d.AddContainer(c)
	}
	d.On("ContainerCreate", fakedocker.Fail(500, "the fake daemon runs no containers"))
	return d
}

func withImages(d *fakedocker.Daemon, images ...image.Summary) *fakedocker.Daemon {
	for _, im := range images {
		d.AddImage(fakedocker.Image{Summary: im})
	}
	return d
}

func ignoringFilters(d *fakedocker.Daemon) *fakedocker.Daemon {
	d.IgnoreFilters = true
	return d
}

// actions are the calls that change something or wait, as "METHOD PATH";
// creates are in creates.
func actions(d *fakedocker.Daemon) []string {
	var out []string
	for _, c := range d.Calls() {
		if c.Method != "GET" && c.Method != "HEAD" && c.Op != "ContainerCreate" {
			out = append(out, c.String())
		}
	}
	return out
}

// creates are the bodies of the container creates.
func creates(d *fakedocker.Daemon) []container.CreateRequest {
	var out []container.CreateRequest
	for _, c := range d.CallsOf("ContainerCreate") {
		var req container.CreateRequest
		if err := c.Decode(&req); err == nil {
			out = append(out, req)
		}
	}
	return out
}

// listFilters are the filters of each container list.
func listFilters(t *testing.T, d *fakedocker.Daemon) []filters.Args {
	t.Helper()
	var out []filters.Args
	for _, c := range d.CallsOf("ContainerList") {
		f, err := filters.FromJSON(c.Query.Get("filters"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// twoUsers are alice's (uid 2001) and bob's (2002) containers, running.
func twoUsers() []*fakedocker.Container {
	mk := func(id, name, uid, user string) *fakedocker.Container {
		return &fakedocker.Container{ID: id, Name: name, Image: "ud-test/busybox", Command: "sleep 100",
			State: "running", Status: "Up 1 minute",
			Labels: map[string]string{"io.userdocker.uid": uid, "io.userdocker.user": user, "io.userdocker.job": "7"}}
	}
	return []*fakedocker.Container{
		mk("a1a1a1a1a1a1a1a1", "alice-web", "2001", "alice"),
		mk("a2a2a2a2a2a2a2a2", "alice-db", "2001", "alice"),
		mk("b1b1b1b1b1b1b1b1", "bob-web", "2002", "bob"),
	}
}

// ownConfig allows every own-container subcommand, on the fake daemon,
// with the state directory (where pulls take their locks) beside its
// socket.
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
state_dir = "` + filepath.Join(filepath.Dir(strings.TrimPrefix(host, "unix://")), "state") + `"
`
}
