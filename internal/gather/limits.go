package gather

import (
	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/plan"
)

// rlimits maps the names --ulimit uses to the kernel's resources.
var rlimits = map[string]int{
	"core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU, "data": unix.RLIMIT_DATA, "fsize": unix.RLIMIT_FSIZE,
	"locks": unix.RLIMIT_LOCKS, "memlock": unix.RLIMIT_MEMLOCK, "msgqueue": unix.RLIMIT_MSGQUEUE,
	"nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS,
	"rtprio": unix.RLIMIT_RTPRIO, "rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING,
	"stack": unix.RLIMIT_STACK,
}

// HardLimits are this process's hard resource limits, by --ulimit name:
// under sudo, the caller's own (sudo hands them on to the command, after
// its PAM session, which may apply limits.conf entries for root). A
// process can lower its hard limits but never raise them without
// CAP_SYS_RESOURCE, so the caller cannot make these any higher than the
// site lets them be. A limit that cannot be read is left out: unknown.
func HardLimits() map[string]uint64 {
	out := map[string]uint64{}
	for name, res := range rlimits {
		var l unix.Rlimit
		if unix.Getrlimit(res, &l) == nil {
			out[name] = l.Max
			if l.Max == unix.RLIM_INFINITY {
				out[name] = plan.Unlimited
			}
		}
	}
	return out
}
