// Package alloc knows which Slurm job a process belongs to and keeps the
// allocation records that ud-prolog writes and userdocker reads: the job's
// owner, GPUs (as UUIDs), CPUs and memory on this node (DESIGN.md §4); and
// the locks in the state directory that serialise what concurrent runs do
// to one job or one file. The hooks themselves are internal/slurmhook.
package alloc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotInJob means /proc/self/cgroup names no Slurm job: the caller runs
// outside any job on this node.
var ErrNotInJob = errors.New("not inside a Slurm job: /proc/self/cgroup names no Slurm job cgroup")

// NoUID is JobRef.UID when the cgroup layout carries no uid (cgroup v2).
const NoUID = -1

// JobRef names the Slurm job a process belongs to, as the kernel reports it
// in /proc/self/cgroup. Exactly one of ID and SLUID is set.
type JobRef struct {
	// ID is the numeric job id: cgroup v1, and cgroup v2 before Slurm 26.05
	// or with CgroupJobIdPaths=yes.
	ID string
	// SLUID is the job's Slurm unique id ("s" and 13 Crockford base32
	// characters), which names the job cgroup under cgroup v2 from Slurm
	// 26.05 on unless CgroupJobIdPaths=yes.
	SLUID string
	// UID is the job owner's uid from cgroup v1's uid_<n> level, or NoUID.
	UID int
	// Step is "0", "1", …, "batch", "extern" or "interactive"; "" when the
	// process sits in the job cgroup itself.
	Step string
}

// Key is the name under which the job's allocation record is filed: the
// job id, or the SLUID when the cgroup gives no job id.
func (r JobRef) Key() string {
	if r.ID != "" {
		return r.ID
	}
	return r.SLUID
}

// cgroupLine is one line of /proc/<pid>/cgroup: "hierarchy:controllers:path".
type cgroupLine struct {
	controllers string // "" for the cgroup v2 unified hierarchy
	unified     bool
	path        string
}

// jobCgroup is a line that places the process in a Slurm job.
type jobCgroup struct {
	line cgroupLine
	ref  JobRef
	// dir is the job's cgroup directory relative to the hierarchy root,
	// e.g. "/slurm/uid_2001/job_4".
	dir string
}

// JobFromCgroup finds the Slurm job in the contents of /proc/self/cgroup.
// Layouts (Slurm's, see DESIGN.md §4 and slurm.schedmd.com/cgroup_v2.html):
//
//	cgroup v1   /slurm[_<node>]/uid_<uid>/job_<id>[/step_<step>[/…]]
//	            anchored at the hierarchy root, in any v1 hierarchy;
//	cgroup v2   /<a>.slice/…/[<node>_]slurmstepd.scope/job_<id>[/step_<step>[/…]]
//	            and, from Slurm 26.05 unless CgroupJobIdPaths=yes,
//	            …/slurmstepd.scope/<SLUID>/step_<step>/…
//
// For v2 every level above the scope must be a systemd slice: a user cannot
// create those, while a user with a delegated subtree (systemd user session,
// rootless container) can create a look-alike "…/slurmstepd.scope/job_1"
// below their own user@<uid>.service.
//
// Lines in several hierarchies must agree on the job. It returns ErrNotInJob
// when no line names a job, and an error naming the line when a line is not
// of the "hierarchy:controllers:path" form.
func JobFromCgroup(procSelfCgroup []byte) (JobRef, error) {
	jcs, err := jobCgroups(procSelfCgroup)
	if err != nil {
		return JobRef{}, err
	}
	return jcs[0].ref, nil
}

// jobCgroups returns the lines that place the process in a job, all of
// which agree on the job; the first one carries the step if any does.
func jobCgroups(procSelfCgroup []byte) ([]jobCgroup, error) {
	lines, err := parseProcCgroup(procSelfCgroup)
	if err != nil {
		return nil, err
	}
	var found []jobCgroup
	for _, l := range lines {
		var jc jobCgroup
		var ok bool
		if l.unified {
			jc, ok = matchV2(l.path)
		} else {
			jc, ok = matchV1(l.path)
		}
		if !ok {
			continue
		}
		jc.line = l
		if len(found) > 0 {
			first := found[0].ref
			if jc.ref.ID != first.ID || jc.ref.SLUID != first.SLUID || jc.ref.UID != first.UID {
				return nil, fmt.Errorf("/proc/self/cgroup names two Slurm jobs: %s and %s", found[0].line.path, l.path)
			}
			if found[0].ref.Step == "" && jc.ref.Step != "" {
				found[0].ref.Step = jc.ref.Step
			}
		}
		found = append(found, jc)
	}
	if len(found) == 0 {
		return nil, ErrNotInJob
	}
	return found, nil
}

