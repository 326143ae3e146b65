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
