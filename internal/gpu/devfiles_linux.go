package gpu

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// nvidiaMajor is the character-device major number of /dev/nvidiaN (the
// NVIDIA frontend driver registers 195; nvidia-uvm and nvidia-caps differ).
const nvidiaMajor = 195

// DeviceMinors stats each file and returns its minor number. Each must be a
// character device of the NVIDIA driver (major 195), or a MIG capability
// file under /dev/nvidia-caps/; symlinks are followed, as Slurm does when it
// opens them.
func DeviceMinors(files []string) (map[string]int, error) {
	minors := make(map[string]int, len(files))
	for _, f := range files {
		var st unix.Stat_t
		if err := unix.Stat(f, &st); err != nil {
			return nil, fmt.Errorf("stat GPU device file %s: %w", f, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR {
			return nil, fmt.Errorf("GPU device file %s is not a character device", f)
		}
		// MIG capability files have the nvidia-caps driver's major, which
		// the kernel assigns at load time; their minors are checked against
		// MIGMinorsPath instead.
		if maj := unix.Major(st.Rdev); maj != nvidiaMajor && !isCapFile(f) {
			return nil, fmt.Errorf("GPU device file %s has major number %d, not NVIDIA's %d", f, maj, nvidiaMajor)
		}
		minors[f] = int(unix.Minor(st.Rdev))
	}
	return minors, nil
}
