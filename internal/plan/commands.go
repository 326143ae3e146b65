package plan

import (
	"slices"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// CheckSubcommand judges whether the caller may use the subcommand name:
// an admin one (config) only as root, any other only when the policy's
// subcommands list it; tag also only where images of one's own are on,
// since it makes no other tags.
func CheckSubcommand(pol *policy.Policy, name string, admin, root bool) error {
	switch {
	case admin && root:
		return nil
	case admin || !slices.Contains(pol.Subcommands, name):
		return refusal.New("subcommands", "%q is not allowed on this system", name).By("subcommands")
	case name == "tag" && !pol.Run.OwnImages:
		return refusal.New("subcommands", "%q is not allowed on this system: it tags into your own image namespace (local/USER/), which this system does not enable (run.own_images)", name).By("run.own_images")
	}
	return nil
}

// dockerOnly are the docker CLI's commands (docker 20.10 to 28) that
// userdocker does not offer, each with what to do instead where there is
// something; "" for none. Its own commands are not here, nor is config,
// which is userdocker's (root's) and docker's (swarm's) both.
var dockerOnly = map[string]string{
	"build":      buildElsewhere,
	"builder":    buildElsewhere,
	"buildx":     buildElsewhere,
	"checkpoint": "",
	"commit":     "",
	"compose":    "",
	"container":  "use the short forms: run, ps, logs, stop, rm, inspect, …",
	"context":    "",
	"cp":         "mount a directory with -v to share files with a container",
	"create":     "use run -d",
	"diff":       "",
	"events":     "",
	"export":     "",
	"history":    "",
	"image":      "use the short forms: images, pull, load, tag, rmi, inspect",
	"import":     "load a docker save archive with load",
	"info":       "",
	"init":       "",
	"login":      "",
	"logout":     "",
	"manifest":   "",
	"network":    "",
	"node":       "",
	"pause":      "",
	"plugin":     "",
	"port":       "",
	"push":       "",
	"rename":     "",
	"restart":    "",
	"save":       "",
	"search":     "",
	"secret":     "",
	"service":    "",
	"stack":      "",
	"start":      "",
	"stats":      "",
	"swarm":      "",
	"system":     "",
	"top":        "",
	"trust":      "",
	"unpause":    "",
	"update":     "",
	"volume":     "",
}

const buildElsewhere = "build images elsewhere and load them here (docker save IMAGE | userdocker load)"

// CheckNotOffered refuses name when it is a docker command that userdocker
// does not offer, with what to do instead: a different answer from a word
// that is no command at all. nil for any other name.
func CheckNotOffered(name string) error {
	instead, ok := dockerOnly[name]
	if !ok {
		return nil
	}
	if instead == "" {
		instead = "'userdocker -h' lists what you may use"
	}
	return refusal.New("subcommands", "%q is not available through userdocker: %s", name, instead)
}

// CheckAllUsers judges ps --all-users: every user's containers are
// root's to list.
func CheckAllUsers(allUsers, root bool) error {
	if allUsers && !root {
		return refusal.New("ps", "--all-users is for root only: ps shows your own containers")
	}
	return nil
}
