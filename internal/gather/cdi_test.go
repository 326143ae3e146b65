package gather

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A spec as nvidia-ctk writes it, for two GPUs named by index and UUID,
// with a spec-level hook without env (as before 1.17.8).
const testSpec = `{
  "cdiVersion": "0.5.0",
  "kind": "nvidia.com/gpu",
  "devices": [
    {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
    {"name": "GPU-4d4f434b-0000-4000-8000-000000000000", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
    {"name": "GPU-4d4f434b-0000-4000-8000-000000000001", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia1"}]}}
  ],
  "containerEdits": {
    "env": ["NVIDIA_VISIBLE_DEVICES=void"],
    "hooks": [{"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook", "args": ["nvidia-cdi-hook", "update-ldcache"]}]
  }
}`

// The CDI library reads the specs as the daemons do: the devices with
// their nodes, a later directory's device over an earlier one's, a spec
// that does not parse reported by its path while the others load, and a
// missing directory is no error.
func TestReadSpecs(t *testing.T) {
	etc, run := t.TempDir(), t.TempDir()
	write := func(dir, name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(etc, "nvidia.json", testSpec)
	write(run, "override.json", `{"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": [
  {"name": "GPU-4d4f434b-0000-4000-8000-000000000001", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia7"}]}}]}`)
	write(etc, "broken.yaml", "cdiVersion: [")
	devices, errs := readSpecs([]string{etc, run, filepath.Join(etc, "missing")})

	var names []string
	for n := range devices {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"nvidia.com/gpu=0", "nvidia.com/gpu=GPU-4d4f434b-0000-4000-8000-000000000000", "nvidia.com/gpu=GPU-4d4f434b-0000-4000-8000-000000000001"}
	if !slices.Equal(names, want) {
		t.Errorf("devices = %q, want %q", names, want)
	}
	if d := devices[want[2]]; !slices.Equal(d.Nodes, []string{"/dev/nvidia7"}) || d.Spec != filepath.Join(run, "override.json") {
		t.Errorf("%s = %+v, want the later directory's", want[2], d)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0], filepath.Join(etc, "broken.yaml")+": ") {
		t.Errorf("errors = %q, want broken.yaml's alone", errs)
	}

	devices, _ = readSpecs([]string{etc})
	if d := devices[want[1]]; d.HooksWithoutEnv != 1 {
		t.Errorf("%s: %d hooks without env, want the spec's one", want[1], d.HooksWithoutEnv)
	}
}
