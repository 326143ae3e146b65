package plan

import (
	"errors"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// Images of one's own (run.own_images) live under local/ on Docker Hub's
// name space: docker.io/local/<user>/NAME:TAG, written local/<user>/NAME:TAG.
// The name says whose an image is: only <user> may load or tag into it,
// run it, and remove its tags, whatever run.images says. Images cannot be
// labelled when they are tagged, so the name is the ownership; nothing a
// user can do through userdocker puts an image into another user's
// namespace (root, with docker itself, can).
//
// Such names are never pulled: docker.io/local/… is a name on Docker Hub
// (and on whatever mirror a daemon has for it), where anyone may have
// published an image under it. So `pull` refuses them, and `run` of one
// never pulls, whatever run.pull and --pull say.
//
// The user's name is the namespace's second component as it is, never
// changed to fit: a name that is not a valid component of an image name
// (upper case, a leading '_', two dots in a row) gives no namespace,
// rather than one that another user's name could also map to.
const localRoot = "local"

// localRule is the rule of the refusals about images of one's own.
const localRule = "own-images"

// OwnNamespace returns the namespace of the images of user's own,
// "local/<user>/", or why user's name cannot be one.
func OwnNamespace(user string) (string, error) {
	ns := localRoot + "/" + user + "/"
	named, err := reference.ParseNormalizedNamed(ns + "x")
	if err != nil || reference.Domain(named) != "docker.io" || reference.Path(named) != ns+"x" {
		return "", refusal.New(localRule, "your user name %q cannot be part of an image name (lower-case letters and digits, with single '.', '_' or '-' between them), so you have no image namespace of your own (local/USER/); tell your admin", user)
	}
	return ns, nil
}

// localOwner reports whether the normalized reference named lies under
// docker.io/local/, and whose namespace it is in: "" for a name directly
// under local/, which is nobody's.
func localOwner(named reference.Named) (owner string, local bool) {
	if reference.Domain(named) != "docker.io" {
		return "", false
	}
	rest, ok := strings.CutPrefix(reference.Path(named), localRoot+"/")
	if !ok {
		return "", false
	}
	owner, _, ok = strings.Cut(rest, "/")
	if !ok {
		return "", true
	}
	return owner, true
}

// IsLocal reports whether ref, a normalized reference, names an image
// under local/: one of someone's own, never to be pulled.
func IsLocal(ref string) bool {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false
	}
	_, local := localOwner(named)
	return local
}

// localProblem says why user may not verb the image named, which lies
// under local/; "" when it is in user's own namespace and enabled says
// images of one's own are on (or need not be: removing one's own tags is
// always allowed).
func localProblem(named reference.Named, user string, enabled bool, verb string) string {
	owner, _ := localOwner(named)
	switch {
	case owner == "":
		return "names directly under local/ are nobody's: images of one's own are local/USER/NAME[:TAG]"
	case owner != user:
		return "it is in the image namespace of user " + owner + " (local/" + owner + "/): only they may " + verb + " it"
	case !enabled:
		return "it is in your own image namespace local/" + user + "/, which this system does not enable (run.own_images)"
	}
	return ""
}

// mayRun says why the caller user may not run the image named ("" when
// they may): an image under local/ only when it is their own and images
// of one's own are on, any other only when run.images allows it.
func mayRun(named reference.Named, pol *policy.Policy, user string) string {
	if _, local := localOwner(named); local {
		return localProblem(named, user, pol.Run.OwnImages, "run")
	}
	if !ImageAllowed(named, pol.Run.Images) {
		return "it is not allowed on this system (see run.images)"
	}
	return ""
}

// ownPull is the pull policy of a run of an image of one's own: never.
// A --pull=always is refused rather than ignored.
func ownPull(user string) (string, error) {
	if user == "always" {
		return "", refusal.New("pull", "--pull=always is not allowed for an image of your own: images under local/ are never pulled, only loaded or tagged on this node")
	}
	return "never", nil
}

// JudgeTag decides whether the caller user may tag src as dst (tag's two
// arguments) and returns both normalized: src must be an image they may
// run (one of their own, or one run.images allows), named by its
// reference, never by ID (an ID can be anyone's image); dst must be a tag
// in their own namespace, which must be on. The hijack rule holds
// because no other tag can be made.
func JudgeTag(pol *policy.Policy, user, src, dst string) (string, string, error) {
	var errs []error
	from, err := NormalizeImage(src)
	if err != nil {
		errs = append(errs, err)
	} else if why := mayRun(from, pol, user); why != "" {
		errs = append(errs, refusal.New("tag", "tag: image %s cannot be tagged: %s; only images you may run can be tagged", from, why))
	}
	to, err := NormalizeImage(dst)
	if err != nil {
		errs = append(errs, err)
	} else if why := ownTarget(to, pol.Run.OwnImages, user, "tag"); why != "" {
		errs = append(errs, refusal.New("tag", "tag: %s is refused: %s", to, why))
	}
	if len(errs) > 0 {
		return "", "", errors.Join(errs...)
	}
	return from.String(), to.String(), nil
}

// ownTarget says why user may not make the tag named by verb (tag,
// load), "" when it is theirs to make: a tag in their own namespace,
// where images of one's own are on.
func ownTarget(named reference.Named, enabled bool, user, verb string) string {
	if _, ok := named.(reference.Digested); ok {
		return "a tag cannot hold a digest"
	}
	if _, local := localOwner(named); local {
		return localProblem(named, user, enabled, verb+" into")
	}
	if !enabled {
		return "only tags in your own image namespace (local/" + user + "/) can be made, which this system does not enable (run.own_images)"
	}
	ns, err := OwnNamespace(user)
	if err != nil {
		return err.Error()
	}
	return "you may " + verb + " only into your own image namespace " + ns + " (as " + ns + "NAME:TAG)"
}

