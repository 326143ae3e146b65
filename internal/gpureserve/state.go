package gpureserve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/userdocker/userdocker/internal/gpuuse"
)

// StateVersion is the state file format this code reads and writes.
const StateVersion = 1

// PendingGrace is how long a reservation may wait for its container while
// the process that made it still runs (it may be pulling the image). After
// that, or as soon as that process is gone, it is stale.
const PendingGrace = 10 * time.Minute

// Entry is one reserved GPU.
type Entry struct {
	UUID string `json:"uuid"`
	UID  uint32 `json:"uid"`
	User string `json:"user"`
	// Token ties the entries of one run together.
	Token string `json:"token"`
	// PID and PIDStart name the userdocker process that made the
	// reservation (PIDStart: its start time in clock ticks after boot, from
	// /proc/<pid>/stat, so that a reused PID is not mistaken for it).
	PID      int    `json:"pid"`
	PIDStart uint64 `json:"pid_start"`
	// Container is the full container ID, once created; "" until then.
	Container string    `json:"container"`
	Created   time.Time `json:"created"`
}

type stateFile struct {
	Version      int     `json:"version"`
	Reservations []Entry `json:"reservations"`
}

// ParseState decodes the state file; empty data is no reservations.
func ParseState(data []byte) ([]Entry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f stateFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if f.Version != StateVersion {
		return nil, fmt.Errorf("version %d, this userdocker reads version %d", f.Version, StateVersion)
	}
	return f.Reservations, nil
}

// MarshalState encodes entries as the state file.
func MarshalState(entries []Entry) ([]byte, error) {
	if entries == nil {
		entries = []Entry{}
	}
	return json.MarshalIndent(stateFile{Version: StateVersion, Reservations: entries}, "", "  ")
}

// Liveness are the facts that decide whether a reservation still stands.
type Liveness struct {
	Now time.Time
	// Active are the containers that exist and have not exited.
	Active map[string]bool
	// ProcStart holds the start time of each live process among the
	// entries' PIDs; a PID missing here has exited.
	ProcStart map[int]uint64
}

// Prune splits entries into those that still stand and the stale ones: a
// reservation whose container is no longer active, or that has no
// container while its process is gone or PendingGrace has passed.
func Prune(entries []Entry, l Liveness) (keep, stale []Entry) {
	for _, e := range entries {
		var ok bool
		if e.Container != "" {
			ok = l.Active[e.Container]
		} else {
			start, alive := l.ProcStart[e.PID]
			ok = alive && start == e.PIDStart && l.Now.Sub(e.Created) < PendingGrace
		}
		if ok {
			keep = append(keep, e)
		} else {
			stale = append(stale, e)
		}
	}
	return keep, stale
}

// Holds turns entries into gpuuse holds.
func Holds(entries []Entry) []gpuuse.Hold {
	var out []gpuuse.Hold
	for _, e := range entries {
		out = append(out, gpuuse.Hold{UUID: e.UUID, Kind: gpuuse.HeldByReservation,
			UID: strconv.FormatUint(uint64(e.UID), 10), User: e.User, Container: e.Container})
	}
	return out
}

// ProcStartTime returns a process's start time (clock ticks after boot)
// from the contents of its /proc/<pid>/stat. The command name may hold
// spaces and parentheses, so fields are counted after the last ')'.
func ProcStartTime(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in /proc/<pid>/stat")
	}
	fields := bytes.Fields(stat[i+1:])
	// Field 3 (state) is fields[0]; starttime is field 22.
	const startField = 22 - 3
	if len(fields) <= startField {
		return 0, fmt.Errorf("/proc/<pid>/stat has %d fields after the command name, want more than %d", len(fields), startField)
	}
	return strconv.ParseUint(string(fields[startField]), 10, 64)
}
