// Package caller establishes who called userdocker. The identity comes from
// sudo (SUDO_UID, SUDO_GID, SUDO_USER) and the system's user database, never
// from anything else the caller controls (DESIGN.md §3.1).
package caller

// Caller is the person userdocker acts for.
type Caller struct {
	UID  uint32
	GID  uint32 // primary group
	Name string
	Home string
	// Groups are all the caller's group ids from the system database,
	// the primary group included.
	Groups []uint32
	// GroupNames are the names of Groups, in the same order ("" when a gid has no name).
	GroupNames []string
	// Root is true when the real caller is root (SUDO_UID=0, or run as root without sudo).
	Root bool
}
