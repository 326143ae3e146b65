package cli

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
)

// saveArchive writes a docker-save style archive naming tags into a
// directory alice can read, with the given file mode.
func saveArchive(t *testing.T, mode os.FileMode, tags string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is root's alone
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	body := `[{"Config":"c.json","RepoTags":` + tags + `,"Layers":[]}]`
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write([]byte(body))
	tw.Close()
	path := filepath.Join(dir, "image.tar")
	if err := os.WriteFile(path, b.Bytes(), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		tags    string
		mode    os.FileMode
		code    int
		stdout  string
		stderr  string
		actions []string
	}{
		{name: "new tag of a repository nobody may run", tags: `["alice/new:1"]`, mode: 0o644, stdout: "Loaded image: alice/new:1\n",
			actions: []string{"POST /images/load"}},
		{name: "hijack of an allowed tag", tags: `["ud-test/busybox:latest"]`, mode: 0o644, code: 125,
			stderr: "userdocker: load: tag docker.io/ud-test/busybox:latest is refused: this system lets it run (run.images), and a loaded image must not replace it\n"},
		{name: "existing tag", tags: `["alice/app:1","alice/new:1"]`, mode: 0o644, code: 125,
			stderr: "userdocker: load: tag docker.io/alice/app:1 is refused: it exists already, and a loaded image must not replace it\n"},
		{name: "file alice cannot read", tags: `[]`, mode: 0o600, code: 125, stderr: ": permission denied\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDaemon{images: []image.Summary{{ID: "sha256:bbbb", RepoTags: []string{"alice/app:1"}}}}
			code, out, errOut := cli(t, ownConfig(d.start(t)), 0, "load", "-i", saveArchive(t, tt.mode, tt.tags))
			if code != tt.code || out != tt.stdout || !strings.HasSuffix(errOut, tt.stderr) || tt.stderr == "" && errOut != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
			if got := d.Actions(); !reflect.DeepEqual(got, tt.actions) {
				t.Fatalf("daemon actions %q, want %q", got, tt.actions)
			}
		})
	}
}
