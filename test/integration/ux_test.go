//go:build integration

package integration

import (
	"slices"
	"strings"
	"testing"
)

// uxConfig is the base config with the size flags, --cap-add and
// --network allowed, sizes bounded by run.limits instead of a regex.
func uxConfig() string {
	c := strings.Replace(baseConfig, `"-u", "--group-add"]`, `"-u", "--group-add", "--cap-add", "--network", "-m", "--tmpfs"]`, 1)
	return strings.Replace(c, `"--shm-size" = ['^[0-9]+[kmg]?$']`, `"-w" = ['^/']
[run.limits]
shm_size = "2g"
tmpfs_size = "1g"`, 1)
}

// TestUXDetachedNote: run -d says on stderr what removes the container:
// inside a job (reached through srun, as a user does) its end; outside
// any job, nothing. The container is really there, with that job's label.
func TestUXDetachedNote(t *testing.T) {
	requireSlurm(t)
	j := holdJob(t, alice, "-c1", "--mem=128")
	r := inJob(t, j, nil, "run", "-d", "--name", "note", testImage, "sh", "-c", quickStop)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -d in job %s: exit %d, stdout %q, stderr %q", j.ID, r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { docker(t, "rm", "-f", id) })
	name := strings.TrimPrefix(docker(t, "inspect", "--format", "{{.Name}}", id), "/")
	want := "userdocker: container " + name + " is removed when job " + j.ID + " ends (a job that srun started ends when srun returns)\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if got := docker(t, "inspect", "--format", `{{index .Config.Labels "io.userdocker.job"}}`, id); got != j.ID {
		t.Errorf("container labelled with job %q, want %s", got, j.ID)
	}

	r = ud(t, alice, nil, "run", "-d", "--name", "free", testImage, "sh", "-c", quickStop)
	id = strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -d outside a job: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { docker(t, "rm", "-f", id) })
	name = strings.TrimPrefix(docker(t, "inspect", "--format", "{{.Name}}", id), "/")
	want = "userdocker: container " + name + " runs outside any job: nothing removes it; 'userdocker rm -f " + name + "' when you are done\n"
	if r.stderr != want {
		t.Errorf("outside a job: stderr %q, want %q", r.stderr, want)
	}
}

// TestUXGroupAddByName: --group-add takes one of the caller's own groups
// by name; the container really has it. A group the caller is not in is
// refused by name, and nothing is created.
func TestUXGroupAddByName(t *testing.T) {
	requireSetup(t)
	r := ud(t, alice, nil, "run", "--rm", "--group-add", "udtest-gpu", testImage, "id", "-G")
	if r.code != 0 || !slices.Contains(strings.Fields(r.stdout), "2100") {
		t.Fatalf("--group-add udtest-gpu: exit %d, stdout %q (want gid 2100 among the groups), stderr %q", r.code, r.stdout, r.stderr)
	}
	before := containersOf(t, bob)
	r = ud(t, bob, nil, "run", "--rm", "--group-add", "udtest-gpu", testImage, "id", "-G")
	if r.code != 125 || !strings.HasPrefix(r.stderr, `userdocker: --group-add "udtest-gpu" is not allowed: only your own groups can be added (`) {
		t.Fatalf("bob, not in udtest-gpu: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if after := containersOf(t, bob); len(after) != len(before) {
		t.Fatalf("a refused run created a container: %v", after)
	}
}

// TestUXEveryReasonAtOnce: a run that breaks two rules hears of both, each
// on its own line, and nothing is created.
func TestUXEveryReasonAtOnce(t *testing.T) {
	requireSetup(t)
	writeConfig(t, uxConfig())
	before := containersOf(t, alice)
	r := ud(t, alice, nil, "run", "--rm", "--cap-add", "SYS_ADMIN", "--network", "host", "--privileged", testImage, "true")
	want := "userdocker: --privileged is not allowed on this system\n" +
		"userdocker: --cap-add SYS_ADMIN is not allowed on this system\n" +
		"userdocker: --network=host is not allowed on this system: containers get their own network namespace\n"
	if r.code != 125 || r.stderr != want {
		t.Fatalf("exit %d, stderr\n%s\nwant 125,\n%s", r.code, r.stderr, want)
	}
	if after := containersOf(t, alice); len(after) != len(before) {
		t.Fatalf("a refused run created a container: %v", after)
	}
}

// TestUXSizes: sizes are read as docker reads them (1GB is 1 GiB), what
// the container gets is that size, and a size beyond the job's memory or
// the site's limit is refused as the user wrote it.
func TestUXSizes(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, uxConfig())
	r := ud(t, alice, nil, "run", "--rm", "--shm-size", "1GB", "--tmpfs", "/t:size=64MB", testImage, "sh", "-c", "df -k /dev/shm /t | tail -n 2")
	if r.code != 0 {
		t.Fatalf("--shm-size 1GB --tmpfs /t:size=64MB: exit %d, stderr %q", r.code, r.stderr)
	}
	var sizes []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			sizes = append(sizes, f[1])
		}
	}
	if !slices.Equal(sizes, []string{"1048576", "65536"}) {
		t.Errorf("1K-blocks of /dev/shm and /t: %v, want 1048576 and 65536\n%s", sizes, r.stdout)
	}
	r = ud(t, alice, nil, "run", "--rm", "--shm-size", "3g", testImage, "true")
	if want := "userdocker: --shm-size 3g is more than the 2g this system allows (run.limits.shm_size)\n"; r.code != 125 || r.stderr != want {
		t.Errorf("above the site's: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}

	j := holdJob(t, alice, "-c1", "--mem=128")
	r = inJob(t, j, nil, "run", "--rm", "--shm-size", "1g", "-m", "1024m", "--tmpfs", "/t", testImage, "sh", "-c", "df -k /t | tail -n 1")
	want := "userdocker: --shm-size 1g is more than your job's memory (128m)\n" +
		"userdocker: -m/--memory 1024m is more than your job's memory (128m)\n"
	if r.code != 125 || r.stderr != want {
		t.Errorf("in a 128m job: exit %d, stderr\n%s\nwant\n%s", r.code, r.stderr, want)
	}
	r = inJob(t, j, nil, "run", "--rm", "--tmpfs", "/t", testImage, "sh", "-c", "df -k /t | tail -n 1")
	if f := strings.Fields(r.stdout); r.code != 0 || len(f) < 2 || f[1] != "131072" {
		t.Errorf("a tmpfs without a size in a 128m job: exit %d, stdout %q (want 131072 1K-blocks), stderr %q", r.code, r.stdout, r.stderr)
	}
}
