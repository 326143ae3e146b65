package alloc

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ListRecords reads every allocation record in dir, whoever's job it is,
// for views of the whole node (`userdocker ps --gpu-free`). Each record is
// judged as ReadRecord judges it, except that its owner is not compared
// with a caller; one that cannot be trusted fails the whole list, since
// skipping it would show its job's GPUs as free. A record filed under both
// the job id and the SLUID is returned once. A missing dir has no records.
func ListRecords(dir string) ([]Record, error) {
	paths, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf(RecordFilePattern, "*")))
	if err != nil {
		return nil, fmt.Errorf("list allocation records: %w", err)
	}
	var out []Record
	seen := map[string]bool{}
	for _, p := range paths {
		key := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "job-"), ".json")
		facts, data, err := readFacts(dir, p)
		if err != nil {
			return nil, &RecordError{Path: p, Err: err}
		}
		facts.Key = key
		if err := checkFacts(facts); err != nil {
			return nil, err
		}
		r, err := ParseRecord(data)
		if err != nil {
			return nil, &RecordError{Path: p, Err: err}
		}
		if err := Validate(r, facts, r.UID); err != nil {
			return nil, err
		}
		if !seen[r.JobID] {
			seen[r.JobID] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// EnsureStateDir creates dir (0755) if missing and checks that it is owned
// by root and writable by nobody else, as every state file userdocker
// trusts must live in such a directory.
func EnsureStateDir(dir string) error {
	return ensureStateDir(dir)
}