// JudgeRmi decides whether the caller user may remove the tag ref, and
// returns it normalized: only a tag in their own namespace (also when
// images of one's own have been turned off since), never an ID or a
// digest, and never another's.
func JudgeRmi(user, ref string) (string, error) {
	named, err := NormalizeImage(ref)
	if err != nil {
		return "", err
	}
	_, local := localOwner(named)
	_, digested := named.(reference.Digested)
	switch {
	case digested:
		return "", refusal.New("rmi", "rmi: %s: name a tag of your own image namespace (local/%s/NAME:TAG), not a digest", named, user)
	case !local:
		return "", refusal.New("rmi", "rmi: %s is not in your own image namespace local/%s/: rmi removes only your own tags", named, user)
	}
	if why := localProblem(named, user, true, "remove"); why != "" {
		return "", refusal.New("rmi", "rmi: %s is refused: %s", named, why)
	}
	return named.String(), nil
}

// CheckRmiForce refuses rmi's -f/--force: it would remove an image that
// containers still use, and rmi removes only one's own tags.
func CheckRmiForce(force bool) error {
	if force {
		return refusal.New("rmi", "rmi: -f/--force is not allowed on this system: rmi removes your own tags only; remove your containers that use the image first (userdocker rm)")
	}
	return nil
}

// JudgeInspectImage decides whether the caller user may inspect the image
// ref, and returns it normalized: an image they may run, by its reference.
func JudgeInspectImage(pol *policy.Policy, user, ref string) (string, error) {
	named, err := NormalizeImage(ref)
	if err != nil {
		return "", err
	}
	if why := mayRun(named, pol, user); why != "" {
		return "", refusal.New("inspect", "inspect: image %s: %s; inspect shows only images you may run", named, why)
	}
	return named.String(), nil
}

// CheckOwnImageHere refuses to run an image of one's own that the daemon
// does not have (present): it is never pulled.
func CheckOwnImageHere(ref, node string, present bool) error {
	if present {
		return nil
	}
	return refusal.New(localRule, "image %s is not on node %s: images of your own are never pulled; load or tag it on this node first", ref, node)
}

// LocalPatternWarnings are what `config check` says about run.images
// patterns that match names under local/ other than those of the user an
// override is for: run.images does not apply there (only each user may
// run their own images), so such a pattern does not do what it seems to.
// A pattern is an arbitrary regular expression, so it is tried on names
// made from the words in it ("^local/(alice|bob)/" is tried with the
// users alice, bob and local), and a user "someone" and an image "image"
// besides: a warning, not a proof.
func LocalPatternWarnings(sets []policy.ImagePatterns) []string {
	var out []string
	for _, set := range sets {
		for _, p := range set.Patterns {
			if probe, ok := localMatch(p, set.User); ok {
				where := p.At.String()
				if set.For != "" && p.At.Override == "" {
					where += ", override " + set.For
				}
				out = append(out, sprintf("run.images pattern %q (%s) matches %s, which is in local/, where images are their owners' alone: run.images does not let anyone run them (run.own_images decides); narrow the pattern to names outside local/",
					p.Source, where, probe))
			}
		}
	}
	return out
}

// localMatch returns a name under local/, not in the namespace of user
// (the user an override is for, "" for none), that p allows.
func localMatch(p policy.Pattern, user string) (string, bool) {
	words := patternWords(p.Source)
	owners := append(append([]string{"someone"}, words...), "")
	names := append([]string{"image"}, words...)
	tags := append([]string{"latest"}, words...)
	for _, owner := range owners {
		if owner == user && user != "" {
			continue
		}
		for _, name := range names {
			for _, tag := range tags {
				ref := localRoot + "/" + name + ":" + tag
				if owner != "" {
					ref = localRoot + "/" + owner + "/" + name + ":" + tag
				}
				named, err := reference.ParseNormalizedNamed(ref)
				if err != nil {
					continue
				}
				if ImageAllowed(named, []policy.Pattern{p}) {
					return reference.FamiliarString(named), true
				}
			}
		}
	}
	return "", false
}

// patternWords are the runs of lower-case letters, digits, '.', '_' and
// '-' in the regular expression src, backslashes dropped (so that
// "docker\.io" gives "docker.io"), at most 16 of them.
func patternWords(src string) []string {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(strings.ReplaceAll(src, `\`, "")), func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')
	}) {
		if len(words) < 16 && !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	return words
}

// OthersHidden returns the images of list as user may see them: without
// the tags and digests in other users' namespaces under local/ (what
// someone names their own images is theirs), and without an image whose
// every name was such a tag. Images with no name at all stay, as docker
// lists them.
func OthersHidden(list []image.Summary, user string) []image.Summary {
	var out []image.Summary
	for _, img := range list {
		tags, digests := othersDropped(img.RepoTags, user), othersDropped(img.RepoDigests, user)
		if len(tags)+len(digests) == 0 && len(img.RepoTags)+len(img.RepoDigests) > 0 {
			continue
		}
		img.RepoTags, img.RepoDigests = tags, digests
		out = append(out, img)
	}
	return out
}

// othersDropped returns names without those in another user's namespace
// under local/.
func othersDropped(names []string, user string) []string {
	var kept []string
	for _, n := range names {
		named, err := reference.ParseNormalizedNamed(n)
		if err == nil {
			if owner, local := localOwner(named); local && owner != user {
				continue
			}
		}
		kept = append(kept, n)
	}
	return kept
}
