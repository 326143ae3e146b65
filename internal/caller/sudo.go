package caller

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"

	"github.com/userdocker/userdocker/internal/request"
)

// ErrNotRoot means userdocker was started without root: it must be called
// through sudo, and never falls back to something weaker.
var ErrNotRoot = errors.New("userdocker must be run through sudo: sudo userdocker ...")

// IdentityError is a caller identity that does not add up: sudo's
// variables claim one user and the kernel says another, or the claim
// cannot be checked. userdocker then acts for no one.
type IdentityError struct {
	Msg string
	// KernelUID is who the kernel says is calling (the real uid of the
	// sudo that started userdocker), for the audit record; nil when the
	// kernel cannot say.
	KernelUID *uint32
	// Err is the cause, if there is one to test for (ErrParentGone).
	Err error
}

func (e *IdentityError) Error() string { return e.Msg }

func (e *IdentityError) Unwrap() error { return e.Err }

// fixSudoers ends the messages of identities that only a sudoers rule
// letting callers set variables can produce.
const fixSudoers = "the sudoers rule for userdocker must not let callers set variables (SETENV, env_keep of SUDO_*, sudo -E); tell your admin"

// Env is the part of the process environment identity may come from: only
// what sudo itself sets. lookup is os.LookupEnv in production.
type Env func(key string) (string, bool)

// Lookup is the system's user database (os/user in production).
type Lookup interface {
	LookupId(uid string) (*user.User, error)
	GroupIds(u *user.User) ([]string, error)
	LookupGroupId(gid string) (*user.Group, error)
}

// FromSudo establishes the caller from what the kernel says about the
// process (p, from ReadProcess) and sudo's variables, and refuses with an
// *IdentityError when they disagree. SUDO_UID is a variable: a sudoers
// rule with SETENV lets the caller set it, so it is believed only where
// the kernel confirms it (DESIGN.md §3.1):
//
//   - Not root: ErrNotRoot.
//   - SUDO_UID set but empty or not a uid: refused.
//   - The parent runs with a real uid other than root: it is sudo (or,
//     when sudo exec'd userdocker without staying, the caller's own
//     process that ran sudo), and its real uid is the caller's. SUDO_UID
//     must be that uid.
//   - The parent is a sudo run by root: the caller is root; a SUDO_UID
//     other than 0 is refused.
//   - The parent is another root process and SUDO_UID is unset: root
//     called userdocker directly; the caller is root.
//   - The parent is another root process and SUDO_UID is set: a root shell
//     that sudo -i/-s opened (SUDO_UID still names who ran it), or a sudo
//     that exec'd userdocker directly under a root process (slurmstepd,
//     su) or was killed so that userdocker was reparented. The kernel's
//     only word on the caller here is the session's login uid: SUDO_UID
//     must equal it, and without one it is refused. Acting as that user,
//     not as root, is right for all three: a root shell may run sudo
//     userdocker to act as root.
//
// The user database, not SUDO_USER or SUDO_GID, then decides name, home,
// primary group and groups; SUDO_USER, when SUDO_UID is used, must name
// the same user.
func FromSudo(p Process, env Env, db Lookup) (request.Caller, error) {
	if p.UID != 0 {
		return request.Caller{}, ErrNotRoot
	}
	claimed, hasClaim, err := sudoUID(env, p)
	if err != nil {
		return request.Caller{}, err
	}
	var uid uint32
	switch {
	case p.ParentUID != 0:
		parent := p.ParentUID
		switch {
		case !hasClaim:
			return request.Caller{}, &IdentityError{KernelUID: &parent, Msg: fmt.Sprintf(
				"userdocker was started as root by uid %d (%s) without sudo's SUDO_UID: call it as sudo userdocker ...", parent, p.ParentName)}
		case claimed != parent:
			return request.Caller{}, &IdentityError{KernelUID: &parent, Msg: fmt.Sprintf(
				"SUDO_UID=%d, but uid %d ran sudo: %s", claimed, parent, fixSudoers)}
		}
		uid = parent
	case p.ParentName == "sudo":
		root := uint32(0)
		if hasClaim && claimed != 0 {
			return request.Caller{}, &IdentityError{KernelUID: &root, Msg: fmt.Sprintf(
				"SUDO_UID=%d, but root ran sudo: %s", claimed, fixSudoers)}
		}
	case !hasClaim:
		// root, directly
	case !p.LoginUIDSet:
		return request.Caller{}, &IdentityError{Msg: fmt.Sprintf(
			"cannot check SUDO_UID=%d: userdocker was started by %s (pid %d, root), not by sudo, and this session has no login uid; call it through sudo, or as root without SUDO_UID",
			claimed, p.ParentName, p.ParentPID)}
	case p.LoginUID != claimed:
		login := p.LoginUID
		return request.Caller{}, &IdentityError{KernelUID: &login, Msg: fmt.Sprintf(
			"SUDO_UID=%d, but this session's login uid is %d (userdocker was started by %s, pid %d, not by sudo): %s",
			claimed, login, p.ParentName, p.ParentPID, fixSudoers)}
	default:
		uid = claimed
	}
	c, err := ByUID(uid, db)
	if err != nil {
		return request.Caller{}, fmt.Errorf("calling user: %w", err)
	}
	if name, ok := env("SUDO_USER"); ok && hasClaim && name != c.Name {
		return request.Caller{}, &IdentityError{KernelUID: &uid, Msg: fmt.Sprintf(
			"SUDO_USER %q does not match uid %d (%s): %s", name, uid, c.Name, fixSudoers)}
	}
	return c, nil
}

