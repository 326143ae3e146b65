package gpu

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DriverMarkers are the files the NVIDIA kernel driver makes, relative to
// the root: the driver's /proc directory and its control device. Either
// one means the node has a driver, whether or not NVML can be loaded.
var DriverMarkers = []string{"proc/driver/nvidia", "dev/nvidiactl"}

// DriverPresent reports whether the NVIDIA driver is on the node whose
// root is root ("/" in production), and the first marker found (as a path
// under root). Only "does not exist" counts as absent: a marker that
// cannot be looked at for another reason counts as present, since the
// prolog then trusts GPU indices less, never more.
func DriverPresent(root string) (string, bool) {
	for _, m := range DriverMarkers {
		p := filepath.Join(root, m)
		_, err := os.Lstat(p)
		if err == nil || !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return p, true
		}
	}
	return "", false
}
