package caller

import (
	"errors"
	"fmt"
	"os/user"
	"reflect"
	"testing"

	"github.com/userdocker/userdocker/internal/request"
)

// users is a fake user database: root, an admin, alice and bob.
type users struct{}

var userDB = map[string]*user.User{
	"0":    {Uid: "0", Gid: "0", Username: "root", HomeDir: "/root"},
	"1000": {Uid: "1000", Gid: "1000", Username: "admin", HomeDir: "/home/admin"},
	"2001": {Uid: "2001", Gid: "2001", Username: "alice", HomeDir: "/home/alice"},
	"2002": {Uid: "2002", Gid: "2002", Username: "bob", HomeDir: "/home/bob"},
}

var groupDB = map[string]string{"0": "root", "1000": "admin", "2001": "alice", "2002": "bob", "2100": "gpu"}

func (users) LookupId(uid string) (*user.User, error) {
	if u, ok := userDB[uid]; ok {
		return u, nil
	}
	return nil, user.UnknownUserIdError(0)
}

func (users) Lookup(name string) (*user.User, error) {
	for _, u := range userDB {
		if u.Username == name {
			return u, nil
		}
	}
	return nil, user.UnknownUserError(name)
}

func (users) GroupIds(u *user.User) ([]string, error) {
	if u.Username == "alice" {
		return []string{"2001", "2100", "x"}, nil
	}
	return []string{u.Gid}, nil
}

func (users) LookupGroupId(gid string) (*user.Group, error) {
	if n, ok := groupDB[gid]; ok {
		return &user.Group{Gid: gid, Name: n}, nil
	}
	return nil, user.UnknownGroupIdError(gid)
}

