package slurmhook

import (
	"strconv"
	"strings"
	"time"
)

// SlurmConfPaths are where slurm.conf usually is: the path of Slurm's own
// builds and of Debian since Slurm 20, and the one of older Debian
// packages.
var SlurmConfPaths = []string{"/etc/slurm/slurm.conf", "/etc/slurm-llnl/slurm.conf"}

// slurmInfinite16 is how Slurm writes "no limit" in a 16-bit setting
// (INFINITE16 - 1 = 65534 is what scontrol shows for PrologEpilogTimeout
// when it was never set).
const slurmInfinite16 = 65534

// DefaultSlurmdSpoolDir is slurmd's spool directory when slurm.conf sets
// no SlurmdSpoolDir (Slurm's built-in default, also Debian's).
const DefaultSlurmdSpoolDir = "/var/spool/slurmd"

// slurmConfValues returns every value text gives key, in order. Keys are
// matched without regard to case, as Slurm does; comments (#) are
// skipped, and Include lines are not followed.
func slurmConfValues(text, key string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, field := range strings.Fields(line) {
			k, v, found := strings.Cut(field, "=")
			if found && strings.EqualFold(k, key) {
				out = append(out, v)
			}
		}
	}
	return out
}

// PrologEpilogTimeout returns slurm.conf's PrologEpilogTimeout: how long
// slurmd lets an Epilog run before it kills it and drains the node. ok is
// false when text does not set one, or sets it to no limit (Slurm's
// default) or to something that is not a number of seconds.
func PrologEpilogTimeout(text string) (d time.Duration, ok bool) {
	for _, v := range slurmConfValues(text, "PrologEpilogTimeout") {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n >= slurmInfinite16 {
			d, ok = 0, false
			continue
		}
		d, ok = time.Duration(n)*time.Second, true // the last setting wins
	}
	return d, ok
}

// SlurmdSpoolDir returns slurmd's spool directory on node, whose short
// host name is host: slurm.conf's SlurmdSpoolDir (the last one), %n
// replaced by the node's name and %h by its host name, as slurmd does, or
// DefaultSlurmdSpoolDir. ok is false when the setting holds another %
// specifier or is not an absolute path: the directory is then unknown.
func SlurmdSpoolDir(text, node, host string) (dir string, ok bool) {
	dir = DefaultSlurmdSpoolDir
	if vs := slurmConfValues(text, "SlurmdSpoolDir"); len(vs) > 0 {
		dir = vs[len(vs)-1]
	}
	dir = strings.NewReplacer("%n", node, "%h", host).Replace(dir)
	if strings.Contains(dir, "%") || !strings.HasPrefix(dir, "/") {
		return "", false
	}
	return dir, true
}
