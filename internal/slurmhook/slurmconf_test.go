package slurmhook

import (
	"testing"
	"time"
)

func TestPrologEpilogTimeout(t *testing.T) {
	tests := []struct {
		name string
		text string
		want time.Duration
		ok   bool
	}{
		{"not set", "SlurmctldHost=vm\nEpilog=/usr/local/sbin/ud-epilog\n", 0, false},
		{"set", "Epilog=/usr/local/sbin/ud-epilog\nPrologEpilogTimeout=120\n", 120 * time.Second, true},
		{"any case, blanks, comment after", "  prologepilogtimeout=90   # seconds\n", 90 * time.Second, true},
		{"commented out", "#PrologEpilogTimeout=90\n", 0, false},
		{"the last setting wins", "PrologEpilogTimeout=90\nPrologEpilogTimeout=45\n", 45 * time.Second, true},
		{"no limit, as scontrol shows it", "PrologEpilogTimeout=65534\n", 0, false},
		{"zero", "PrologEpilogTimeout=0\n", 0, false},
		{"not a number", "PrologEpilogTimeout=2min\n", 0, false},
		{"a longer key is another key", "PrologEpilogTimeoutX=10\n", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := PrologEpilogTimeout(tc.text)
			if got != tc.want || ok != tc.ok {
				t.Errorf("PrologEpilogTimeout() = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestSlurmdSpoolDir(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
		ok   bool
	}{
		{"not set: Slurm's default", "SlurmctldHost=vm\n", "/var/spool/slurmd", true},
		{"set", "SlurmdSpoolDir=/var/spool/slurm/d\n", "/var/spool/slurm/d", true},
		{"per node", "slurmdspooldir=/var/spool/slurmd/%n # one per slurmd\n", "/var/spool/slurmd/vm2", true},
		{"per host", "SlurmdSpoolDir=/local/%h/slurmd\n", "/local/node7/slurmd", true},
		{"the last setting wins", "SlurmdSpoolDir=/a\nSlurmdSpoolDir=/b\n", "/b", true},
		{"a specifier slurmd knows and this does not", "SlurmdSpoolDir=/var/spool/%x\n", "", false},
		{"relative", "SlurmdSpoolDir=spool\n", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SlurmdSpoolDir(tc.text, "vm2", "node7")
			if got != tc.want || ok != tc.ok {
				t.Errorf("SlurmdSpoolDir() = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
