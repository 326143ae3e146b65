// Package owned decides which container a user's argument names, and
// whether it is theirs (DESIGN.md §3.5). It is pure: the container list
// comes from the daemon at the edge, and what comes back is one container
// ID that the edge then acts on.
package owned

import (
	"fmt"
	"strconv"
	"strings"
)

// Container is what resolution needs to know about one container.
type Container struct {
	ID    string
	Names []string // as the Engine API gives them: "/alice-web"
	// UID is the container's io.userdocker.uid label ("" when it has none).
	UID string
}

// Caller is the user an argument is resolved for.
type Caller struct {
	Name string
	UID  uint32
}

// NotYoursError is the one answer for a container that does not exist and
// for one that belongs to someone else, so that nothing about other users'
// containers leaks.
type NotYoursError struct{ Arg string }

func (e *NotYoursError) Error() string { return fmt.Sprintf("no container %s of yours", e.Arg) }

// AmbiguousError says that an ID prefix matches several of the caller's
// containers.
type AmbiguousError struct {
	Arg   string
	Count int
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("container ID prefix %q matches %d of your containers: give more of the ID", e.Arg, e.Count)
}

// Resolve returns the ID of the one container of c's that arg names, in
// docker's order of precedence: a full ID, a name (as given, or with the
// "<user>-" prefix userdocker puts on every name), a unique ID prefix.
//
// Only the caller's containers take part, judged by their uid label, so
// that neither the answer nor an ambiguity can tell anything about another
// user's containers.
func Resolve(arg string, c Caller, list []Container) (string, error) {
	if arg == "" {
		return "", &NotYoursError{Arg: `""`}
	}
	mine := Mine(c, list)
	for _, k := range mine {
		if k.ID == arg {
			return k.ID, nil
		}
	}
	for _, name := range []string{arg, c.Name + "-" + arg} {
		for _, k := range mine {
			for _, n := range k.Names {
				if strings.TrimPrefix(n, "/") == name {
					return k.ID, nil
				}
			}
		}
	}
	var found []string
	for _, k := range mine {
		if strings.HasPrefix(k.ID, arg) {
			found = append(found, k.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", &NotYoursError{Arg: arg}
	case 1:
		return found[0], nil
	default:
		return "", &AmbiguousError{Arg: arg, Count: len(found)}
	}
}

// Mine returns the containers of list whose uid label is c's.
func Mine(c Caller, list []Container) []Container {
	var out []Container
	for _, k := range list {
		if IsMine(c, k.UID) && k.ID != "" {
			out = append(out, k)
		}
	}
	return out
}

// IsMine reports whether a container's uid label is c's.
func IsMine(c Caller, uidLabel string) bool {
	return uidLabel != "" && uidLabel == strconv.FormatUint(uint64(c.UID), 10)
}
