package caller

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
)

// ErrNotRoot means userdocker was started without root: it must be called
// through sudo, and never falls back to something weaker.
var ErrNotRoot = errors.New("userdocker must be run through sudo: sudo userdocker ...")

// Env is the part of the process environment identity may come from: only
// what sudo itself sets. lookup is os.LookupEnv in production.
type Env func(key string) (string, bool)

// Lookup is the system's user database (os/user in production).
type Lookup interface {
	LookupId(uid string) (*user.User, error)
	GroupIds(u *user.User) ([]string, error)
	LookupGroupId(gid string) (*user.Group, error)
}

// FromSudo establishes the caller from the process's real uid and sudo's
// variables. As root: SUDO_UID names the caller; root without sudo is the
// caller root. Not root: ErrNotRoot. The user database, not SUDO_USER or
// SUDO_GID, decides name, home, primary group and groups: SUDO_USER is only
// checked against it.
func FromSudo(uid int, env Env, db Lookup) (Caller, error) {
	if uid != 0 {
		return Caller{}, ErrNotRoot
	}
	id := "0"
	if s, ok := env("SUDO_UID"); ok && s != "" {
		if _, err := strconv.ParseUint(s, 10, 32); err != nil {
			return Caller{}, fmt.Errorf("SUDO_UID %q is not a number", s)
		}
		id = s
	}
	u, err := db.LookupId(id)
	if err != nil {
		return Caller{}, fmt.Errorf("look up calling user %s: %w", id, err)
	}
	if name, ok := env("SUDO_USER"); ok && id != "0" && name != u.Username {
		return Caller{}, fmt.Errorf("SUDO_USER %q does not match uid %s (%s)", name, id, u.Username)
	}
	return fromUser(u, db)
}

// ByName looks up a user for admin commands (config explain --user NAME).
func ByName(name string, db interface {
	Lookup
	Lookup(string) (*user.User, error)
}) (Caller, error) {
	u, err := db.Lookup(name)
	if err != nil {
		return Caller{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	return fromUser(u, db)
}

func fromUser(u *user.User, db Lookup) (Caller, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return Caller{}, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return Caller{}, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	c := Caller{UID: uint32(uid), GID: uint32(gid), Name: u.Username, Home: u.HomeDir, Root: uid == 0}
	ids, err := db.GroupIds(u)
	if err != nil {
		return Caller{}, fmt.Errorf("groups of %s: %w", u.Username, err)
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
