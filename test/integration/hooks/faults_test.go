//go:build integration

package hooks

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/test/fakedocker"
	"github.com/userdocker/userdocker/test/harness"
)

// TestPrologKilledWhileWriting kills ud-prolog with SIGKILL at random
// points of its run, many times: after each kill the job's record is either
// absent or complete, never partial; the next prolog of the job clears what
// a killed one left, and the epilog leaves nothing.
func TestPrologKilledWhileWriting(t *testing.T) {
	requireSetup(t)
	gres := fakeGPUs(t)
	stateDir := filepath.Join(t.TempDir(), "userdocker")
	job := testJobID(7)
	env := prologEnv(job, "0,1")
	args := []string{"--config", emptyConfig, "--state-dir", stateDir, "--gres-conf", gres}

	// How long a whole run takes, to spread the kills over it.
	start := time.Now()
	if r := runHook(t, mockProlog, env, args...); r.code != 0 {
		t.Fatalf("ud-prolog exited %d:\n%s", r.code, r.stderr)
	}
	full := time.Since(start)
	complete, err := os.ReadFile(alloc.RecordPath(stateDir, job))
	if err != nil {
		t.Fatal(err)
	}
	want, err := alloc.ParseRecord(complete)
	if err != nil {
		t.Fatal(err)
	}
	if r := runHook(t, epilog, map[string]string{"SLURM_JOB_ID": job}, "--config", emptyConfig, "--state-dir", stateDir, "--docker-host", "unix:///var/run/docker.sock"); r.code != 0 {
		t.Fatalf("ud-epilog exited %d:\n%s", r.code, r.stderr)
	}

	killedWithRecord, killedWithout := 0, 0
	for i := range 40 {
		cmd := harness.WithEnv(exec.Command(mockProlog, args...), env)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(full) + 1)))
		cmd.Process.Kill()
		cmd.Wait()
		data, err := os.ReadFile(alloc.RecordPath(stateDir, job))
		switch {
		case os.IsNotExist(err):
			killedWithout++
		case err != nil:
			t.Fatalf("kill %d: read record: %v", i, err)
		default:
			killedWithRecord++
			// A surviving record must be whole: it parses (ParseRecord
			// requires every key) and says what the complete run wrote,
			// but for its creation time.
			rec, err := alloc.ParseRecord(data)
			rec.Created = want.Created
			if err != nil || !reflect.DeepEqual(rec, want) {
				t.Fatalf("kill %d: a partial record survived (%v):\n%s", i, err, data)
			}
		}
		// The next allocation of the job starts clean: a prolog always
		// rewrites, so remove the record as the epilog would.
		os.Remove(alloc.RecordPath(stateDir, job))
	}
	t.Logf("40 kills over %v runs: %d left a complete record, %d none", full, killedWithRecord, killedWithout)

	if r := runHook(t, mockProlog, env, args...); r.code != 0 {
		t.Fatalf("ud-prolog after the kills exited %d:\n%s", r.code, r.stderr)
	}
	if r := runHook(t, epilog, map[string]string{"SLURM_JOB_ID": job}, "--config", emptyConfig, "--state-dir", stateDir, "--docker-host", "unix:///var/run/docker.sock"); r.code != 0 {
		t.Fatalf("ud-epilog exited %d:\n%s", r.code, r.stderr)
	}
	left, _ := filepath.Glob(filepath.Join(stateDir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(stateDir, ".*"))
	if len(left)+len(hidden) > 0 {
		t.Errorf("left in the state dir after prolog and epilog: %q", append(left, hidden...))
	}
}

// TestEpilogAgainstMisbehavingDaemon runs ud-epilog against a daemon that
// hangs and one that hangs up (as while dockerd restarts): it must end in
// bounded time and fail (so that slurmd drains the node) with one line
// naming the job and the daemon, having removed the job's records.
func TestEpilogAgainstMisbehavingDaemon(t *testing.T) {
	requireSetup(t)
	tests := []struct {
		name      string
		behaviour fakedocker.Behaviour
		within    time.Duration
		want      string
	}{
		{"restarting", fakedocker.HangUp, 10 * time.Second, "list the job's containers"},
		{"hanging", fakedocker.Hang, 20 * time.Second, "list the job's containers"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host := fakedocker.Start(t, t.TempDir(), tc.behaviour)
			stateDir := t.TempDir()
			job := testJobID(8 + i)
			if err := os.WriteFile(alloc.RecordPath(stateDir, job), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := runHook(t, epilog, map[string]string{"SLURM_JOB_ID": job}, "--config", emptyConfig, "--state-dir", stateDir, "--docker-host", host, "--stop-timeout", "1s", "--budget", "5s")
			took := time.Since(start)
			first, _, _ := strings.Cut(r.stderr, "\n")
			if r.code != 1 || !strings.HasPrefix(first, "ud-epilog: job "+job+": ") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and a line about job %s saying %q", r.code, r.stderr, job, tc.want)
			}
			if took > tc.within {
				t.Errorf("ud-epilog took %v, want at most %v", took, tc.within)
			}
			if _, err := os.Stat(alloc.RecordPath(stateDir, job)); !os.IsNotExist(err) {
				t.Errorf("the job's record is still there: %v", err)
			}
		})
	}
}
