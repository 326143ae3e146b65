package plan

import (
	"errors"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// ExecRequest is what a user asked of `docker exec`, as parsed from the
// command line.
type ExecRequest struct {
	User       string // -u, "" when not given
	Privileged bool
	Env        []string // -e, in order
	WorkingDir string
	Tty        bool
	Stdin      bool
	DetachKeys string
	Cmd        []string
}

// Exec judges an exec into one of the caller's containers and returns what
// the daemon gets. The command always runs as the caller (uid:gid; the
// container's added groups are the caller's, from run), whatever
// run.enforce_user says: -u may only name the caller. Never privileged;
// the variables that userdocker or the site set cannot be changed; -e and
// -w only when run allows them.
func Exec(req ExecRequest, pol *policy.Policy, c request.Caller) (container.ExecOptions, error) {
	var errs []error
	allowed := AllowedFlags(pol)
	want := strconv.FormatUint(uint64(c.UID), 10) + ":" + strconv.FormatUint(uint64(c.GID), 10)
	if req.Privileged {
		errs = append(errs, refusal.New("privileged", "--privileged is not allowed on this system"))
	}
	if req.User != "" && !sameUser(req.User, c.UID, c.GID, c.Name, c.Groups) {
		errs = append(errs, refusal.New("user", "--user %q is not allowed: exec runs as you (%s)", req.User, want))
	}
	if req.WorkingDir != "" && !allowed["workdir"] {
		errs = append(errs, refusal.New("args", "-w/--workdir is not allowed on this system"))
	}
	if len(req.Env) > 0 && !allowed["env"] {
		errs = append(errs, refusal.New("args", "-e/--env is not allowed on this system"))
	}
	seen := map[string]bool{}
	for _, kv := range req.Env {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case seen[k]:
		case isHookEnv(k):
			errs = append(errs, refusal.New("env", "-e %s is not allowed: userdocker sets it from the GPUs you were granted", k))
		case hasKey(pol.Run.Env, k):
			errs = append(errs, refusal.New("env", "-e %s is not allowed: this system sets it to %q", k, pol.Run.Env[k]))
		}
		seen[k] = true
	}
	if len(req.Cmd) == 0 {
		errs = append(errs, refusal.New("exec", "exec needs a command to run"))
	}
	if err := errors.Join(errs...); err != nil {
		return container.ExecOptions{}, err
	}
	return container.ExecOptions{
		User:        want,
		Tty:         req.Tty,
		AttachStdin: req.Stdin,
		DetachKeys:  req.DetachKeys,
		Env:         req.Env,
		WorkingDir:  req.WorkingDir,
		Cmd:         req.Cmd,
	}, nil
}
