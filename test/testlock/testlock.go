// Package testlock serializes the integration suites of this repository
// on one machine: they share one dockerd, one Slurm and the test users,
// and some count containers before and after an attempt.
package testlock

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Path is the lock file every integration TestMain takes.
const Path = "/run/userdocker-integration.lock"

// held keeps the lock file open for the life of the process. A local
// *os.File would be closed by its finalizer at the next garbage collection,
// and the lock would go with it while the suite still runs.
var held *os.File

// Acquire blocks until this process holds the machine-wide test lock. The
// lock goes with the process, so a crashed suite never leaves it taken.
func Acquire() error {
	f, err := os.OpenFile(Path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open test lock %s: %w", Path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", Path, err)
	}
	held = f
	return nil
}
