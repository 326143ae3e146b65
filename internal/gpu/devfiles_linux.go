package gpu

import (
	"fmt"
	"strings"

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

// drmMajor is the character-device major number of /dev/dri/*.
const drmMajor = 226

// ProcDevicesPath lists the kernel's device drivers and their major numbers.
const ProcDevicesPath = "/proc/devices"

// GPUMajors are the character-device major numbers of GPU drivers, from
// procDevices (the text of /proc/devices): NVIDIA's frontend (195) and
// DRM's (226) always, and every character driver whose name starts with
// "nvidia" (nvidia-uvm, nvidia-caps, nvidia-nvswitch, nvidia-nvlink, …),
// whose majors the kernel assigns at load time.
func GPUMajors(procDevices string) map[uint32]bool {
	out := map[uint32]bool{nvidiaMajor: true, drmMajor: true}
	char := false
	for _, line := range strings.Split(procDevices, "\n") {
		switch strings.TrimSpace(line) {
		case "Character devices:":
			char = true
			continue
		case "Block devices:":
			char = false
			continue
		}
		var major uint32
		var name string
		if _, err := fmt.Sscanf(line, "%d %s", &major, &name); err == nil && char && strings.HasPrefix(name, "nvidia") {
			out[major] = true
		}
	}
	return out
}
