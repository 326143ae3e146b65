package plan

import (
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// JudgePull decides, before anything is fetched, whether the caller may
// pull ref (allTags: pull's -a), and returns its normalized form. An
// image of one's own (local/…) is never pulled, whoever's it is: the name
// is a name on Docker Hub, where anyone may have published it.
func JudgePull(pol *policy.Policy, ref string, allTags bool) (string, error) {
	if allTags {
		return "", refusal.New("pull", "-a/--all-tags is not allowed on this system: pull one image by its name")
	}
	if pol.Run.Pull == "never" {
		return "", refusal.New("pull", "pull is not allowed on this system (run.pull = %q): only images already here can be run", "never").By("run.pull")
	}
	named, err := NormalizeImage(ref)
	if err != nil {
		return "", err
	}
	if _, local := localOwner(named); local {
		return "", refusal.New(localRule, "image %s is not pulled: names under local/ are users' own images, made on this node by load or tag, never pulled", named.String())
	}
	if !ImageAllowed(named, pol.Run.Images) {
		return "", refusal.New("image", "image %s is not allowed on this system (see run.images): not pulled", named.String()).By("run.images")
	}
	return named.String(), nil
}
