package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigImport(t *testing.T) {
	path := configDir(t, adminConfig, nil)
	fixture, err := filepath.Abs("../oldconfig/testdata/etc")
	if err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "config.py"), []byte("VOLUME_MOUNTS_AVAILABLE = ['data:/data']\n"), 0o644)
	existing := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(existing, []byte("# live\n"), 0o644)
	tests := []struct {
		name     string
		sudoUID  string
		args     []string
		code     int
		stdout   string // stdout must contain
		stderrIn string // stderr must contain
	}{
		{"directory", "", []string{"config", "import", fixture}, 0, "[[override]]\ngroup = 'udtest-gpu'\npriority = 50\n",
			"userdocker: config import: the converted configuration passes config check; review it, then install it as $DIR/config.toml\n"},
		{"file", "", []string{"config", "import", filepath.Join(fixture, "config.py")}, 0, "[[override]]\nuid = 2001\n",
			"  " + fixture + "/config.py:7: LOGLVL: no equivalent: pass -q or --debug on the command line\n"},
		{"result fails config check", "", []string{"config", "import", bad}, 1, "available = ['data:/data']",
			"userdocker: config import: the converted configuration has 1 problem: fix them before installing it\n"},
		{"missing", "", []string{"config", "import", "/nonexistent/old"}, 125, "",
			"userdocker: config import: open /nonexistent/old: no such file or directory\n"},
		{"two paths", "", []string{"config", "import", fixture, fixture}, 125, "",
			"userdocker: \"config import\" accepts one PATH, got 2 arguments\n"},
		{"output exists", "", []string{"config", "import", "-o", existing, fixture}, 125, "",
			"userdocker: config import: -o " + existing + ": exists already; choose a new file\n"},
		{"help", "", []string{"config", "import", "-h"}, 0, "Usage:  userdocker config import [-o FILE] [PATH]\n", ""},
		{"user refused", "2001", []string{"config", "import", fixture}, 125, "", "userdocker: \"config\" is not allowed on this system\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runAs(t, path, tt.sudoUID, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderrIn) {
				t.Errorf("userdocker %q: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q",
					tt.args, code, stdout, stderr, tt.code, tt.stdout, tt.stderrIn)
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "# live\n" {
		t.Errorf("-o replaced an existing file: %q", data)
	}
}
