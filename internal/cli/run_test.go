package cli

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/userdocker/userdocker/internal/golden"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/test/fakedocker"
)

const (
	checkedID = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	swappedID = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// imageDaemon is a fake daemon with ud-test/busybox (checkedID), an image
// whose configuration claims every GPU and a job's labels, as the attack
// of issue 14 did, and an untagged image (swappedID) that would be refused.
func imageDaemon() *fakedocker.Daemon {
	d := daemon()
	d.AddImage(fakedocker.Image{Summary: image.Summary{ID: checkedID, RepoTags: []string{"ud-test/busybox:latest"}},
		Config: &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{
			Env:    []string{"PATH=/bin", "NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=all"},
			Labels: map[string]string{"ud-test.image": "busybox", "io.userdocker.job": "7", "io.userdocker.gpus": "0,1,2,3"},
		}}})
	d.AddImage(fakedocker.Image{Summary: image.Summary{ID: swappedID},
		Config: &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{
			Labels:  map[string]string{"io.userdocker.owner": "bob"},
			Volumes: map[string]struct{}{"/var/lib/db": {}},
		}}})
	return d
}

func withDaemon(config, host string) string {
	return "docker_host = \"" + host + "\"\n" + config
}

// TestDryRun prints the final request: pinned to the image's ID and judged
// with its configuration when the daemon has the image, and with a note on
// what was not checked when it cannot be asked.
func TestDryRun(t *testing.T) {
	requireRoot(t)
	d := imageDaemon()
	code, out, errOut := cli(t, withDaemon(testConfig, d.Serve(t)), 0, "run", "-n", "--rm", "-e", "A=1", "ud-test/busybox", "true")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden.Check(t, "dry-run.golden", []byte(out))
	if len(actions(d)) != 0 || len(creates(d)) != 0 {
		t.Fatalf("a dry run changed something: %v", actions(d))
	}

	code, out, errOut = cli(t, testConfig, 0, "run", "-n", "ud-test/busybox")
	if code != 0 {
		t.Fatalf("without a daemon: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"image docker.io/ud-test/busybox:latest not inspected (cannot reach the Docker daemon at `+noDaemon+`: is dockerd running?): its labels, environment`) ||
		!strings.Contains(out, `"Image": "docker.io/ud-test/busybox:latest"`) {
		t.Fatalf("without a daemon: the plan does not say what was not checked:\n%s", out)
	}

	d.Retag("ud-test/busybox:latest", swappedID)
	code, _, errOut = cli(t, withDaemon(testConfig, d.Serve(t)), 0, "run", "-n", "ud-test/busybox")
	want := "userdocker: image docker.io/ud-test/busybox:latest declares VOLUME /var/lib/db, and anonymous volumes are not allowed on this system: mount a path the site allows (or a tmpfs, where allowed) at /var/lib/db\n" +
		"userdocker: image docker.io/ud-test/busybox:latest carries the label io.userdocker.owner: io.userdocker.* labels are userdocker's own, so this image cannot run here\n"
	if code != 125 || errOut != want {
		t.Fatalf("dry run of a refused image: exit %d\n%s\nwant 125\n%s", code, errOut, want)
	}
}

// TestRunCreatesFromTheCheckedImage: the container is created from the ID
// of the image that was judged, so moving the tag after the check (here:
// right after userdocker inspected it) cannot swap in another image; and
// every label and hook variable is set whatever the image says.
func TestRunCreatesFromTheCheckedImage(t *testing.T) {
	requireRoot(t)
	d := imageDaemon()
	inspects := 0
	d.After("ImageInspect", func(fakedocker.Call) {
		if inspects++; inspects == 2 { // EnsureImage's, then the one judged
			d.Retag("ud-test/busybox:latest", swappedID)
		}
	})
	code, _, errOut := cli(t, withDaemon(testConfig, d.Serve(t)), 0, "run", "--rm", "ud-test/busybox", "true")
	if code != 125 || !strings.Contains(errOut, "the fake daemon runs no containers") {
		t.Fatalf("exit %d, stderr %q; want the fake's create error", code, errOut)
	}
	creates := creates(d)
	if len(creates) != 1 {
		t.Fatalf("%d creates, want 1", len(creates))
	}
	c := creates[0].Config
	if c.Image != checkedID {
		t.Errorf("created from %q, want the checked image's ID %s", c.Image, checkedID)
	}
	for k, v := range map[string]string{"io.userdocker.job": "", "io.userdocker.gpus": "", "io.userdocker.image": "docker.io/ud-test/busybox:latest"} {
		if got, ok := c.Labels[k]; !ok || got != v {
			t.Errorf("label %s = %q (set: %v), want %q", k, got, ok, v)
		}
	}
	for _, kv := range []string{"NVIDIA_VISIBLE_DEVICES=void", "NVIDIA_IMEX_CHANNELS="} {
		if !slices.Contains(c.Env, kv) {
			t.Errorf("env %q lacks %s", c.Env, kv)
		}
	}
}

// TestMissingImageNamesTheNode: with run.pull = "never", an image one
// node lacks says which node, so that a multi-node job's user knows where.
func TestMissingImageNamesTheNode(t *testing.T) {
	requireRoot(t)
	d := imageDaemon()
	node, _ := os.Hostname()
	code, _, errOut := cli(t, withDaemon(strings.Replace(testConfig, "'^ud-test/busybox:'", "'^ud-test/'", 1), d.Serve(t)), 0, "run", "--rm", "ud-test/other", "true")
	want := `userdocker: image docker.io/ud-test/other:latest is not on node ` + node + `, and this system does not pull images (run.pull = "never"): ask your admin to put it on every node` + "\n"
	if code != 125 || errOut != want {
		t.Fatalf("exit %d, stderr %q; want 125, %q", code, errOut, want)
	}
}

func TestDetachedNote(t *testing.T) {
	for _, c := range []struct {
		job  *plan.Job
		want string
	}{
		{&plan.Job{ID: "42"}, "container alice-web is removed when job 42 ends (a job that srun started ends when srun returns)"},
		{nil, "container alice-web runs outside any job: nothing removes it; 'userdocker rm -f alice-web' when you are done"},
	} {
		if got := detachedNote("alice-web", c.job); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
