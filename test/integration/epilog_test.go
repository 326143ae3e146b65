//go:build integration

package integration

// What a user can do to make the epilog fail by time (DESIGN.md §3.11),
// through real Slurm, real sudo and the real dockerd: many containers that
// ignore SIGTERM, and more containers than the job may have.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/audit"
)

// withContainerLimit is the base config with [slurm]
// max_containers_per_job = n.
func withContainerLimit(n int) string {
	const at = `outside_job = "no-gpu"`
	return strings.Replace(baseConfig, at, at+fmt.Sprintf("\nmax_containers_per_job = %d", n), 1)
}

// stubborn is a container command that ignores SIGTERM, as PID 1 and in
// its child, so that only SIGKILL ends it.
const stubborn = `trap "" TERM; sleep 600`

// TestSlurmEpilogEndsManyStubbornContainers starts as many containers as
// a job may have by default (slurm.max_containers_per_job, 64), each
// ignoring SIGTERM, every other one --rm (dockerd removes those itself
// once they end, racing the epilog), and ends the job. Before, the epilog
// stopped them 8 at a time, each with its full stop timeout: 80 s for 64
// (150 s for 120), past a quarter of the test cluster's
// PrologEpilogTimeout of 120 s. bench/epilog.sh measures 120; the test
// keeps to the default cap, since 120 kills at once on two vCPUs once
// left Docker 20.10 with containers it could neither kill nor remove
// until it was restarted (and so a drained node for the rest of the run). Now the epilog must end within a quarter of the timeout
// (the bound the default epilog_budget of 30 s keeps), by its own audit
// record, leave none of the containers, and the node must stay up.
func TestSlurmEpilogEndsManyStubbornContainers(t *testing.T) {
	requireSlurm(t)
	const n = 64
	limit := prologEpilogTimeout(t)
	writeConfig(t, withContainerLimit(n))
	j := holdJob(t, alice, "-c1", "--mem=256")

	// Eight at a time, as fast as dockerd creates them on this machine.
	start := time.Now()
	script := fmt.Sprintf(`seq %d | xargs -P 8 -I{} sh -c 'rm=; [ $(({} %% 2)) = 0 ] && rm=--rm; sudo -n %s run -d $rm %s sh -c '"'"'%s'"'"' >/dev/null'`,
		n, testBinary, testImage, stubborn)
	r := srunIn(t, j, 5*time.Minute, "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("starting %d containers in job %s: exit %d, stderr:\n%s", n, j.ID, r.code, r.stderr)
	}
	running := strings.Fields(docker(t, "ps", "-q", "--filter", "label=io.userdocker.job="+j.ID))
	t.Logf("%d containers running in job %s after %v", len(running), j.ID, time.Since(start).Round(100*time.Millisecond))
	if len(running) != n {
		t.Fatalf("%d containers of job %s are running, want %d", len(running), j.ID, n)
	}

	start = time.Now()
	cancelJob(t, j)
	t.Logf("job %s gone %v after scancel", j.ID, time.Since(start).Round(100*time.Millisecond))
	if left := jobContainersOf(t, j); len(left) != 0 {
		t.Errorf("%d containers of job %s left after the epilog: %v", len(left), j.ID, left)
	}
	rec := epilogRecord(t, j.ID)
	took := time.Duration(rec.DurationMS * float64(time.Millisecond))
	t.Logf("ud-epilog of job %s: exit %d in %v, %d containers removed by it (the rest by dockerd's --rm)",
		j.ID, rec.ExitCode, took.Round(100*time.Millisecond), len(rec.Containers))
	if rec.ExitCode != 0 || rec.Decision != audit.Allowed {
		t.Errorf("ud-epilog of job %s: exit %d, decision %q, reasons %q; want 0, allowed", j.ID, rec.ExitCode, rec.Decision, rec.Reasons)
	}
	if took > limit/4 {
		t.Errorf("ud-epilog of job %s took %v, more than a quarter of PrologEpilogTimeout (%v)", j.ID, took, limit)
	}
	if len(rec.Containers) < n/2 {
		t.Errorf("ud-epilog of job %s removed %d containers itself, want at least the %d without --rm", j.ID, len(rec.Containers), n/2)
	}
	assertNodeHealthy(t)
}

