//go:build integration

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

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
// since mark with the audit records of callers other than root written
// since: every invocation must have written exactly one.
func checkAudit(mark map[string]int64) error {
	if _, err := os.Stat("/dev/log"); err == nil {
		fmt.Fprintln(os.Stderr, "integration: /dev/log exists: audit records of unconfigured runs go to syslog, not counted")
		return nil
	}
	runs := 0
	err := eachNewLine(sudoLog, mark, func(line string) {
		if strings.Contains(line, "COMMAND=") && strings.Contains(line, "userdocker") &&
			!strings.Contains(line, "command not allowed") && !strings.Contains(line, "password") {
			runs++
		}
	})
	if err != nil {
		return err
	}
	records := 0
	for _, f := range auditLogs {
		err := eachNewLine(f, mark, func(line string) {
			var r audit.Record
			if json.Unmarshal([]byte(line), &r) == nil && r.Program == "userdocker" && r.UID != nil && *r.UID != 0 {
				records++
			}
		})
		if err != nil {
			return err
		}
	}
	if runs != records {
		return fmt.Errorf("sudo ran userdocker %d times for the test users, but %d audit records were written (%s, %s)",
			runs, records, sudoLog, strings.Join(auditLogs, ", "))
	}
	fmt.Fprintf(os.Stderr, "integration: %d userdocker runs through sudo, %d audit records\n", runs, records)
	return nil
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
