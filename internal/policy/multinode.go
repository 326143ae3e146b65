package policy

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/userdocker/userdocker/internal/launch"
)

// What a container of a multi-node job may reach beyond the defaults,
// each opt-in and only inside a job: the host's network and IPC
// namespaces, devices the admin lists (RDMA), and the launcher's
// variables (docs/admin-guide.md "Multi-node jobs").

// hostNamespaces are the values run.host_namespaces may hold. The host's
// pid, uts, user and cgroup namespaces are not offered: a container in
// them sees or changes more than a shell of the job's user on the node
// (docs/security-model.md).
var hostNamespaces = []string{"network", "ipc"}

// passEnvPattern checks a run.pass_env entry: a variable name, or a name
// prefix followed by *, within the variables ud-launch passes on
// (launch.IsLauncherVar). Whatever else a pattern could match never
// reaches userdocker, and must not look as if it did; so it also cannot
// match the loader's, sudo's or the NVIDIA hook's variables.
func passEnvPattern(_ *decodeCtx, s string) error {
	lit, star := strings.CutSuffix(s, "*")
	if lit == "" || strings.ContainsAny(lit, "*?[]=") {
		return fmt.Errorf("%q is not a variable name or a name prefix followed by *", s)
	}
	if !launch.IsLauncherVar(lit+"X") || !star && !launch.IsLauncherVar(lit) {
		return fmt.Errorf("%q is not among the launcher variables userdocker receives: names of %s", s, strings.Join(launch.LauncherPrefixes, ", "))
	}
	return nil
}

// gpuDevicePatterns are device paths that are GPUs (or parts of them):
// a job's GPUs come from ud-prolog's record alone, never from
// run.devices. userdocker also refuses, at run time, any matched device
// whose major number is a GPU driver's.
var gpuDevicePatterns = []string{"/dev/nvidia*", "/dev/nvidia*/*", "/dev/dri/*", "/dev/dri"}

// devicePattern checks a run.devices entry: an absolute, clean path under
// /dev, with shell glob characters (* ? [..]) only in its last element,
// that cannot name a GPU. It is expanded on the node at run time.
func devicePattern(_ *decodeCtx, s string) error {
	dir, last := path.Split(s)
	switch {
	case !strings.HasPrefix(s, "/dev/") || path.Clean(s) != s:
		return fmt.Errorf("%q is not a clean absolute path under /dev", s)
	case strings.ContainsAny(s, ":,\\") || strings.ContainsAny(dir, "*?["):
		return fmt.Errorf("%q: only the last element of a device path may hold * ? or [..], and no : , or \\", s)
	}
	if _, err := path.Match(last, ""); err != nil {
		return fmt.Errorf("%q is not a valid glob: %w", s, err)
	}
	for _, g := range gpuDevicePatterns {
		if matchesPrefix(g, s) {
			return fmt.Errorf("%q can name a GPU device: a job's GPUs are ud-prolog's to grant, not run.devices'", s)
		}
	}
	return nil
}

// matchesPrefix reports whether a device pattern s could name a path that
// the glob g matches: s matches g, or g's literal start is within s's
// literal start (so "/dev/nv*" and "/dev/*" are caught by "/dev/nvidia*").
func matchesPrefix(g, s string) bool {
	if ok, _ := path.Match(g, s); ok {
		return true
	}
	if path.Dir(g) != path.Dir(s) {
		return false
	}
	gl := literalPrefix(path.Base(g))
	sl := literalPrefix(path.Base(s))
	return strings.HasPrefix(gl, sl) || strings.HasPrefix(sl, gl)
}

// literalPrefix is the part of a glob before its first special character.
func literalPrefix(glob string) string {
	if i := strings.IndexAny(glob, "*?["); i >= 0 {
		return glob[:i]
	}
	return glob
}

// checkHostNamespaces refuses host namespaces in a policy that would let
// a container in them do more than the user's own shell on the node: a
// capability (NET_RAW sniffs, NET_ADMIN reconfigures, NET_BIND_SERVICE
// takes privileged ports, IPC_OWNER bypasses IPC permissions, …), set-uid
// programs without no-new-privileges, or another uid than the caller's.
func checkHostNamespaces(p *Policy, prov Provenance) error {
	if len(p.Run.HostNamespaces) == 0 {
		return nil
	}
	var missing []string
	if !p.Run.EnforceUser {
		missing = append(missing, "run.enforce_user = true")
	}
	if !p.Run.NoNewPrivileges {
		missing = append(missing, "run.no_new_privileges = true")
	}
	if !slices.ContainsFunc(p.Run.CapDrop, func(c string) bool { return strings.EqualFold(c, "ALL") }) {
		missing = append(missing, `"ALL" in run.cap_drop`)
	}
	if len(p.Run.CapAdd) > 0 {
		missing = append(missing, "run.cap_add = []")
	}
	if len(missing) == 0 {
		return nil
	}
	return errorAt(prov["run.host_namespaces"], "run.host_namespaces", nil,
		"%s needs %s: a container in the host's namespaces must be no more than its user's shell on the node",
		tomlArray(p.Run.HostNamespaces), strings.Join(missing, ", "))
}