// prologEpilogTimeout is the test cluster's PrologEpilogTimeout, as slurmd
// applies it.
func prologEpilogTimeout(t *testing.T) time.Duration {
	t.Helper()
	out, err := exec.Command("scontrol", "show", "config").Output()
	if err != nil {
		t.Fatalf("scontrol show config: %v", err)
	}
	m := regexp.MustCompile(`(?m)^PrologEpilogTimeout\s*=\s*(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("scontrol show config names no PrologEpilogTimeout")
	}
	secs, _ := strconv.Atoi(string(m[1]))
	if secs == 0 || secs >= 65534 {
		t.Fatalf("PrologEpilogTimeout = %d: the test cluster should bound its epilog (scripts/testenv.sh)", secs)
	}
	return time.Duration(secs) * time.Second
}

// epilogRecord returns the audit record of the epilog slurmd ran for job
// id: the machine has no /etc/userdocker/config.toml, so it goes to the
// fallback of "syslog" when /dev/log does not exist.
func epilogRecord(t *testing.T, id string) audit.Record {
	t.Helper()
	if _, err := os.Stat("/dev/log"); err == nil {
		t.Fatalf("/dev/log exists: ud-epilog's audit record went to syslog, where this test cannot read it")
	}
	f, err := os.Open(audit.FallbackFile)
	if err != nil {
		t.Fatalf("ud-epilog's audit record: %v", err)
	}
	defer f.Close()
	var found *audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r audit.Record
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Program == "ud-epilog" && r.Job == id {
			found = &r
		}
	}
	if found == nil {
		t.Fatalf("no audit record of ud-epilog for job %s in %s", id, audit.FallbackFile)
	}
	return *found
}

// TestSlurmContainersPerJobLimit fills a job up to
// slurm.max_containers_per_job = 3, then races four runs for the last
// place, from inside the job through real sudo: exactly one may win, so
// that concurrent runs cannot together pass the limit (they count under
// the job's lock, through create). What dockerd holds decides, not the
// exit codes alone. A removed container makes room again.
func TestSlurmContainersPerJobLimit(t *testing.T) {
	requireSlurm(t)
	writeConfig(t, withContainerLimit(3))
	j := holdJob(t, alice, "-c1", "--mem=128")
	first := startIn(t, j, nil)
	startIn(t, j, nil)

	script := fmt.Sprintf(`for i in 1 2 3 4; do (out=$(sudo -n %s run -d %s sh -c '%s' 2>&1); echo "exit $? $out") & done; wait`,
		testBinary, testImage, stubborn)
	r := srunIn(t, j, 2*time.Minute, "sh", "-c", script)
	want := fmt.Sprintf("userdocker: your job %s has 3 containers on this node, the most allowed (slurm.max_containers_per_job = 3): remove one first", j.ID)
	won, refused, notes := 0, 0, 0
	note := regexp.MustCompile(`^userdocker: container \S+ is removed when job ` + j.ID + ` ends `)
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		switch {
		case regexp.MustCompile(`^exit 0 [0-9a-f]{64}$`).MatchString(line):
			won++
		case note.MatchString(line): // run -d's note on stderr, after the ID
			notes++
		case line == "exit 125 "+want:
			refused++
		default:
			t.Errorf("unexpected result of a racing run: %q", line)
		}
	}
	ids := jobContainersOf(t, j)
	if won != 1 || refused != 3 || notes != won || len(ids) != 3 {
		t.Fatalf("4 runs racing for 1 place: %d started, %d refused, dockerd holds %d containers of the job; want 1, 3, 3\n%s",
			won, refused, len(ids), r.stdout)
	}
	for _, id := range ids {
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	}

	// The N+1-th, alone: refused, with the one line, and nothing created,
	// not even its --cidfile.
	cid := fmt.Sprintf("/tmp/udtest-cid-%s", j.ID)
	t.Cleanup(func() { os.Remove(cid) })
	over := inJob(t, j, nil, "run", "-d", "--cidfile", cid, testImage, "sh", "-c", stubborn)
	if over.code != 125 || over.stderr != want+"\n" {
		t.Errorf("4th container: exit %d, stderr %q; want 125 and %q", over.code, over.stderr, want)
	}
	if n := len(jobContainersOf(t, j)); n != 3 {
		t.Errorf("dockerd holds %d containers of job %s after a refused run, want 3", n, j.ID)
	}
	if _, err := os.Stat(cid); !os.IsNotExist(err) {
		t.Errorf("the refused run left its --cidfile %s: %v", cid, err)
	}

	docker(t, "rm", "-f", first)
	startIn(t, j, nil)
	if n := len(jobContainersOf(t, j)); n != 3 {
		t.Errorf("dockerd holds %d containers of job %s after one was removed and one started, want 3", n, j.ID)
	}
}
