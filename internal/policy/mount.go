package policy

import (
	"errors"
	"strings"
)

// MountSpec is one run.mounts entry, "HOST:[CONTAINER][:ro|:rw]", taken
// apart.
type MountSpec struct {
	Host string
	// Container is where it appears in the container; empty when the user
	// picks the path (allowed in run.mounts.available only).
	Container string
	ReadOnly  bool
}

// ParseMount takes apart a run.mounts entry whose placeholders are already
// expanded. Both paths must be absolute and free of ".." elements: the
// policy names places, and a ".." would make the name lie about the place.
func ParseMount(spec string) (MountSpec, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return MountSpec{}, errors.New("want HOST:[CONTAINER][:ro|:rw]")
	}
	m := MountSpec{Host: parts[0], Container: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return MountSpec{}, errors.New(`the mode must be "ro" or "rw"`)
		}
	}
	if err := checkPath(m.Host); err != nil {
		return MountSpec{}, errors.New("the host path " + err.Error())
	}
	if m.Container != "" {
		if err := checkPath(m.Container); err != nil {
			return MountSpec{}, errors.New("the container path " + err.Error())
		}
	}
	return m, nil
}

// checkPath accepts absolute paths without ".." elements.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New("is not absolute")
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return errors.New(`contains ".."`)
		}
	}
	return nil
}
