// Package launch is the front of userdocker that sudo starts (ud-launch,
// installed as userdocker). It is linked statically and without a C
// library, so that the dynamic loader never reads the environment sudo
// passes; it execs the real userdocker, which needs the C library (for
// the system's user database and NVML), with an environment of only the
// variables userdocker reads.
//
// Why: a sudoers rule with SETENV lets the caller set any variable, and
// `sudo LD_PRELOAD=/tmp/x.so userdocker` runs x.so as root in any
// dynamically linked program, before its main (measured with sudo
// 1.9.13p3 on this project's userdocker: the library's constructor ran
// with uid 0). sudo -E and env_keep did not pass LD_* there, but other
// versions and plugins may.
package launch

import "strings"

// UnsafeVar is the variable ud-launch sets to the comma-separated names
// of the variables it dropped that the dynamic loader or the C library
// would have acted on (LD_PRELOAD, …). Only ud-launch sets it: it drops
// every variable not in Passed, this one included, before it adds it.
// userdocker refuses to run when it is not empty: such a variable can
// reach it only through a sudoers rule that lets callers set variables.
const UnsafeVar = "USERDOCKER_UNSAFE_ENV"

// Passed are the only variables userdocker reads, and so the only ones
// it gets besides the launcher's (IsLauncherVar): the caller's identity
// as sudo states it (checked against the kernel) and the workstation
// mode's GPU request.
var Passed = []string{"SUDO_UID", "SUDO_GID", "SUDO_USER", "NV_GPU"}

// LauncherPrefixes begin the names of the variables that parallel
// launchers and their libraries give each task: Slurm's, the PMIx and
// PMI clients', Open MPI's, NCCL's and UCX's. ud-launch passes such
// variables on as they are, where a sudoers env_keep kept them; userdocker
// copies those that run.pass_env names into the container, as data for
// the container's programs. They decide nothing in userdocker: neither
// the caller (sudo and the kernel) nor the job (the cgroup) nor the GPUs
// (ud-prolog's record and the devices cgroup). The dynamic loader, the C
// library and Go's runtime read no variable of these names. ud-launch
// reads no configuration, so the class is fixed here.
var LauncherPrefixes = []string{"SLURM_", "PMIX_", "PMI_", "OMPI_", "NCCL_", "UCX_"}

// IsLauncherVar reports whether name is a launcher's variable: one of
// LauncherPrefixes followed by letters, digits and _ (Open MPI's and
// PMIx's MCA parameters are lower case: OMPI_MCA_btl_tcp_if_include).
func IsLauncherVar(name string) bool {
	for _, p := range LauncherPrefixes {
		rest, ok := strings.CutPrefix(name, p)
		if ok && rest != "" && strings.Trim(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == "" {
			return true
		}
	}
	return false
}

// unsafeNames are variables besides LD_* that the GNU C library honours
// in a program that is not setuid, and ignores in one that is (its
// unsecvars.h): loadable modules, tunables, and files it reads.
var unsafeNames = map[string]bool{
	"GCONV_PATH": true, "GETCONF_DIR": true, "GLIBC_TUNABLES": true, "HOSTALIASES": true,
	"LOCALDOMAIN": true, "LOCPATH": true, "MALLOC_TRACE": true, "NIS_PATH": true,
	"NLSPATH": true, "RESOLV_HOST_CONF": true, "RES_OPTIONS": true, "TMPDIR": true, "TZDIR": true,
}

// Env returns the environment userdocker is started with: the variables
// of environ named in Passed (the last one of a name wins, as in getenv),
// the launcher's variables (IsLauncherVar) in their order, and UnsafeVar
// when environ held variables the loader or the C library act on.
func Env(environ []string) []string {
	kept := map[string]string{}
	var launcher []string
	var unsafe []string
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			// not a variable: getenv and the loader skip it too
		case isPassed(name):
			kept[name] = val
		case IsLauncherVar(name):
			launcher = append(launcher, kv)
		case strings.HasPrefix(name, "LD_") || unsafeNames[name]:
			if !contains(unsafe, name) {
				unsafe = append(unsafe, name)
			}
		}
	}
	var env []string
	for _, name := range Passed {
		if val, ok := kept[name]; ok {
			env = append(env, name+"="+val)
		}
	}
	env = append(env, launcher...)
	if len(unsafe) > 0 {
		env = append(env, UnsafeVar+"="+strings.Join(unsafe, ","))
	}
	return env
}

func isPassed(name string) bool { return contains(Passed, name) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
