package plan

import (
	"slices"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// CheckSubcommand judges whether the caller may use the subcommand name:
// an admin one (config) only as root, any other only when the policy's
// subcommands list it.
func CheckSubcommand(pol *policy.Policy, name string, admin, root bool) error {
	if admin && root || !admin && slices.Contains(pol.Subcommands, name) {
		return nil
	}
	return refusal.New("subcommands", "%q is not allowed on this system", name)
}

// CheckAllUsers judges ps --all-users: every user's containers are
// root's to list.
func CheckAllUsers(allUsers, root bool) error {
	if allUsers && !root {
		return refusal.New("ps", "--all-users is for root only: ps shows your own containers")
	}
	return nil
}
