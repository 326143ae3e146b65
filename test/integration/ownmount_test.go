//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/userdocker/userdocker/test/harness"
)

// stagingRoot is where runs stage the directories of users' own (the
// test config leaves slurm.state_dir at its default).
const stagingRoot = "/run/userdocker/mounts"

// userRootsConfig is baseConfig with user roots, rm allowed, and the data
// entry read-only by the policy.
var userRootsConfig = strings.NewReplacer(
	`probe = true`, `user_roots = ["{home}", "/srv/udtest/scratch/{user}"]`+"\nprobe = true",
	`"logs", "version"]`, `"logs", "version", "rm"]`,
).Replace(baseConfig)

// shAs runs a shell script as who and fails the test if it fails.
func shAs(t *testing.T, who, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-ec", script)
	harness.AsUser(t, cmd, who)
	if r := harness.Run(t, cmd); r.Code != 0 {
		t.Fatalf("as %s: %s: exit %d: %s", who, script, r.Code, r.Stderr)
	}
}

// ownTree makes, as alice, ~/ud-ownmount-test with a project (holding
// the file "marker"), a link to a directory in her scratch, and a link
// to /etc, and removes it when the test ends.
func ownTree(t *testing.T) (home, dir string) {
	t.Helper()
	prepareDirs(t)
	home = "/home/" + alice
	dir = filepath.Join(home, "ud-ownmount-test")
	scratch := "/srv/udtest/scratch/" + alice + "/ud-ownmount-run1"
	os.RemoveAll(dir)
	os.RemoveAll(scratch)
	t.Cleanup(func() { os.RemoveAll(dir); os.RemoveAll(scratch) })
	shAs(t, alice, `mkdir -p `+dir+`/project `+scratch+`
echo mine > `+dir+`/project/marker
echo run1 > `+scratch+`/marker
ln -s `+scratch+` `+dir+`/run1
ln -s /etc `+dir+`/etc`)
	return home, dir
}

// stagedRuns lists the staging directories runs left.
func stagedRuns(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(stagingRoot)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// noStaging fails the test when a staging directory or mount is left.
func noStaging(t *testing.T, after string) {
	t.Helper()
	if left := stagedRuns(t); len(left) > 0 {
		t.Errorf("after %s: staging directories left: %v", after, left)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), " "+stagingRoot+"/") {
		t.Errorf("after %s: a staging mount is left:\n%s", after, mi)
	}
}

