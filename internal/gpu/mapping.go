package gpu

import "fmt"

// MapSlurmIndices turns the GRES indices of a job (SLURM_JOB_GPUS) into GPU
// UUIDs, in the order of indices:
//
//	GRES index i → gresFiles[i] → its char-device minor (fileMinors) →
//	the NVML device with that minor → its UUID.
//
// A MIG device (a MultipleFiles= entry: the GPU's file and the capability
// files of its GPU and compute instance) maps to its MIG UUID: the parent
// by minor number, then the MIG device by the instance IDs that migCaps
// (ParseMIGMinors) gives the capability files' minors, never by position.
//
// gresFiles are the GRES entries in order (ParseGresConf); fileMinors holds
// the minor number of each file, as stat found it (DeviceMinors). Every
// step must resolve to exactly one answer, or the whole mapping fails: a
// guessed GPU is another job's GPU.
func MapSlurmIndices(gresFiles []string, fileMinors map[string]int, migCaps map[int]MIGCap, devices []Device, indices []int) ([]string, error) {
	byMinor := make(map[int]Device, len(devices))
	for _, d := range devices {
		if prev, dup := byMinor[d.Minor]; dup {
			return nil, fmt.Errorf("NVML devices %d and %d both have minor number %d", prev.Index, d.Index, d.Minor)
		}
		byMinor[d.Minor] = d
	}
	uuids := make([]string, 0, len(indices))
	seen := make(map[int]bool, len(indices))
	for _, idx := range indices {
		if idx < 0 || idx >= len(gresFiles) {
			return nil, fmt.Errorf("GRES index %d out of range: gres.conf lists %d GPU device files", idx, len(gresFiles))
		}
		if seen[idx] {
			return nil, fmt.Errorf("GRES index %d listed twice", idx)
		}
		seen[idx] = true
		file := gresFiles[idx]
		if files := GresEntryFiles(file); len(files) > 1 {
			d, err := migOf(files, fileMinors, migCaps, byMinor)
			if err != nil {
				return nil, fmt.Errorf("GRES index %d: %w", idx, err)
			}
			uuids = append(uuids, d.UUID)
			continue
		}
		m, ok := fileMinors[file]
		if !ok {
			return nil, fmt.Errorf("GRES index %d: no minor number known for %s", idx, file)
		}
		d, ok := byMinor[m]
		if !ok {
			return nil, fmt.Errorf("GRES index %d: no NVML device has minor number %d (%s)", idx, m, file)
		}
		if d.UUID == "" {
			return nil, fmt.Errorf("GRES index %d: NVML device %d has no UUID", idx, d.Index)
		}
		uuids = append(uuids, d.UUID)
	}
	return uuids, nil
}
