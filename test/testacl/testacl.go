// Package testacl gives a user more rights on a file through a POSIX ACL,
// for tests that check that userdocker asks the kernel rather than reading
// mode bits. It writes the system.posix_acl_access attribute itself, as
// setfacl does, so that unit tests need no acl package.
package testacl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// The ACL entry tags and the attribute's version, from the kernel's
// include/uapi/linux/posix_acl.h and posix_acl_xattr.h.
const (
	version   = 2
	tagUser   = 0x02
	tagUserOb = 0x01
	tagGroup  = 0x04
	tagMask   = 0x10
	tagOther  = 0x20
	noID      = 0xffffffff
)

// GrantUser adds "user:uid:perm" (perm 0-7, rwx bits) to path's access
// ACL, keeping the owner's, group's and others' rights of its mode; the
// mask becomes rwx, as setfacl -m makes it. On a file system without
// POSIX ACLs the test is skipped, or fails under CI=true.
func GrantUser(t testing.TB, path string, uid uint32, perm uint16) {
	t.Helper()
	err := grantUser(path, uid, perm)
	if errors.Is(err, unix.EOPNOTSUPP) && os.Getenv("CI") != "true" {
		t.Skipf("%s: the file system does not support POSIX ACLs", path)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func grantUser(path string, uid uint32, perm uint16) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	mode := uint16(fi.Mode().Perm())
	entries := [][3]uint32{
		{tagUserOb, uint32(mode >> 6 & 7), noID},
		{tagUser, uint32(perm), uid},
		{tagGroup, uint32(mode >> 3 & 7), noID},
		{tagMask, 7, noID},
		{tagOther, uint32(mode & 7), noID},
	}
	buf := binary.LittleEndian.AppendUint32(nil, version)
	for _, e := range entries {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(e[0]))
		buf = binary.LittleEndian.AppendUint16(buf, uint16(e[1]))
		buf = binary.LittleEndian.AppendUint32(buf, e[2])
	}
	if err := unix.Setxattr(path, "system.posix_acl_access", buf, 0); err != nil {
		return fmt.Errorf("set the ACL of %s: %w", path, err)
	}
	return nil
}
