package caller

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Process is what the kernel says about userdocker's process and the one
// that started it: facts a caller cannot forge, unlike SUDO_UID, which a
// sudoers rule with SETENV lets them set to anything.
type Process struct {
	// UID is the real uid of this process: 0 under sudo.
	UID int
	// ParentPID is the process that started this one: sudo (its front
	// end, or the monitor it keeps with use_pty), or, when sudo exec'd
	// userdocker without staying, whatever had started sudo.
	ParentPID int
	// ParentUID is the parent's real uid. sudo keeps the invoking user's
	// real uid in every process of its own (measured: with and without
	// use_pty, log_output, under srun), so for sudo it is the caller.
	ParentUID uint32
	// ParentName is the parent's command name (comm), as in "sudo".
	ParentName string
	// LoginUID is the session's audit login uid (/proc/self/loginuid), set
	// by pam_loginuid at login and inherited; only a process with
	// CAP_AUDIT_CONTROL can change it. LoginUIDSet is false when it is
	// unset (4294967295: no login session, e.g. under slurmd or in CI) or
	// the kernel has no audit support.
	LoginUID    uint32
	LoginUIDSet bool
}

// unsetLoginUID is the kernel's (uid_t)-1: no login uid.
const unsetLoginUID = 4294967295

// Proc is how ReadProcess reads the kernel; SystemProc in production.
type Proc struct {
	Getppid  func() int
	ReadFile func(path string) ([]byte, error)
}

// SystemProc reads the running kernel.
func SystemProc() Proc {
	return Proc{Getppid: os.Getppid, ReadFile: os.ReadFile}
}

// ErrParentGone means the process that started userdocker exited before
// userdocker could read it: the parent it would read is a subreaper, init
// or, by pid reuse, another process, so nothing it reads can be trusted.
// sudo waits for its command; a caller who kills their sudo to get here
// is refused (as an *IdentityError).
var ErrParentGone = errors.New("the process that started userdocker exited before it could be checked")

// ReadProcess gathers the facts of Process for a process with real uid
// uid. For a process that is not root it reads nothing else: it will
// not act for anyone.
//
// The parent is read by pid, and a pid can be reused once its process
// has been reaped. The parent is read between two getppid calls that
// must agree: a process's parent changes only when the parent dies (the
// child is reparented to a subreaper or init, whose pids were taken
// while the parent lived, so the same pid cannot come back as parent),
// so if both calls return the same pid, the parent was alive all along
// and /proc/<pid> was the parent.
func ReadProcess(uid int, p Proc) (Process, error) {
	f := Process{UID: uid}
	if uid != 0 {
		return f, nil
	}
	f.ParentPID = p.Getppid()
	status, err := p.ReadFile("/proc/" + strconv.Itoa(f.ParentPID) + "/status")
	if p.Getppid() != f.ParentPID {
		return Process{}, &IdentityError{Msg: ErrParentGone.Error(), Err: ErrParentGone}
	}
	if err != nil {
		return Process{}, fmt.Errorf("read the parent process: %w", err)
	}
	if f.ParentName, f.ParentUID, err = parseStatus(status); err != nil {
		return Process{}, fmt.Errorf("/proc/%d/status: %w", f.ParentPID, err)
	}
	f.LoginUID, f.LoginUIDSet = readLoginUID(p)
	return f, nil
}

// parseStatus reads the command name and the real uid from a
// /proc/<pid>/status text ("Name:\tsudo", "Uid:\t<real> <effective> <saved> <fs>").
func parseStatus(b []byte) (name string, realUID uint32, err error) {
	var haveUID bool
	for _, line := range bytes.Split(b, []byte("\n")) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(key) {
		case "Name":
			name = strings.TrimSpace(string(val))
		case "Uid":
			fields := strings.Fields(string(val))
			if len(fields) != 4 {
				return "", 0, fmt.Errorf("Uid line %q: want 4 uids", val)
			}
			u, err := strconv.ParseUint(fields[0], 10, 32)
			if err != nil {
				return "", 0, fmt.Errorf("Uid line %q: %w", val, err)
			}
			realUID, haveUID = uint32(u), true
		}
	}
	if !haveUID {
		return "", 0, errors.New("no Uid line")
	}
	return name, realUID, nil
}

// readLoginUID reads /proc/self/loginuid. Anything but a valid uid other
// than the unset value counts as unset: it only ever takes trust away.
func readLoginUID(p Proc) (uint32, bool) {
	b, err := p.ReadFile("/proc/self/loginuid")
	if err != nil {
		return 0, false
	}
	u, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil || u == unsetLoginUID {
		return 0, false
	}
	return uint32(u), true
}
