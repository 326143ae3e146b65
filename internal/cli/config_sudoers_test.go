package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckSudoersWarnings: `config check` warns about sudo rules
// that let callers set userdocker's variables, and says so when it could
// not read them, after the verdict; neither makes the check fail.
func TestConfigCheckSudoersWarnings(t *testing.T) {
	setenv := `{"User_Specs": [{"User_List": [{"username": "alice"}], "Cmnd_Specs": [{"Options": [{"setenv": true}],
		"Commands": [{"command": "/usr/local/bin/userdocker"}]}]}]}`
	keep := func(names string) func() ([]byte, error) {
		return func() ([]byte, error) {
			return []byte(`{"Defaults": [{"Binding": [{"command": "/usr/local/bin/userdocker"}], "Options": [{"operation": "list_add", "env_keep": [` + names + `]}]}]}`), nil
		}
	}
	tests := []struct {
		name    string
		sudoers func() ([]byte, error)
		passEnv string // run.pass_env's TOML value, if set
		want    string // after the OK line
	}{
		{"clean", func() ([]byte, error) { return []byte(`{}`), nil }, "", ""},
		{"pass_env kept", keep(`"SLURM_*", "PMIX_*"`), `["SLURM_PROCID", "PMIX_*"]`, ""},
		{"pass_env not kept", keep(`"SLURM_PROCID"`), `["SLURM_*", "SLURM_PROCID", "NCCL_DEBUG"]`,
			"warning: run.pass_env SLURM_*: sudo keeps no such variable for userdocker, so none reaches the container: add it to env_keep (contrib/slurm/sudoers.userdocker)\n" +
				"warning: run.pass_env NCCL_DEBUG: sudo keeps no such variable for userdocker, so none reaches the container: add it to env_keep (contrib/slurm/sudoers.userdocker)\n"},
		{"SETENV", func() ([]byte, error) { return []byte(setenv), nil }, "",
			"warning: sudoers: alice may set variables for /usr/local/bin/userdocker (SETENV): remove SETENV from that rule\n"},
		{"unreadable", func() ([]byte, error) { return nil, errors.New("cvtsudoers is not installed") }, "",
			"warning: sudoers not checked for SETENV and env_keep: cvtsudoers is not installed\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := adminConfig
			if tc.passEnv != "" {
				conf = strings.Replace(conf, "[run]\n", "[run]\npass_env = "+tc.passEnv+"\n", 1)
			}
			path := configDir(t, conf, nil)
			var out, errb bytes.Buffer
			code := Main(context.Background(), Env{
				Args: []string{"config", "check"}, Stdout: &out, Stderr: &errb, UID: 0, Proc: parentOf(nil),
				Lookup: func(string) (string, bool) { return "", false }, Users: adminUsers{}, ConfigPath: path,
				Sudoers: tc.sudoers, Disks: fakeDisks{}, AuditFallback: filepath.Join(t.TempDir(), "audit-fallback.log"),
			})
			want := "configuration OK: " + path + " (1 override)\n" + tc.want
			if code != 0 || out.String() != want || errb.String() != "" {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant 0, %q", code, out.String(), errb.String(), want)
			}
		})
	}
}
