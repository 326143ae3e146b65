package gpu

import (
	"fmt"
	"strconv"
	"strings"
)

// MIGMinorsPath is where the NVIDIA driver lists the minor numbers of the
// MIG capability files under /dev/nvidia-caps/. Lines read
//
//	gpu<G>/gi<I>/access <minor>          access to GPU instance I of GPU G
//	gpu<G>/gi<I>/ci<C>/access <minor>    access to compute instance C in it
//
// besides "config" and "monitor" lines; G is the GPU's minor number.
const MIGMinorsPath = "/proc/driver/nvidia-caps/mig-minors"

// capsDir holds the MIG capability device files that Slurm's gres.conf
// lists with MultipleFiles= for a MIG device.
const capsDir = "/dev/nvidia-caps/"

// MIGCap is what one MIG capability file grants access to.
type MIGCap struct {
	GPUMinor int
	GI       int
	// CI is the compute instance, -1 for a GPU-instance access file.
	CI int
}

// ParseMIGMinors reads MIGMinorsPath's contents into a map from capability
// minor number to what it grants. Lines it does not know are skipped.
func ParseMIGMinors(text string) (map[int]MIGCap, error) {
	out := map[int]MIGCap{}
	for n, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) != 2 || !strings.HasPrefix(f[0], "gpu") {
			continue
		}
		minor, err := strconv.Atoi(f[1])
		if err != nil || minor < 0 {
			return nil, fmt.Errorf("%s line %d: minor %q is not a number", MIGMinorsPath, n+1, f[1])
		}
		c, ok := parseCapPath(f[0])
		if !ok {
			continue
		}
		out[minor] = c
	}
	return out, nil
}

// parseCapPath parses "gpu0/gi1/access" or "gpu0/gi1/ci0/access".
func parseCapPath(p string) (MIGCap, bool) {
	parts := strings.Split(p, "/")
	if len(parts) < 3 || len(parts) > 4 || parts[len(parts)-1] != "access" {
		return MIGCap{}, false
	}
	num := func(s, prefix string) (int, bool) {
		rest, ok := strings.CutPrefix(s, prefix)
		n, err := strconv.Atoi(rest)
		return n, ok && err == nil && n >= 0
	}
	c := MIGCap{CI: -1}
	var ok1, ok2, ok3 bool
	c.GPUMinor, ok1 = num(parts[0], "gpu")
	c.GI, ok2 = num(parts[1], "gi")
	ok3 = true
	if len(parts) == 4 {
		c.CI, ok3 = num(parts[2], "ci")
	}
	return c, ok1 && ok2 && ok3
}

// GresEntryFiles splits an entry of ParseGresConf's result into its device
// files: one for a whole GPU, several for a MultipleFiles= entry.
func GresEntryFiles(entry string) []string {
	return strings.Split(entry, ",")
}

// isCapFile reports whether f is a MIG capability file.
func isCapFile(f string) bool {
	return strings.HasPrefix(f, capsDir)
}

// migOf finds the MIG device that a MultipleFiles= GRES entry names: its
// one GPU file gives the parent (by minor number), its capability files the
// GPU and compute instance (by MIGMinorsPath). Anything else, or anything
// that does not resolve to exactly one MIG device, is an error.
func migOf(files []string, fileMinors map[string]int, migCaps map[int]MIGCap, byMinor map[int]Device) (Device, error) {
	parent, gi, ci := -1, -1, -1
	for _, f := range files {
		m, ok := fileMinors[f]
		if !ok {
			return Device{}, fmt.Errorf("no minor number known for %s", f)
		}
		if !isCapFile(f) {
			if parent >= 0 {
				return Device{}, fmt.Errorf("two GPU device files in one MultipleFiles= entry")
			}
			parent = m
			continue
		}
		c, ok := migCaps[m]
		if !ok {
			return Device{}, fmt.Errorf("%s (minor %d) is not listed in %s", f, m, MIGMinorsPath)
		}
		if c.CI < 0 {
			gi = c.GI
		} else {
			gi, ci = c.GI, c.CI
		}
		if parent >= 0 && c.GPUMinor != parent {
			return Device{}, fmt.Errorf("%s belongs to the GPU with minor %d, not %d", f, c.GPUMinor, parent)
		}
	}
	if parent < 0 || gi < 0 || ci < 0 {
		return Device{}, fmt.Errorf("a MIG entry needs a GPU device file and the GPU and compute instance capability files")
	}
	d, ok := byMinor[parent]
	if !ok {
		return Device{}, fmt.Errorf("no NVML device has minor number %d", parent)
	}
	var found []Device
	for _, m := range d.MIG {
		if m.GPUInstanceID == gi && m.ComputeInstanceID == ci {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return Device{}, fmt.Errorf("NVML GPU %d has %d MIG devices with GPU instance %d and compute instance %d, want exactly one", d.Index, len(found), gi, ci)
	}
	return found[0], nil
}
