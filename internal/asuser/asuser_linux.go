// Package asuser opens files named on the command line with the caller's
// rights, never root's (DESIGN.md §3.3), and asks the kernel what the
// caller may do with a file. It switches the file-system identity
// (setfsuid, setfsgid, setgroups) of one locked OS thread only, for the
// duration of one task: the kernel then checks permissions as the caller,
// and that thread's effective capabilities are emptied.
// The thread is never returned to the Go scheduler: it exits with its
// goroutine, so no other code ever runs with a borrowed identity.
package asuser

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Cred is the identity files are opened as.
type Cred struct {
	UID    uint32
	GID    uint32
	Groups []uint32
}

// Do runs fn on a thread that has cred's file-system identity. fn must
// not start goroutines that expect that identity.
func Do(cred Cred, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		// No UnlockOSThread: when this goroutine ends, the runtime ends the
		// thread too, whatever identity it had.
		runtime.LockOSThread()
		if err := become(cred); err != nil {
			ch <- err
			return
		}
		ch <- fn()
	}()
	return <-ch
}

// Open opens name like os.OpenFile, but with cred's rights. Symlinks are
// followed as the caller would follow them.
func Open(cred Cred, name string, flag int, perm os.FileMode) (*os.File, error) {
	var f *os.File
	err := Do(cred, func() error {
		var err error
		f, err = os.OpenFile(name, flag|unix.O_CLOEXEC, perm)
		return err
	})
	return f, err
}

// ReadFile reads name with cred's rights, refusing anything but a regular
// file (a FIFO or device could block or be huge) and files over max bytes.
func ReadFile(cred Cred, name string, max int64) ([]byte, error) {
	f, err := Open(cred, name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && n != len(buf) {
		return nil, err
	}
	return buf[:n], nil
}

// Access asks the kernel whether the identity of the calling thread may
// access the file open at fd (an O_PATH descriptor will do) with mode
// (unix.R_OK, W_OK, X_OK, or'ed): call it from fn of Do. The kernel's answer
// is the one that counts: it sees ACLs (POSIX, NFSv4, GPFS, Lustre) that
// mode bits do not show, and on NFS it asks the server. It judges the
// effective ids (AT_EACCESS), which on Linux means the borrowed fs ids,
// and the effective capabilities, which become has emptied.
func Access(fd int, mode uint32) error {
	if needRealIDs() {
		// access(2) judges the real ids, which become set for this.
		return unix.Access("/proc/thread-self/fd/"+strconv.Itoa(fd), mode)
	}
	return unix.Faccessat2(fd, "", mode, unix.AT_EACCESS|unix.AT_EMPTY_PATH)
}

// needRealIDs reports a kernel before Linux 5.8, which has no faccessat2
// and so no way to ask about the effective ids (x/sys's Faccessat would
// then guess from mode bits as root). There only access(2) asks the kernel,
// and it asks about the real ids: become sets those too. The real uid of
// the borrowed thread makes it a target for the caller's signals for its
// short life; the effective uid stays root, so nothing else changes.
var needRealIDs = sync.OnceValue(func() bool {
	return unix.Faccessat2(unix.AT_FDCWD, "/", unix.F_OK, unix.AT_EACCESS) == unix.ENOSYS
})

// become changes this thread's identity. Raw syscalls: the libc and Go
// wrappers of setgroups and setres[ug]id apply to every thread of the
// process.
func become(c Cred) error {
	groups := c.Groups
	if len(groups) == 0 {
		groups = []uint32{c.GID}
	}
	var p *uint32
	if len(groups) > 0 {
		p = &groups[0]
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(unsafePointer(p)), 0); e != 0 {
		return fmt.Errorf("setgroups: %w", e)
	}
	if needRealIDs() {
		// Before the fs ids: setres[ug]id reset them to the effective ids.
		keep := ^uintptr(0)
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(c.GID), keep, keep); e != 0 {
			return fmt.Errorf("setresgid: %w", e)
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(c.UID), keep, keep); e != 0 {
			return fmt.Errorf("setresuid: %w", e)
		}
	}
	unix.RawSyscall(unix.SYS_SETFSGID, uintptr(c.GID), 0, 0)
	unix.RawSyscall(unix.SYS_SETFSUID, uintptr(c.UID), 0, 0)
	// setfs[ug]id report the previous id, never an error: read back instead.
	if got, _, _ := unix.RawSyscall(unix.SYS_SETFSUID, ^uintptr(0), 0, 0); uint32(got) != c.UID {
		return fmt.Errorf("setfsuid %d did not take effect", c.UID)
	}
	if got, _, _ := unix.RawSyscall(unix.SYS_SETFSGID, ^uintptr(0), 0, 0); uint32(got) != c.GID {
		return fmt.Errorf("setfsgid %d did not take effect", c.GID)
	}
	if c.UID == 0 {
		return nil // root's rights are root's
	}
	return dropCapabilities()
}

// dropCapabilities empties the effective capability set of this thread.
// setfsuid away from 0 already drops the capabilities that bypass file
// permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, …), but
// not if the process has SECBIT_NO_SETUID_FIXUP, and it leaves others
// that matter to file access (CAP_SYS_RESOURCE writes past quotas): with
// none, the kernel judges the caller exactly as the caller. capset applies
// to the calling thread only.
func dropCapabilities() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Effective, data[1].Effective = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	if data[0].Effective != 0 || data[1].Effective != 0 {
		return errors.New("the effective capabilities could not be dropped")
	}
	return nil
}
