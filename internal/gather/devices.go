package gather

import (
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/gpu"
	"github.com/userdocker/userdocker/internal/plan"
)

// lookDevices expands each run.devices pattern on this node and says what
// each match is (plan.Device): its own mode (a symlink is not followed),
// its device number, whether that is a GPU's, and the first directory
// above it that users other than root could change. The patterns' glob is
// in their last element only (the policy checks), so the directories
// above the matches are fixed.
func lookDevices(patterns []string) map[string]plan.DeviceMatches {
	if len(patterns) == 0 {
		return nil
	}
	text, _ := os.ReadFile(gpu.ProcDevicesPath)
	gpuMajors := gpu.GPUMajors(string(text))
	out := make(map[string]plan.DeviceMatches, len(patterns))
	for _, pat := range patterns {
		if _, done := out[pat]; done {
			continue
		}
		paths, err := filepath.Glob(pat)
		if err != nil {
			out[pat] = plan.DeviceMatches{Err: err}
			continue
		}
		unsafeDir := unsafeAbove(filepath.Dir(pat))
		var m plan.DeviceMatches
		for _, p := range paths {
			fi, err := os.Lstat(p)
			if err != nil {
				continue // gone since the glob
			}
			d := plan.Device{Path: p, Mode: fi.Mode(), UnsafeDir: unsafeDir}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				d.Major, d.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
				d.GPU = fi.Mode()&os.ModeCharDevice != 0 && gpuMajors[d.Major]
			}
			m.Devices = append(m.Devices, d)
		}
		out[pat] = m
	}
	return out
}

// unsafeAbove returns the first directory from / down to dir that is a
// symlink, not root's, or writable by group or others, "" when none is:
// in such a directory an entry could be replaced between the check and
// dockerd's open (which follows symlinks, as root).
func unsafeAbove(dir string) string {
	p := "/"
	for _, elem := range append([]string{""}, splitPath(dir)...) {
		p = filepath.Join(p, elem)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 || st.Mode&0o022 != 0 {
			return p
		}
	}
	return ""
}

// splitPath returns the elements of a clean absolute path.
func splitPath(p string) []string {
	var out []string
	for p != "/" && p != "." && p != "" {
		out = append([]string{filepath.Base(p)}, out...)
		p = filepath.Dir(p)
	}
	return out
}
