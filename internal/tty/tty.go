// Package tty handles the user's terminal while it is attached to a
// container's TTY: raw mode, window size, and (for tests and tools that need
// a terminal without a user) pseudo-terminal pairs.
package tty

import (
	"fmt"
	"sync"

	"golang.org/x/term"
)

// IsTerminal reports whether fd refers to a terminal.
func IsTerminal(fd uintptr) bool {
	return term.IsTerminal(int(fd))
}

// Raw puts the terminal on fd into raw mode, so that every key, ^C and the
// detach keys included, reaches the container as a byte. The returned restore
// puts back the mode fd had before; it may be called any number of times, from
// any goroutine, and only the first call acts. Callers defer it at once, so
// that an error or a panic never leaves the user's terminal raw.
func Raw(fd uintptr) (restore func(), err error) {
	old, err := term.MakeRaw(int(fd))
	if err != nil {
		return nil, fmt.Errorf("set terminal raw: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() { _ = term.Restore(int(fd), old) })
	}, nil
}

// Size returns the window size of the terminal on fd, in rows and columns,
// the order the Docker API's resize call takes them.
func Size(fd uintptr) (height, width uint, err error) {
	w, h, err := term.GetSize(int(fd))
	if err != nil {
		return 0, 0, fmt.Errorf("get terminal size: %w", err)
	}
	return uint(h), uint(w), nil
}
