// Package asuser opens files named on the command line with the caller's
// rights, never root's (DESIGN.md §3.3). It switches the file-system
// identity (setfsuid, setfsgid, setgroups) of one locked OS thread only, for
// the duration of one open: the kernel then checks permissions as the caller,
// and the capabilities that would bypass them are dropped from that thread.
// The thread is never returned to the Go scheduler: it exits with its
// goroutine, so no other code ever runs with a borrowed identity.
package asuser

import (
	"fmt"
	"os"
	"runtime"

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

// become changes this thread's file-system identity. Raw syscalls: the libc
// and Go wrappers of setgroups apply to every thread of the process.
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
	unix.RawSyscall(unix.SYS_SETFSGID, uintptr(c.GID), 0, 0)
	unix.RawSyscall(unix.SYS_SETFSUID, uintptr(c.UID), 0, 0)
	// setfs[ug]id report the previous id, never an error: read back instead.
	if got, _, _ := unix.RawSyscall(unix.SYS_SETFSUID, ^uintptr(0), 0, 0); uint32(got) != c.UID {
		return fmt.Errorf("setfsuid %d did not take effect", c.UID)
	}
	if got, _, _ := unix.RawSyscall(unix.SYS_SETFSGID, ^uintptr(0), 0, 0); uint32(got) != c.GID {
		return fmt.Errorf("setfsgid %d did not take effect", c.GID)
	}
	return nil
}
