// Package audit writes one structured record per userdocker, ud-prolog or
// ud-epilog invocation: who asked for what, and what was decided. Records
// never carry the contents of env or label files, only their names.
package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"strconv"
	"sync"
	"time"
)

// Record is one audit entry. Decision is "allowed", "refused" or "error".
type Record struct {
	Time       time.Time `json:"time"`
	Program    string    `json:"program"`
	Caller     string    `json:"caller,omitempty"`
	UID        *uint32   `json:"uid,omitempty"`
	Job        string    `json:"job,omitempty"`
	Node       string    `json:"node,omitempty"`
	Subcommand string    `json:"subcommand,omitempty"`
	Argv       []string  `json:"argv"`
	Decision   string    `json:"decision"`
	Reasons    []string  `json:"reasons,omitempty"`
	Containers []string  `json:"containers,omitempty"`
	// PeakMemoryBytes and CPUSeconds are what a job's containers on the
	// node used together (ud-epilog, from the job's parent cgroup).
	PeakMemoryBytes *int64   `json:"peak_memory_bytes,omitempty"`
	CPUSeconds      *float64 `json:"cpu_seconds,omitempty"`
	ExitCode        int      `json:"exit_code"`
	DurationMS      float64  `json:"duration_ms"`
}

// Decisions.
const (
	Allowed = "allowed"
	Refused = "refused"
	Failed  = "error"
)

// Sink receives records.
type Sink interface {
	Write(Record) error
}

// Open returns the sink for the configured destination: "syslog" writes to
// the local syslog (facility authpriv) when /dev/log exists and otherwise
// falls back to fallback; an absolute path appends JSON lines to that file.
func Open(dest, fallback string) (Sink, error) {
	if dest == "syslog" {
		if _, err := os.Stat("/dev/log"); err == nil {
			w, err := syslog.New(syslog.LOG_AUTHPRIV|syslog.LOG_INFO, "userdocker")
			if err == nil {
				return &lineSink{w: w}, nil
			}
		}
		dest = fallback
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", dest, err)
	}
	return &lineSink{w: f}, nil
}

// FallbackFile is where records go when syslog is configured but /dev/log
// does not exist.
const FallbackFile = "/var/log/userdocker-audit.log"

type lineSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *lineSink) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.w.Write(append(b, '\n'))
	return err
}

// Discard drops records (for tests).
type Discard struct{}

// Write implements Sink.
func (Discard) Write(Record) error { return nil }

// hookRecord starts the record of one ud-prolog or ud-epilog run from
// slurmd's environment: the job, its owner and the node.
func hookRecord(program string, args []string, env map[string]string, start time.Time) Record {
	r := Record{
		Time:    start,
		Program: program,
		Caller:  env["SLURM_JOB_USER"],
		Job:     env["SLURM_JOB_ID"],
		Node:    env["SLURMD_NODENAME"],
		Argv:    args,
	}
	if r.Node == "" { // not run by slurmd
		r.Node, _ = os.Hostname()
	}
	if uid, err := strconv.ParseUint(env["SLURM_JOB_UID"], 10, 32); err == nil {
		u := uint32(uid)
		r.UID = &u
	}
	return r
}

// finish records the outcome of a hook run: allowed with exit code 0, or
// the error as the reason with exit code 1.
func (r *Record) finish(err error, end time.Time) {
	r.DurationMS = float64(end.Sub(r.Time).Microseconds()) / 1000
	r.Decision, r.ExitCode = Allowed, 0
	if err != nil {
		r.Decision, r.ExitCode = Failed, 1
		r.Reasons = []string{err.Error()}
	}
}

// Log writes r to dest as Open understands it.
func Log(dest string, r Record) error {
	sink, err := Open(dest, FallbackFile)
	if err != nil {
		return err
	}
	return sink.Write(r)
}

// Hook runs one ud-prolog or ud-epilog invocation and writes its record:
// run may add to the record (the containers it removed), and returns where
// the record goes ([audit] log) and the hook's error, which Hook returns. A record that cannot be written is reported on
// stderr, and does not fail the hook: a failed hook drains the node.
func Hook(program string, args []string, env map[string]string, stderr io.Writer, run func(rec *Record) (dest string, err error)) error {
	rec := hookRecord(program, args, env, time.Now())
	dest, err := run(&rec)
	rec.finish(err, time.Now())
	if aerr := Log(dest, rec); aerr != nil {
		fmt.Fprintf(stderr, "%s: job %s: audit: %v\n", program, rec.Job, aerr)
	}
	return err
}