func parseProcCgroup(data []byte) ([]cgroupLine, error) {
	var lines []cgroupLine
	for i, raw := range strings.Split(string(data), "\n") {
		if raw == "" {
			continue
		}
		hier, rest, ok1 := strings.Cut(raw, ":")
		ctrls, path, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || !isDigits(hier) || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("/proc/self/cgroup line %d: %q is not hierarchy:controllers:/path", i+1, raw)
		}
		lines = append(lines, cgroupLine{
			controllers: ctrls,
			unified:     hier == "0" && ctrls == "",
			path:        path,
		})
	}
	return lines, nil
}

// matchV1 matches /slurm[_<node>]/uid_<uid>/job_<id>[/step_<step>…].
func matchV1(path string) (jobCgroup, bool) {
	c := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(c) < 3 || (c[0] != "slurm" && !strings.HasPrefix(c[0], "slurm_")) {
		return jobCgroup{}, false
	}
	uidStr, ok := strings.CutPrefix(c[1], "uid_")
	if !ok {
		return jobCgroup{}, false
	}
	uid, err := strconv.ParseUint(uidStr, 10, 32)
	if err != nil || !canonicalNumber(uidStr) {
		return jobCgroup{}, false
	}
	id, ok := strings.CutPrefix(c[2], "job_")
	if !ok || !ValidJobID(id) {
		return jobCgroup{}, false
	}
	return jobCgroup{
		ref: JobRef{ID: id, UID: int(uid), Step: stepOf(c[3:])},
		dir: "/" + strings.Join(c[:3], "/"),
	}, true
}

// matchV2 matches …slices…/[<node>_]slurmstepd.scope/(job_<id>|<SLUID>)[/step_<step>…].
func matchV2(path string) (jobCgroup, bool) {
	c := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, comp := range c {
		if comp != "slurmstepd.scope" && !strings.HasSuffix(comp, "_slurmstepd.scope") {
			if !strings.HasSuffix(comp, ".slice") {
				return jobCgroup{}, false
			}
			continue
		}
		if i == 0 || i+1 >= len(c) {
			return jobCgroup{}, false
		}
		ref := JobRef{UID: NoUID, Step: stepOf(c[i+2:])}
		if id, ok := strings.CutPrefix(c[i+1], "job_"); ok && ValidJobID(id) {
			ref.ID = id
		} else if ValidSLUID(c[i+1]) {
			ref.SLUID = c[i+1]
		} else {
			return jobCgroup{}, false
		}
		return jobCgroup{ref: ref, dir: "/" + strings.Join(c[:i+2], "/")}, true
	}
	return jobCgroup{}, false
}

// stepOf reads the step from the levels below the job cgroup.
func stepOf(below []string) string {
	if len(below) == 0 {
		return ""
	}
	s, ok := strings.CutPrefix(below[0], "step_")
	if !ok {
		return ""
	}
	switch s {
	case "batch", "extern", "interactive":
		return s
	}
	if isDigits(s) && canonicalNumber(s) {
		return s
	}
	return ""
}

// ValidJobID reports whether s is a Slurm job id as Slurm prints it:
// decimal, no sign or leading zero, not zero, fits in 32 bits.
func ValidJobID(s string) bool {
	if !isDigits(s) || !canonicalNumber(s) || s == "0" {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// ValidSLUID reports whether s is a SLUID as Slurm writes it: "s" and 13
// upper-case Crockford base32 digits (no I, L, O, U).
func ValidSLUID(s string) bool {
	if len(s) != 14 || s[0] != 's' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') || c == 'I' || c == 'L' || c == 'O' || c == 'U' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// canonicalNumber rejects leading zeros, so that a number has one spelling.
func canonicalNumber(s string) bool {
	return s == "0" || !strings.HasPrefix(s, "0")
}
