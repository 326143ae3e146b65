package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/test/fakedocker"
)

// config check on a daemon that is Podman, or with gpu.delivery = "cdi":
// which engine, whether it injects CDI devices, and the node's GPUs
// against the CDI specs. dockerd without CDI delivery: nothing said.
func TestConfigCheckDaemonAndCDI(t *testing.T) {
	uuid0, uuid1 := "GPU-4d4f434b-0000-4000-8000-000000000000", "GPU-4d4f434b-0000-4000-8000-000000000001"
	specs := t.TempDir()
	spec := `{"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": [
  {"name": "` + uuid0 + `", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}}]}`
	if err := os.WriteFile(filepath.Join(specs, "nvidia.json"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	gpus := func() ([]plan.NodeGPU, error) {
		return []plan.NodeGPU{{UUID: uuid0, Minor: 0}, {UUID: uuid1, Minor: 1}}, nil
	}
	tests := []struct {
		name, podman, delivery string
		code                   int
		want                   []string
		not                    string
	}{
		{name: "dockerd, NVIDIA device requests", not: "daemon:"},
		{name: "dockerd 20.10 with CDI delivery", delivery: "cdi", code: 1, want: []string{
			`gpu.delivery is "cdi", and Docker 20.10.24+dfsg1 does not inject CDI devices`,
			"GPU " + uuid1 + " (/dev/nvidia1) has no CDI device nvidia.com/gpu=" + uuid1 + " in " + specs,
			"    hint: see \"GPUs by CDI\" in docs/admin-guide.md",
			"cdi: spec dirs " + specs + ": 1 devices, 0 specs that did not load",
		}},
		{name: "Podman 4.3, NVIDIA device requests", podman: "4.3.1", want: []string{
			"daemon: Podman 4.3.1 (Docker API 1.41) at unix://",
			`warning: gpu.delivery = "device-requests" does not work on Podman (it drops NVIDIA device requests): every run with GPUs is refused`,
		}},
		{name: "Podman 4.3 with CDI delivery", podman: "4.3.1", delivery: "cdi", code: 1, want: []string{
			`gpu.delivery is "cdi", and Podman 4.3.1 does not inject CDI devices (Podman takes CDI device requests from 5.5.0 on)`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := fakedocker.New()
			d.Podman = tc.podman
			host := d.Serve(t)
			text := "docker_host = \"" + host + "\"\n" + adminConfig
			if tc.delivery != "" {
				text = strings.Replace(text, "\n[gpu]\n", "\n[gpu]\ndelivery = \""+tc.delivery+"\"\n", 1)
			}
			path := configDir(t, text, nil)
			code, out, _ := runWith(t, path, "", func(e *Env) {
				e.CheckDaemon, e.CDISpecDirs, e.NodeGPUs = true, []string{specs}, gpus
			}, "config", "check")
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout %q", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q, want %q in it", out, w)
				}
			}
			if tc.not != "" && strings.Contains(out, tc.not) {
				t.Errorf("stdout %q, want no %q", out, tc.not)
			}
		})
	}
}
