// Package gpuuse says who uses which GPU: it maps the compute processes NVML
// reports to the Docker containers they run in (a process's cgroup names its
// container), and from there to the user and job the container's
// io.userdocker.* labels name; it adds the GPUs that Slurm jobs and
// workstation reservations hold, and renders the tables of `userdocker ps
// --gpu-used`, `--gpu-free` and `--gpu-mine`. Everything here is pure: the
// edge reads NVML, /proc, the state directory and Docker and hands the facts
// in as a Snapshot.
package gpuuse

import (
	"bytes"
	"strings"
)

// containerIDLen is the length of a full Docker container ID (hex SHA-256).
const containerIDLen = 64

// ContainerID returns the ID of the Docker container that a process runs
// in, from the contents of its /proc/<pid>/cgroup. It knows Docker's
// layouts with either cgroup driver, on cgroup v1 and v2:
//
//	12:memory:/docker/<id>                      v1, cgroupfs driver
//	12:memory:/system.slice/docker-<id>.scope   v1, systemd driver
//	0::/system.slice/docker-<id>.scope          v2, systemd driver
//	0::/docker/<id>/sub                         v2, cgroupfs, nested cgroup
//	12:memory:/userdocker/<node>/job_<n>/<id>   userdocker's parent cgroups
//	0::/userdocker/<host>/user_<uid>/<id>       (internal/cgparent), v1 and v2
//
// A process whose lines name no container, or name two different ones,
// is in none: attributing a GPU to the wrong container would show one
// user's work as another's.
func ContainerID(procCgroup []byte) (string, bool) {
	found := ""
	for _, line := range bytes.Split(procCgroup, []byte("\n")) {
		// hierarchy-ID:controller-list:cgroup-path; the path may hold ':'.
		parts := strings.SplitN(string(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		id, ok := containerInPath(parts[2])
		if !ok {
			continue
		}
		if found != "" && found != id {
			return "", false
		}
		found = id
	}
	return found, found != ""
}

// containerInPath finds the container ID in one cgroup path: a component
// "docker-<id>.scope", a component "<id>" right after one named "docker",
// or the one right below a parent cgroup of userdocker's
// (/userdocker/<node>/job_<n>/<id>, /userdocker/<host>/user_<uid>/<id>).
// Two different IDs in one path count as none.
func containerInPath(path string) (string, bool) {
	found := ""
	comps := strings.Split(path, "/")
	for i, c := range comps {
		id := ""
		if rest, ok := strings.CutPrefix(c, "docker-"); ok {
			id, _ = strings.CutSuffix(rest, ".scope")
			if id == rest {
				continue
			}
		} else if i > 0 && comps[i-1] == "docker" || i == 4 && comps[1] == "userdocker" && underParent(comps[3]) {
			id = c
		}
		if !isContainerID(id) {
			continue
		}
		if found != "" && found != id {
			return "", false
		}
		found = id
	}
	return found, found != ""
}

// isContainerID reports whether s is a full, lower-case hex container ID.
func isContainerID(s string) bool {
	if len(s) != containerIDLen {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// underParent reports whether the cgroup component c names one of
// userdocker's parent cgroups: job_<n> or user_<uid>.
func underParent(c string) bool {
	for _, prefix := range []string{"job_", "user_"} {
		if n, ok := strings.CutPrefix(c, prefix); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			return true
		}
	}
	return false
}
