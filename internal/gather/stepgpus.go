package gather

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/plan"
)

// stepGPUAccess asks the kernel, for each of the job's GPUs (its device
// files, as ud-prolog recorded them), whether this process may open them:
// access(2) consults the devices cgroup (v1) or the BPF device programs
// (v2) of the cgroup the caller's sudo left it in, the job step's or
// task's, and root's capabilities do not bypass it. open(2) is not used:
// on a node whose driver is loaded it would open the GPU.
func stepGPUAccess(gpus [][]string) []plan.GPUAccess {
	out := make([]plan.GPUAccess, 0, len(gpus))
	for _, files := range gpus {
		a := plan.GPUAccess{Files: files}
		for _, f := range files {
			var st unix.Stat_t
			if err := unix.Lstat(f, &st); err != nil {
				a.Err = fmt.Errorf("device file %s: %w", f, err)
				break
			}
			if st.Mode&unix.S_IFMT != unix.S_IFCHR {
				a.Err = fmt.Errorf("device file %s is not a character device", f)
				break
			}
			err := unix.Access(f, unix.R_OK)
			if errors.Is(err, unix.EPERM) {
				a.Denied = true
				break
			}
			if err != nil {
				a.Err = fmt.Errorf("device file %s: %w", f, err)
				break
			}
		}
		out = append(out, a)
	}
	return out
}
