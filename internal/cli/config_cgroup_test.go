package cli

import (
	"strings"
	"testing"
)

// TestSystemdCgroupDriverRefused: a dockerd with the systemd cgroup
// driver would not put containers below the job's parent cgroup, so run
// creates nothing and says in one line what to change, and config check
// reports it as a problem with the same hint.
func TestSystemdCgroupDriverRefused(t *testing.T) {
	requireRoot(t)
	const line = `dockerd uses the "systemd" cgroup driver, and userdocker needs "cgroupfs" to keep a job's containers within the job: ` +
		`add "exec-opts": ["native.cgroupdriver=cgroupfs"] to /etc/docker/daemon.json and restart dockerd`
	for _, driver := range []string{"systemd", "none"} {
		d := imageDaemon()
		d.CgroupDriver = driver
		code, _, errOut := cli(t, withDaemon(testConfig, d.Serve(t)), 0, "run", "--rm", "ud-test/busybox", "true")
		if want := "userdocker: " + strings.ReplaceAll(line, "systemd", driver) + "\n"; code != 125 || errOut != want {
			t.Errorf("run with the %s driver: exit %d, stderr %q; want 125, %q", driver, code, errOut, want)
		}
		if n := len(creates(d)); n != 0 {
			t.Errorf("run with the %s driver created %d containers", driver, n)
		}
	}
	d := daemon()
	d.CgroupDriver = "systemd"
	code, out, errOut := runWith(t, configDir(t, withDaemon(adminConfig, d.Serve(t)), nil), "", func(e *Env) { e.CgroupRoot = fakeCgroupRoot(t) }, "config", "check")
	if code != 1 || !strings.Contains(out, line+"\n    hint: ") || !strings.Contains(out, "native.cgroupdriver=cgroupfs") {
		t.Errorf("config check with the systemd driver: exit %d\n%s%s", code, out, errOut)
	}
}