func envOf(vars ...string) Env {
	m := map[string]string{}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var (
	alice = request.Caller{UID: 2001, GID: 2001, Name: "alice", Home: "/home/alice", Groups: []uint32{2001, 2100}, GroupNames: []string{"alice", "gpu"}}
	root  = request.Caller{UID: 0, GID: 0, Name: "root", Home: "/root", Groups: []uint32{0}, GroupNames: []string{"root"}, Root: true}
)

// Processes as measured on the test machine (sudo 1.9.13p3).
var (
	// sudo as alice, with or without use_pty: the parent is a "sudo" with
	// alice's real uid, no login session.
	aliceSudo = Process{UID: 0, ParentPID: 100, ParentUID: 2001, ParentName: "sudo"}
	// alice's own shell, when sudo exec'd userdocker without staying.
	aliceShell = Process{UID: 0, ParentPID: 100, ParentUID: 2001, ParentName: "bash"}
	// sudo run by root (a root shell running sudo userdocker).
	rootSudo = Process{UID: 0, ParentPID: 100, ParentUID: 0, ParentName: "sudo"}
	// a root shell running userdocker directly, no login uid.
	rootShell = Process{UID: 0, ParentPID: 100, ParentUID: 0, ParentName: "bash"}
	// a root process that is not sudo, in admin's login session: a root
	// shell from admin's sudo -i, or a sudo that exec'd userdocker under a
	// root process, or one whose sudo was killed.
	rootShellOfAdmin = Process{UID: 0, ParentPID: 100, ParentUID: 0, ParentName: "bash", LoginUID: 1000, LoginUIDSet: true}
	rootShellOfAlice = Process{UID: 0, ParentPID: 1, ParentUID: 0, ParentName: "systemd", LoginUID: 2001, LoginUIDSet: true}
	slurmstepd       = Process{UID: 0, ParentPID: 100, ParentUID: 0, ParentName: "slurmstepd"}
)

func TestFromSudo(t *testing.T) {
	tests := []struct {
		name string
		proc Process
		env  Env
		want request.Caller
		// err is the refusal; kernel the uid it names (-1: none).
		err    string
		kernel int
	}{
		{name: "alice through sudo", proc: aliceSudo,
			env: envOf("SUDO_UID", "2001", "SUDO_GID", "2001", "SUDO_USER", "alice"), want: alice},
		{name: "SUDO_GID is not used", proc: aliceSudo,
			env: envOf("SUDO_UID", "2001", "SUDO_GID", "0", "SUDO_USER", "alice"), want: alice},
		{name: "SUDO_USER may be missing", proc: aliceSudo, env: envOf("SUDO_UID", "2001"), want: alice},
		{name: "sudo exec'd directly from alice's shell", proc: aliceShell,
			env: envOf("SUDO_UID", "2001", "SUDO_USER", "alice"), want: alice},
		{name: "alice in her login session", proc: Process{UID: 0, ParentPID: 9, ParentUID: 2001, ParentName: "sudo", LoginUID: 2001, LoginUIDSet: true},
			env: envOf("SUDO_UID", "2001", "SUDO_USER", "alice"), want: alice},
		{name: "alice after su from admin's login session", proc: Process{UID: 0, ParentPID: 9, ParentUID: 2001, ParentName: "sudo", LoginUID: 1000, LoginUIDSet: true},
			env: envOf("SUDO_UID", "2001", "SUDO_USER", "alice"), want: alice},
		{name: "root through sudo", proc: rootSudo, env: envOf("SUDO_UID", "0", "SUDO_USER", "root"), want: root},
		{name: "root through sudo without SUDO_UID", proc: rootSudo, env: envOf(), want: root},
		{name: "root directly", proc: rootShell, env: envOf(), want: root},
		{name: "root directly, SUDO_USER left over", proc: rootShell, env: envOf("SUDO_USER", "alice"), want: root},
		{name: "root directly under slurmstepd", proc: slurmstepd, env: envOf(), want: root},
		{name: "admin's sudo -i shell acts as admin", proc: rootShellOfAdmin,
			env:  envOf("SUDO_UID", "1000", "SUDO_USER", "admin"),
			want: request.Caller{UID: 1000, GID: 1000, Name: "admin", Home: "/home/admin", Groups: []uint32{1000}, GroupNames: []string{"admin"}}},
		{name: "alice reparented, her own SUDO_UID", proc: rootShellOfAlice,
			env: envOf("SUDO_UID", "2001", "SUDO_USER", "alice"), want: alice},

		// refusals
		{name: "not root", proc: Process{UID: 2001}, env: envOf("SUDO_UID", "2001"),
			err: ErrNotRoot.Error(), kernel: -2},
		{name: "forged SUDO_UID of bob", proc: aliceSudo,
			env: envOf("SUDO_UID", "2002", "SUDO_USER", "bob"),
			err: "SUDO_UID=2002, but uid 2001 ran sudo: " + fixSudoers, kernel: 2001},
		{name: "forged SUDO_UID=0", proc: aliceSudo, env: envOf("SUDO_UID", "0", "SUDO_USER", "root"),
			err: "SUDO_UID=0, but uid 2001 ran sudo: " + fixSudoers, kernel: 2001},
		{name: "empty SUDO_UID", proc: aliceSudo, env: envOf("SUDO_UID", "", "SUDO_USER", "alice"),
			err: "SUDO_UID is set but empty: " + fixSudoers, kernel: 2001},
		{name: "empty SUDO_UID as root", proc: rootShell, env: envOf("SUDO_UID", ""),
			err: "SUDO_UID is set but empty: " + fixSudoers, kernel: -1},
		{name: "SUDO_UID not a number", proc: aliceSudo, env: envOf("SUDO_UID", "2001 "),
			err: `SUDO_UID "2001 " is not a uid: ` + fixSudoers, kernel: 2001},
		{name: "SUDO_UID with a sign", proc: aliceSudo, env: envOf("SUDO_UID", "+2001"),
			err: `SUDO_UID "+2001" is not a uid: ` + fixSudoers, kernel: 2001},
		{name: "SUDO_UID with a leading zero", proc: aliceSudo, env: envOf("SUDO_UID", "02001"),
			err: `SUDO_UID "02001" is not a uid: ` + fixSudoers, kernel: 2001},
		{name: "SUDO_UID 0 in another spelling", proc: aliceSudo, env: envOf("SUDO_UID", "00"),
			err: `SUDO_UID "00" is not a uid: ` + fixSudoers, kernel: 2001},
		{name: "SUDO_UID too large", proc: aliceSudo, env: envOf("SUDO_UID", "4294967296"),
			err: `SUDO_UID "4294967296" is not a uid: ` + fixSudoers, kernel: 2001},
		{name: "SUDO_UID (uid_t)-1", proc: aliceSudo, env: envOf("SUDO_UID", "4294967295"),
			err: `SUDO_UID "4294967295" is not a uid: ` + fixSudoers, kernel: 2001},
		{name: "SUDO_USER of bob", proc: aliceSudo, env: envOf("SUDO_UID", "2001", "SUDO_USER", "bob"),
			err: `SUDO_USER "bob" does not match uid 2001 (alice): ` + fixSudoers, kernel: 2001},
		{name: "SUDO_USER empty", proc: aliceSudo, env: envOf("SUDO_UID", "2001", "SUDO_USER", ""),
			err: `SUDO_USER "" does not match uid 2001 (alice): ` + fixSudoers, kernel: 2001},
		{name: "SUDO_USER root as root", proc: rootSudo, env: envOf("SUDO_UID", "0", "SUDO_USER", "alice"),
			err: `SUDO_USER "alice" does not match uid 0 (root): ` + fixSudoers, kernel: 0},
		{name: "a root process started by alice without sudo", proc: aliceShell, env: envOf(),
			err: "userdocker was started as root by uid 2001 (bash) without sudo's SUDO_UID: call it as sudo userdocker ...", kernel: 2001},
		{name: "root's sudo, SUDO_UID of alice", proc: rootSudo, env: envOf("SUDO_UID", "2001"),
			err: "SUDO_UID=2001, but root ran sudo: " + fixSudoers, kernel: 0},
		{name: "not sudo, no login uid", proc: slurmstepd, env: envOf("SUDO_UID", "2002", "SUDO_USER", "bob"),
			err:    "cannot check SUDO_UID=2002: userdocker was started by slurmstepd (pid 100, root), not by sudo, and this session has no login uid; call it through sudo, or as root without SUDO_UID",
			kernel: -1},
		{name: "not sudo, no login uid, SUDO_UID=0", proc: slurmstepd, env: envOf("SUDO_UID", "0"),
			err:    "cannot check SUDO_UID=0: userdocker was started by slurmstepd (pid 100, root), not by sudo, and this session has no login uid; call it through sudo, or as root without SUDO_UID",
			kernel: -1},
		{name: "alice reparented, SUDO_UID of bob", proc: rootShellOfAlice, env: envOf("SUDO_UID", "2002", "SUDO_USER", "bob"),
			err:    "SUDO_UID=2002, but this session's login uid is 2001 (userdocker was started by systemd, pid 1, not by sudo): " + fixSudoers,
			kernel: 2001},
		{name: "alice reparented, SUDO_UID=0", proc: rootShellOfAlice, env: envOf("SUDO_UID", "0"),
			err:    "SUDO_UID=0, but this session's login uid is 2001 (userdocker was started by systemd, pid 1, not by sudo): " + fixSudoers,
			kernel: 2001},
		{name: "unknown uid", proc: Process{UID: 0, ParentPID: 7, ParentUID: 3000, ParentName: "sudo"}, env: envOf("SUDO_UID", "3000"),
			err: "calling user: look up uid 3000: user: unknown userid 0", kernel: -2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromSudo(tc.proc, tc.env, users{})
			if tc.err == "" {
				if err != nil {
					t.Fatalf("FromSudo: %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("caller = %+v\nwant     %+v", got, tc.want)
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Fatalf("error = %v\nwant    %s", err, tc.err)
			}
			var ie *IdentityError
			switch {
			case tc.kernel == -2:
				if errors.As(err, &ie) {
					t.Errorf("%v is an identity refusal; want another error", err)
				}
			case !errors.As(err, &ie):
				t.Errorf("%v is not an *IdentityError", err)
			case tc.kernel == -1 && ie.KernelUID != nil:
				t.Errorf("KernelUID = %d, want none", *ie.KernelUID)
			case tc.kernel >= 0 && (ie.KernelUID == nil || *ie.KernelUID != uint32(tc.kernel)):
				t.Errorf("KernelUID = %v, want %d", fmtUID(ie.KernelUID), tc.kernel)
			}
		})
	}
}

func fmtUID(u *uint32) string {
	if u == nil {
		return "none"
	}
	return fmt.Sprint(*u)
}

func TestByName(t *testing.T) {
	got, err := ByName("alice", users{})
	if err != nil || !reflect.DeepEqual(got, alice) {
		t.Errorf("ByName(alice) = %+v, %v", got, err)
	}
	if _, err := ByName("mallory", users{}); err == nil || err.Error() != "look up user mallory: user: unknown user mallory" {
		t.Errorf("ByName(mallory) error = %v", err)
	}
}
