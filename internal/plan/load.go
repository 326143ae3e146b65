package plan

import "errors"

// JudgeLoad refuses every tag of an image archive that loading would let
// its owner hijack (DESIGN.md §3.8): a tag the site's image allow-list lets
// anyone run (patterns: the system-wide list and the caller's), and a tag
// that exists already (existing, by normalized reference, from the daemon).
// A tag that is not a valid reference is refused too: the daemon's reading
// of it cannot be foreseen.
func JudgeLoad(tags, patterns []string, existing map[string]bool) error {
	var errs []error
	for _, t := range tags {
		named, err := NormalizeImage(t)
		if err != nil {
			errs = append(errs, refuse("load", "load: tag %q in the archive is not a valid image reference", t))
			continue
		}
		ref := named.String()
		switch {
		case ImageAllowed(named, patterns):
			errs = append(errs, refuse("load", "load: tag %s is refused: this system lets it run (run.images), and a loaded image must not replace it", ref))
		case existing[ref]:
			errs = append(errs, refuse("load", "load: tag %s is refused: it exists already, and a loaded image must not replace it", ref))
		}
	}
	return errors.Join(errs...)
}
