package plan

import (
	"strconv"
	"strings"
)

// parseCPUSet parses a Linux cpuset list ("0-3,8,10-11").
func parseCPUSet(s string) (map[int]bool, bool) {
	out := map[int]bool{}
	if strings.TrimSpace(s) == "" {
		return out, false
	}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, false
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 1<<16 {
				return nil, false
			}
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out, true
}

// cpusetSubset reports whether every CPU of want is in have. An empty or
// malformed want is not a subset: it would mean "all CPUs".
func cpusetSubset(want, have string) bool {
	w, ok := parseCPUSet(want)
	if !ok {
		return false
	}
	h, ok := parseCPUSet(have)
	if !ok {
		return false
	}
	for c := range w {
		if !h[c] {
			return false
		}
	}
	return true
}
