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
	// Text is the entry as written (placeholders expanded, in the policy
	// of a caller).
	Text string
}

// UserPicks reports whether the user chooses the container path: below
// it the host path's entries appear as they are below Host.
func (m MountSpec) UserPicks() bool { return m.Container == "" }

// String is the entry as written.
func (m MountSpec) String() string { return m.Text }

// ParseMount takes apart a run.mounts entry whose placeholders are already
// expanded. Both paths must be absolute and free of ".." elements: the
// policy names places, and a ".." would make the name lie about the place.
func ParseMount(spec string) (MountSpec, error) {
	m, err := splitMount(spec)
	if err != nil {
		return MountSpec{}, err
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

// splitMount takes spec apart without judging its paths: an entry with
// placeholders still in it has paths only once they are expanded.
func splitMount(spec string) (MountSpec, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return MountSpec{}, errors.New("want HOST:[CONTAINER][:ro|:rw]")
	}
	m := MountSpec{Host: parts[0], Container: parts[1], Text: spec}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return MountSpec{}, errors.New(`the mode must be "ro" or "rw"`)
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
