// Package caller establishes who called userdocker. The identity comes from
// sudo (SUDO_UID, SUDO_GID, SUDO_USER) and the system's user database, never
// from anything else the caller controls (DESIGN.md §3.1). What it
// establishes is a request.Caller, the value the pure core takes.
package caller
