package sudoers

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// wantSample are the warnings for testdata/sample.sudoers.
var wantSample = []string{
	"sudoers: alice may set variables for /usr/local/bin/userdocker (SETENV): remove SETENV from that rule",
	"sudoers: %grp may set variables for /usr/local/bin/userdocker, /usr/local/bin/nvidia-userdocker (SETENV): remove SETENV from that rule",
	"sudoers: Defaults env_keep keeps LD_PRELOAD, SUDO_UID for userdocker: remove them",
	"sudoers: Defaults:alice env_keep keeps SUDO_USER for userdocker: remove it",
	"sudoers: Defaults!UD2 setenv lets callers set variables for userdocker: remove it",
	"sudoers: Defaults!/usr/local/bin/userdocker env_keep keeps LD_* for userdocker: remove it",
	"sudoers: Defaults@node1 env_keep keeps S* for userdocker: remove it",
}

// TestWarnings reads testdata/sample.json, which `cvtsudoers -f json
// testdata/sample.sudoers` printed (sudo 1.9.13p3). Not warned about:
// SETENV on a negated userdocker or on other commands (carol, whose alias
// loops), rules for ALL, env_keep -= and of other names, Defaults for
// other commands, bob's plain rule.
func TestWarnings(t *testing.T) {
	data, err := os.ReadFile("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Warnings(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantSample) {
		t.Errorf("Warnings =\n%q\nwant\n%q", got, wantSample)
	}
}

// TestWarningsFromCvtsudoers runs this machine's cvtsudoers on the sample,
// so that a sudo whose JSON differs from the stored one is noticed.
func TestWarningsFromCvtsudoers(t *testing.T) {
	bin, err := Cvtsudoers()
	if err != nil {
		t.Skip(err)
	}
	out, err := exec.Command(bin, "-f", "json", "testdata/sample.sudoers").Output()
	if err != nil {
		t.Fatalf("cvtsudoers: %v", err)
	}
	got, err := Warnings(out)
	if err != nil || !slices.Equal(got, wantSample) {
		t.Errorf("Warnings from %s = %q, %v\nwant %q", bin, got, err, wantSample)
	}
}

func TestWarningsClean(t *testing.T) {
	for _, data := range []string{`{}`, `{"User_Specs": [{"User_List": [{"username": "ALL"}], "Cmnd_Specs": [{"Options": [{"authenticate": false}], "Commands": [{"command": "/usr/local/bin/userdocker"}]}]}]}`} {
		if got, err := Warnings([]byte(data)); err != nil || len(got) != 0 {
			t.Errorf("Warnings(%s) = %q, %v; want none", data, got, err)
		}
	}
	if _, err := Warnings([]byte("sudoers: parse error")); err == nil {
		t.Error("Warnings of text that is not JSON: no error")
	}
}

func TestRisky(t *testing.T) {
	for entry, want := range map[string]bool{
		"SUDO_UID": true, "SUDO_USER": true, "LD_PRELOAD": true, "LD_*": true, "SUDO_*": true, "S*": true, "*": true, "L*": true,
		"NV_GPU": false, "DISPLAY": false, "SUDOX": false, "LDAP_URI": false, "X*": false, "SSH_*": false,
	} {
		if got := risky(entry); got != want {
			t.Errorf("risky(%q) = %v, want %v", entry, got, want)
		}
	}
}

// TestRead reads this machine's rules, as `config check` does.
func TestRead(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: /etc/sudoers is root's")
	}
	if _, err := Cvtsudoers(); err != nil {
		t.Skip(err)
	}
	data, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Warnings(data); err != nil || !strings.Contains(string(data), `"User_Specs"`) {
		t.Errorf("Read = %.200s, Warnings error %v; want the rules of %s", data, err, File)
	}
}

func TestKept(t *testing.T) {
	data, err := os.ReadFile("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Kept(data)
	want := []string{"SUDO_UID", "LD_PRELOAD", "SUDO_USER", "DISPLAY", "XAUTHORITY", "LD_*", "S*"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Kept(sample) = %q, %v; want %q", got, err, want)
	}
	if got, err := Kept([]byte(`{}`)); err != nil || len(got) != 0 {
		t.Errorf("Kept({}) = %q, %v; want none", got, err)
	}
}

func TestKeeps(t *testing.T) {
	kept := []string{"SLURM_*", "PMIX_RANK", "N*"}
	for pattern, want := range map[string]bool{
		"SLURM_*": true, "SLURM_PROCID": true, "PMIX_RANK": true, "NCCL_*": true, "NCCL_DEBUG": true,
		"PMIX_*": false, "PMIX_RANKS": false, "SLURM*": false, "OMPI_*": false,
	} {
		if got := Keeps(kept, pattern); got != want {
			t.Errorf("Keeps(%q, %q) = %v, want %v", kept, pattern, got, want)
		}
	}
}
