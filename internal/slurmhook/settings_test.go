package slurmhook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/alloc"
)

func TestLoadSettings(t *testing.T) {
	def := Settings{StateDir: alloc.DefaultStateDir, StopTimeout: 5 * time.Second, EpilogBudget: 30 * time.Second, DockerHost: "unix:///var/run/docker.sock", AuditLog: "syslog"}
	tests := []struct {
		name    string
		config  string // "" : no file
		want    Settings
		wantErr string
	}{
		{name: "no configuration file", want: def},
		{name: "empty configuration", config: "# nothing\n", want: def},
		{
			name:   "configured",
			config: "docker_host = 'unix:///run/other.sock'\n[slurm]\nstate_dir = '/var/lib/userdocker'\nstop_timeout = '3s'\nepilog_budget = '1m'\n[audit]\nlog = '/var/log/ud.log'\n",
			want:   Settings{StateDir: "/var/lib/userdocker", StopTimeout: 3 * time.Second, EpilogBudget: time.Minute, DockerHost: "unix:///run/other.sock", AuditLog: "/var/log/ud.log"},
		},
		{
			name:    "broken configuration: defaults and the error",
			config:  "[slurm]\nstate_dir = '/var/lib/userdocker'\nstop_timeot = '3s'\n",
			want:    def,
			wantErr: "slurm.stop_timeot",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if tc.config != "" {
				if err := os.WriteFile(path, []byte(tc.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadSettings(path)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("LoadSettings() error = %v, want %q", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("LoadSettings() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
