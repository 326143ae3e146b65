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
	ExitCode   int       `json:"exit_code"`
	DurationMS float64   `json:"duration_ms"`
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
