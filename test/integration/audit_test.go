//go:build integration

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/userdocker/userdocker/internal/audit"
)

// sudoLog is where sudo logs every command the test users run through it
// (the Defaults line of setup's sudoers rule): the count of userdocker
// invocations that the audit records are checked against, whichever test,
// helper or srun step made them.
const sudoLog = "/var/log/userdocker-test-sudo.log"

// auditLogs are where the test binary's records go: the base config's
// file, and the fallback of "syslog" when /dev/log does not exist (configs
// of single tests that leave [audit] out, or that do not load).
var auditLogs = []string{"/var/log/userdocker-test-audit.log", audit.FallbackFile}

// sudoersAudit is the Defaults line setup adds to the sudoers rule.
func sudoersAudit() string {
	return fmt.Sprintf("Defaults:%s,%s logfile=%s, loglinelen=0\n", alice, bob, sudoLog)
}

// markAudit returns the current sizes of the sudo log and the audit logs,
// so that checkAudit looks only at what the suite adds.
func markAudit() map[string]int64 {
	sizes := map[string]int64{}
	for _, f := range append([]string{sudoLog}, auditLogs...) {
		if fi, err := os.Stat(f); err == nil {
			sizes[f] = fi.Size()
		}
	}
	return sizes
}

// checkAudit compares the userdocker commands sudo ran for the test users
// since mark with the audit records of the test users written since:
// every invocation must have written exactly one. When they differ,
// it names the sudo log lines that found no record of the same user with
// the same arguments, started at most a few seconds later.
func checkAudit(mark map[string]int64) error {
	if _, err := os.Stat("/dev/log"); err == nil {
		fmt.Fprintln(os.Stderr, "integration: /dev/log exists: audit records of unconfigured runs go to syslog, not counted")
		return nil
	}
	var runs []sudoRun
	err := eachNewLine(sudoLog, mark, func(line string) {
		if r, ok := parseSudoLine(line); ok {
			runs = append(runs, r)
		}
	})
	if err != nil {
		return err
	}
	var records []audit.Record
	for _, f := range auditLogs {
		err := eachNewLine(f, mark, func(line string) {
			var r audit.Record
			if json.Unmarshal([]byte(line), &r) == nil && r.Program == "userdocker" && (r.Caller == alice || r.Caller == bob) {
				records = append(records, r)
			}
		})
		if err != nil {
			return err
		}
	}
	if len(runs) == len(records) {
		fmt.Fprintf(os.Stderr, "integration: %d userdocker runs through sudo, %d audit records\n", len(runs), len(records))
		return nil
	}
	// Pair each run with the unused record of the same user that started
	// nearest after it, preferring one with the same arguments (sudo logs
	// them joined by spaces; records redact -e values).
	used := make([]bool, len(records))
	matched := make([]bool, len(runs))
	for _, exact := range []bool{true, false} {
		for j, run := range runs {
			best := -1
			for i, r := range records {
				d := r.Time.Sub(run.at)
				if matched[j] || used[i] || r.Caller != run.user || d < -2*time.Second || d > 10*time.Second ||
					exact && strings.Join(r.Argv, " ") != run.args {
					continue
				}
				if best < 0 || d.Abs() < records[best].Time.Sub(run.at).Abs() {
					best = i
				}
			}
			if best >= 0 {
				used[best], matched[j] = true, true
			}
		}
	}
	var unmatched []string
	for j, run := range runs {
		if !matched[j] {
			unmatched = append(unmatched, "run without a record: "+run.line)
		}
	}
	for i, r := range records {
		if !used[i] {
			unmatched = append(unmatched, fmt.Sprintf("record without a run: %s %s %q", r.Time.Format(time.TimeOnly), r.Caller, r.Argv))
		}
	}
	return fmt.Errorf("sudo ran userdocker %d times for the test users, but %d audit records were written (%s, %s):\n%s",
		len(runs), len(records), sudoLog, strings.Join(auditLogs, ", "), strings.Join(unmatched, "\n"))
}

// sudoRun is one userdocker command in the sudo log.
type sudoRun struct {
	at   time.Time
	user string
	args string // after the program, as sudo logs them: joined by spaces
	line string
}

// parseSudoLine reads "Nov 29 01:13:23 : USER : … COMMAND=/path/userdocker ARGS".
func parseSudoLine(line string) (sudoRun, bool) {
	if !strings.Contains(line, "COMMAND=") || !strings.Contains(line, "userdocker") ||
		strings.Contains(line, "command not allowed") || strings.Contains(line, "password") {
		return sudoRun{}, false
	}
	fields := strings.SplitN(line, " : ", 3)
	if len(fields) < 3 {
		return sudoRun{}, false
	}
	at, err := time.ParseInLocation("Jan _2 15:04:05", fields[0], time.Local)
	if err != nil {
		return sudoRun{}, false
	}
	now := time.Now()
	at = at.AddDate(now.Year(), 0, 0)
	_, cmd, _ := strings.Cut(line, "COMMAND=")
	_, args, _ := strings.Cut(cmd, " ")
	return sudoRun{at: at, user: fields[1], args: args, line: line}, true
}

func eachNewLine(path string, mark map[string]int64, fn func(string)) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(mark[path], io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	return sc.Err()
}