// sudoUID reads SUDO_UID: unset, or a uid written as sudo writes it.
func sudoUID(env Env, p Process) (uid uint32, ok bool, err error) {
	s, ok := env("SUDO_UID")
	if !ok {
		return 0, false, nil
	}
	var kernel *uint32
	if p.ParentUID != 0 {
		parent := p.ParentUID
		kernel = &parent
	}
	n, perr := strconv.ParseUint(s, 10, 32)
	switch {
	case s == "":
		return 0, false, &IdentityError{KernelUID: kernel, Msg: "SUDO_UID is set but empty: " + fixSudoers}
	case perr != nil || strconv.FormatUint(n, 10) != s || n == unsetLoginUID:
		return 0, false, &IdentityError{KernelUID: kernel, Msg: fmt.Sprintf("SUDO_UID %q is not a uid: %s", s, fixSudoers)}
	}
	return uint32(n), true, nil
}

// ByName looks up a user for admin commands (config explain --user NAME).
func ByName(name string, db interface {
	Lookup
	Lookup(string) (*user.User, error)
}) (request.Caller, error) {
	u, err := db.Lookup(name)
	if err != nil {
		return request.Caller{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	return fromUser(u, db)
}

// ByUID looks up a user by uid, for the audit record of a refused call.
func ByUID(uid uint32, db Lookup) (request.Caller, error) {
	u, err := db.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return request.Caller{}, fmt.Errorf("look up uid %d: %w", uid, err)
	}
	return fromUser(u, db)
}

func fromUser(u *user.User, db Lookup) (request.Caller, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return request.Caller{}, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return request.Caller{}, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	c := request.Caller{UID: uint32(uid), GID: uint32(gid), Name: u.Username, Home: u.HomeDir, Root: uid == 0}
	ids, err := db.GroupIds(u)
	if err != nil {
		return request.Caller{}, fmt.Errorf("groups of %s: %w", u.Username, err)
	}
	ids = append([]string{u.Gid}, ids...)
	seen := map[uint32]bool{}
	for _, s := range ids {
		g, err := strconv.ParseUint(s, 10, 32)
		if err != nil || seen[uint32(g)] {
			continue
		}
		seen[uint32(g)] = true
		c.Groups = append(c.Groups, uint32(g))
		name := ""
		if grp, err := db.LookupGroupId(s); err == nil {
			name = grp.Name
		}
		c.GroupNames = append(c.GroupNames, name)
	}
	return c, nil
}

// System is the system's user database through os/user.
type System struct{}

// LookupId implements Lookup.
func (System) LookupId(uid string) (*user.User, error) { return user.LookupId(uid) }

// Lookup finds a user by name.
func (System) Lookup(name string) (*user.User, error) { return user.Lookup(name) }

// GroupIds implements Lookup.
func (System) GroupIds(u *user.User) ([]string, error) { return u.GroupIds() }

// LookupGroupId implements Lookup.
func (System) LookupGroupId(gid string) (*user.Group, error) { return user.LookupGroupId(gid) }

// LookupGroup finds a group by name.
func (System) LookupGroup(name string) (*user.Group, error) { return user.LookupGroup(name) }