// TestOwnMounts: alice mounts her own project (user_roots) read-write and
// read-only, through her symlink to her scratch, but not through her
// symlink to /etc nor from outside the roots; the staging directory is
// root's alone and goes with the container (--rm, rm).
func TestOwnMounts(t *testing.T) {
	requireSetup(t)
	writeConfig(t, userRootsConfig)
	home, dir := ownTree(t)
	project := dir + "/project"
	// Leftovers of an earlier run go with this one's sweep.
	t.Cleanup(func() { noStaging(t, "the test") })

	r := ud(t, alice, nil, "run", "--rm", "-v", project+":/code", testImage, "sh", "-c", "cat /code/marker && echo written > /code/out")
	if r.code != 0 || r.stdout != "mine\n" {
		t.Fatalf("rw: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	fi, err := os.Stat(project + "/out")
	if err != nil || statOwner(fi) != uidOf(t, alice) {
		t.Fatalf("the container's file in the project: %v (owner %v)", err, fi)
	}
	noStaging(t, "run --rm")

	r = ud(t, alice, nil, "run", "--rm", "-v", project+":/code:ro", testImage, "sh", "-c", "cat /code/marker; touch /code/x")
	if r.code == 0 || r.stdout != "mine\n" || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("ro: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(project + "/x"); err == nil {
		t.Fatal("a read-only mount let the container write")
	}

	// Her own symlink to an allowed directory: what it leads to is mounted.
	r = ud(t, alice, nil, "run", "--rm", "-v", dir+"/run1:/run1", testImage, "cat", "/run1/marker")
	if r.code != 0 || r.stdout != "run1\n" {
		t.Fatalf("through her symlink: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// A directory in her home that she cannot enter (root's, 0700).
	locked := dir + "/locked"
	if err := os.Mkdir(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	before := containersOf(t, alice)
	for _, tc := range []struct{ src, want string }{
		{locked, "you have no access to it"},
		{dir + "/etc", "(it is /etc) is not allowed: you may mount directories under " + home + ", /srv/udtest/scratch/" + alice},
		{"/tmp", "/tmp is not allowed: you may mount directories under"},
		{project + "/marker", "not a directory"},
		{dir + "/missing", "does not exist"},
		// userdocker's own process, through the magic links of /proc.
		{"/proc/self/root" + project, "a link through /proc"},
		{"/proc/self/cwd", "a link through /proc"},
	} {
		r = ud(t, alice, nil, "run", "--rm", "-v", tc.src+":/x", testImage, "ls", "/x")
		if r.code != 125 || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stdout, "passwd") {
			t.Errorf("-v %s:/x: exit %d, stdout %q, stderr %q, want refusal %q", tc.src, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	if after := containersOf(t, alice); len(after) != len(before) {
		t.Errorf("refused runs left containers: %v", after)
	}

	// Detached: the staging directory holds her project while the
	// container exists, and only root may enter it.
	r = ud(t, alice, nil, "run", "-d", "-v", project+":/code", testImage, "sleep", "300")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -d: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	token := docker(t, "inspect", "-f", `{{index .Config.Labels "io.userdocker.staging"}}`, id)
	source := docker(t, "inspect", "-f", `{{range .Mounts}}{{if eq .Destination "/code"}}{{.Source}}{{end}}{{end}}`, id)
	if token == "" || source != stagingRoot+"/"+token+"/0" {
		t.Fatalf("label %q, mount source %q", token, source)
	}
	var staged, orig syscall.Stat_t
	if err := syscall.Stat(source, &staged); err != nil {
		t.Fatal(err)
	}
	syscall.Stat(project, &orig)
	if staged.Dev != orig.Dev || staged.Ino != orig.Ino {
		t.Fatalf("%s is not her project", source)
	}
	var root syscall.Stat_t
	syscall.Stat(stagingRoot, &root)
	if root.Uid != 0 || root.Mode&0o077 != 0 {
		t.Fatalf("%s: owner %d mode %o, want root's alone", stagingRoot, root.Uid, root.Mode&0o7777)
	}
	if r := sudoAs(t, bob, nil, "ls", source); r.code == 0 {
		t.Fatalf("bob reaches alice's project through %s", source)
	}
	// The read-only mount the policy made says so.
	r = ud(t, alice, nil, "run", "--rm", "-v", "/srv/udtest/data:/data", testImage, "true")
	if r.code != 0 || !strings.Contains(r.stderr, "userdocker: note: -v /srv/udtest/data:/data mounted read-only (run.mounts entry /srv/udtest/data:/data:ro)\n") {
		t.Errorf("policy read-only: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := stagedRuns(t); len(got) != 1 || got[0] != token {
		t.Fatalf("another run's sweep took the running container's staging: %v", got)
	}
	if r := ud(t, alice, nil, "rm", "-f", id); r.code != 0 {
		t.Fatalf("rm: exit %d, stderr %q", r.code, r.stderr)
	}
	noStaging(t, "rm")

	out := udRoot(t, "config", "explain", "--user", alice)
	if want := "user_roots = ['" + home + "', '/srv/udtest/scratch/" + alice + "']  # from " + testConfig; !strings.Contains(out.stdout, want) {
		t.Errorf("config explain lacks %q:\n%s", want, out.stdout)
	}
}

// TestOwnMountRace: while alice's process swaps her project for a
// symlink to /etc and back, as fast as it can, runs mount the project.
// Each run either mounts her project or is refused: no container ever
// sees /etc. Giving Docker a name instead of the staging mount (the path
// the kernel reported for the open directory, which dockerd then looks
// up again) fails this test: tried, a run met the swapped name at
// runc's mount ("stat …/project: no such file or directory").
func TestOwnMountRace(t *testing.T) {
	requireSetup(t)
	writeConfig(t, userRootsConfig)
	_, dir := ownTree(t)
	t.Cleanup(func() { noStaging(t, "the race") })
	ctx, cancel := context.WithCancel(context.Background())
	swap := exec.CommandContext(ctx, "sh", "-c", `cd `+dir+` && while :; do
mv -T project real; mv -T etc project; mv -T project etc; mv -T real project; done`)
	harness.AsUser(t, swap, alice)
	if err := swap.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			swap.Wait()
		}
	}
	defer stop()

	const runs = 40
	mounted, refused := 0, 0
	for i := 0; i < runs; i++ {
		r := ud(t, alice, nil, "run", "--rm", "-v", dir+"/project:/code", testImage, "ls", "/code")
		switch {
		case strings.Contains(r.stdout, "passwd") || strings.Contains(r.stdout, "hostname"):
			t.Fatalf("run %d: the container saw /etc: %q", i, r.stdout)
		case r.code == 0 && r.stdout == "marker\n":
			mounted++
		case r.code == 125 && r.stdout == "":
			if refused == 0 {
				t.Logf("run %d refused: %s", i, strings.TrimSpace(r.stderr))
			}
			refused++
		default:
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q", i, r.code, r.stdout, r.stderr)
		}
	}
	stop()
	t.Logf("%d runs: %d mounted her project, %d refused", runs, mounted, refused)
	if mounted == 0 {
		t.Errorf("no run mounted the project while it was swapped: the race was not exercised")
	}
}

// TestOwnMountGoesWithJob: the staging of a detached container in a job
// goes when the epilog removes the container.
func TestOwnMountGoesWithJob(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, userRootsConfig)
	_, dir := ownTree(t)
	j := holdJob(t, alice, "-c1", "--mem=128")
	r := inJob(t, j, nil, "run", "-d", "-v", dir+"/project:/code", testImage, "sh", "-c", quickStop)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 64 {
		t.Fatalf("run -d in job %s: exit %d, stdout %q, stderr %q", j.ID, r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	if got := stagedRuns(t); len(got) != 1 {
		t.Fatalf("staging directories while the job runs: %v", got)
	}
	cancelJob(t, j)
	waitFor(t, "the epilog removes the job's container", func() bool {
		return exec.Command("docker", "inspect", id).Run() != nil
	})
	// cancelJob waited for the job to leave the node: the epilog is done.
	noStaging(t, "the epilog")
}

// TestOwnMountOnNode2: on vm2, which has its own mount namespace (and its
// own /run), the staging mount is made in vm2's namespace, where vm2's
// dockerd sees it, and goes from there after rm.
func TestOwnMountOnNode2(t *testing.T) {
	requireNode2(t)
	writeConfig(t, userRootsConfig)
	_, dir := ownTree(t)
	ud2 := func(args ...string) (string, error) {
		return onNode2(t, true, append([]string{"sudo", "-u", alice, "sudo", "-n", testBinary}, args...)...)
	}
	out, err := ud2("run", "-d", "-v", dir+"/project:/code", testImage, "sleep", "300")
	id, _, _ := strings.Cut(out, "\n") // then the note on stderr, combined
	if len(id) == 64 {
		t.Cleanup(func() { exec.Command("docker", "-H", "unix://"+node2Socket, "rm", "-f", id).Run() })
	}
	if err != nil || len(id) != 64 {
		t.Fatalf("run -d on vm2: %v: %q", err, out)
	}
	// vm2's daemon has it, and what it mounted is her project.
	if out := dockerOn(t, node2, "exec", id, "cat", "/code/marker"); out != "mine" {
		t.Fatalf("the container on vm2 sees %q", out)
	}
	if out, err := ud2("rm", "-f", id); err != nil {
		t.Fatalf("rm on vm2: %v: %s", err, out)
	}
	left, _ := os.ReadDir("/run/userdocker-test/vm2/userdocker/mounts")
	for _, e := range left {
		if e.IsDir() {
			t.Errorf("vm2 staging directory left: %s", e.Name())
		}
	}
	if mi, _ := onNode2(t, true, "cat", "/proc/self/mountinfo"); strings.Contains(mi, " "+stagingRoot+"/") {
		t.Errorf("vm2 staging mount left:\n%s", mi)
	}
}
