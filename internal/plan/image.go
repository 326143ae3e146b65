package plan

import (
	"strings"

	"github.com/distribution/reference"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
)

// NormalizeImage parses ref with the distribution reference grammar and
// returns its normalized form ("busybox" → "docker.io/library/busybox:latest").
// Anything else, an image ID or a flag included, is refused.
func NormalizeImage(ref string) (reference.Named, error) {
	if strings.HasPrefix(ref, "-") {
		return nil, refusal.New("image", "image %q is not a valid image reference", ref)
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, refusal.New("image", "image %q is not a valid image reference: %v", ref, err)
	}
	return reference.TagNameOnly(named), nil
}

// ImageAllowed reports whether the normalized reference, or its familiar
// short form, matches one of the site's image regexes. Both spellings name
// the same image: a familiar name without a registry always means docker.io,
// so '^ud-test/' and '^docker\.io/ud-test/' allow the same images.
func ImageAllowed(named reference.Named, patterns []policy.Pattern) bool {
	_, ok := AllowingPattern(named, patterns)
	return ok
}

// AllowingPattern returns the first of patterns that allows the image,
// as ImageAllowed judges it.
func AllowingPattern(named reference.Named, patterns []policy.Pattern) (policy.Pattern, bool) {
	full := named.String()
	short := full // only Docker Hub names have a shorter spelling
	if reference.Domain(named) == "docker.io" {
		short = reference.FamiliarString(named)
	}
	return policy.FirstMatch(patterns, full, short)
}

// normalizeImage returns ref normalized, if the caller user may run it
// (mayRun).
func normalizeImage(ref string, pol *policy.Policy, user string) (string, error) {
	named, err := NormalizeImage(ref)
	if err != nil {
		return "", err
	}
	why := mayRun(named, pol, user)
	switch _, local := localOwner(named); {
	case why == "":
		return named.String(), nil
	case local:
		return "", refusal.New(localRule, "image %s is not allowed: %s", named.String(), why)
	}
	return "", refusal.New("image", "image %s is not allowed on this system (see run.images)", named.String()).By("run.images")
}
