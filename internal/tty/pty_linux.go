package tty

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a new pseudo-terminal pair. What is written to master is
// read from slave as if typed, and what is written to slave is read from
// master as if shown. The slave is not made anyone's controlling terminal.
// The caller closes both.
func OpenPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open pty master: %w", err)
	}
	defer func() {
		if err != nil {
			master.Close()
		}
	}()
	// unlockpt(3) and ptsname(3), without cgo. Control, unlike Fd, leaves
	// the file non-blocking, so that deadlines and Close still work on it.
	rc, err := master.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("open pty master: %w", err)
	}
	var n int
	var ioctlErr error
	err = rc.Control(func(fd uintptr) {
		if ioctlErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioctlErr != nil {
			ioctlErr = fmt.Errorf("unlock pty: %w", ioctlErr)
			return
		}
		if n, ioctlErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN); ioctlErr != nil {
			ioctlErr = fmt.Errorf("get pty number: %w", ioctlErr)
		}
	})
	if err == nil {
		err = ioctlErr
	}
	if err != nil {
		return nil, nil, err
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open pty slave: %w", err)
	}
	return master, slave, nil
}

// SetSize sets the window size of the terminal on fd, as a terminal emulator
// does when its window is resized. It does not signal anyone: the kernel sends
// SIGWINCH only to the foreground process group of a controlling terminal.
func SetSize(fd uintptr, height, width uint) error {
	ws := &unix.Winsize{Row: uint16(height), Col: uint16(width)}
	if err := unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("set terminal size: %w", err)
	}
	return nil
}
