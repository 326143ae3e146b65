package plan

import (
	"errors"
	"io/fs"
	"time"

	units "github.com/docker/go-units"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/request"
)

// JudgeLoad refuses every tag of an image archive that loading would let
// its owner hijack (DESIGN.md §3.8). A tag under local/ loads only into
// the caller user's own namespace, where images of one's own are on
// (own); there it may replace one of their own tags. Where they are on,
// that is the only place a load may tag: a tag anywhere else could be
// one a pattern added later allows. Where they are off, a tag is refused
// that a run.images pattern of anyone allows (patterns: the system-wide
// list and every override's, not only the caller's: a tag only a group
// may run, loaded by someone outside the group before anyone pulled it,
// would be what the group then runs), and a tag that exists already
// (existing, by normalized reference, from the daemon). A tag that is not
// a valid reference is refused too: the daemon's reading of it cannot be
// foreseen.
func JudgeLoad(tags []string, patterns []policy.Pattern, existing map[string]bool, user string, own bool) error {
	var errs []error
	for _, t := range tags {
		named, err := NormalizeImage(t)
		if err != nil {
			errs = append(errs, refusal.New("load", "load: tag %q in the archive is not a valid image reference", t))
			continue
		}
		ref := named.String()
		_, local := localOwner(named)
		switch {
		case local || own:
			if why := ownTarget(named, own, user, "load"); why != "" {
				errs = append(errs, refusal.New("load", "load: tag %s is refused: %s", ref, why))
			}
		case ImageAllowed(named, patterns):
			errs = append(errs, refusal.New("load", "load: tag %s is refused: this system lets it run (run.images), and a loaded image must not replace it", ref))
		case existing[ref]:
			errs = append(errs, refusal.New("load", "load: tag %s is refused: it exists already, and a loaded image must not replace it", ref))
		}
	}
	return errors.Join(errs...)
}

// CheckLoadDaemon refuses a load into a daemon whose loaded images
// userdocker's image names do not reach: Podman names an image loaded
// as "research/x:1" localhost/research/x:1 (measured on 4.3.1), and the
// name userdocker judges, and runs, is docker.io/research/x:1.
func CheckLoadDaemon(d request.Daemon) error {
	if d.Podman() {
		return refusal.New("load.daemon", "load is not supported with %s: it names loaded images localhost/…, which userdocker does not run; push the image to a registry the site allows, or ask your administrator", d.Name())
	}
	return nil
}

// CheckOneLoad refuses a load while another load of the same user still
// runs after the edge waited for it for waited (busy, which the edge learns
// from the user's lock in the spool): each user spools one archive at a
// time, so that the spool's space is shared, and the tasks of a job that
// load at once take turns.
func CheckOneLoad(busy bool, waited time.Duration) error {
	if busy {
		return refusal.New("load.one_at_a_time", "load: another load of yours is still running after %s: userdocker loads one archive per user at a time; try again when it has finished", waited)
	}
	return nil
}

// ArchiveProblem is what is wrong with an image archive, as the edge
// found it reading the archive (internal/imagetar).
type ArchiveProblem struct {
	Msg string
	// TooLarge: the archive, unpacked, is larger than load.max_size.
	TooLarge bool
}

// CheckArchive refuses an archive with a problem (nil: none).
func CheckArchive(p *ArchiveProblem) error {
	if p == nil {
		return nil
	}
	msg := "load: " + p.Msg
	if p.TooLarge {
		msg += " (load.max_size)"
	}
	return refusal.New("load", "%s", msg)
}

// DirEntry is what the edge found at one entry of a directory's path.
type DirEntry struct {
	Path    string
	Missing bool
	Symlink bool
	Dir     bool
	UID     int
	Mode    fs.FileMode // permissions, with fs.ModeSticky
}

// CheckSpoolDir judges load.spool_dir by its path's entries, "/" first and
// the directory last: root writes users' archives there, so nobody but
// root may be able to change any entry on the way. Each must be a
// directory, not a symbolic link, owned by root and not writable by group
// or others; a parent that others may write is enough if it has the
// sticky bit (as /var/tmp), which keeps them from renaming root's entries.
// The directory itself may be missing (userdocker makes it, 0700), not
// its parents.
func CheckSpoolDir(entries []DirEntry) error {
	if why := SpoolDirProblem(entries); why != "" {
		return refusal.New("load.spool_dir", "load: the spool directory is not safe: %s; the administrator must fix load.spool_dir", why)
	}
	return nil
}

// SpoolDirProblem is CheckSpoolDir's reason, for config check: "" when
// there is none, else the entry and what is wrong with it.
func SpoolDirProblem(entries []DirEntry) string {
	for i, e := range entries {
		last := i == len(entries)-1
		var why string
		switch {
		case e.Missing && last:
			return ""
		case e.Missing:
			why = "does not exist"
		case e.Symlink:
			why = "is a symbolic link (name the real path)"
		case !e.Dir:
			why = "is not a directory"
		case e.UID != 0:
			why = sprintf("is owned by uid %d, not root", e.UID)
		case e.Mode&0o022 != 0 && (last || e.Mode&fs.ModeSticky == 0):
			why = sprintf("is writable by group or others (mode %04o)", e.Mode.Perm())
		}
		if why != "" {
			return e.Path + " " + why
		}
	}
	return ""
}

// CheckRoom refuses to write need more bytes where only avail are free
// (for users: root's reserved blocks do not count) when that would leave
// less than minFree (load.min_free). where names the file system.
func CheckRoom(where string, avail, need, minFree int64) error {
	if avail-need >= minFree {
		return nil
	}
	if need == 0 {
		return refusal.New("load.min_free", "load: %s has %s free, less than the %s this system keeps free (load.min_free)",
			where, units.BytesSize(float64(avail)), units.BytesSize(float64(minFree)))
	}
	return refusal.New("load.min_free", "load: %s has %s free; %s more would leave less than the %s this system keeps free (load.min_free)",
		where, units.BytesSize(float64(avail)), units.BytesSize(float64(need)), units.BytesSize(float64(minFree)))
}

// LoadUnchanged reports whether loading an archive would change no tag,
// so that the load can be skipped: the archive names at least one tag
// (ids: each tag as written, with the image ID the archive gives it),
// every one exists already as that very image (have: the daemon's image
// ID by normalized reference, "" for none), and JudgeLoad (patterns, user
// and own as there) would let every tag load were it new. Anything else
// is loaded, or refused, as before: a tag that exists as another image
// stays a hijack, and a tag the site lets run stays refused. Many tasks
// of a job loading one archive on one node then load it once.
func LoadUnchanged(ids map[string]string, have map[string]string, patterns []policy.Pattern, user string, own bool) bool {
	if len(ids) == 0 {
		return false
	}
	tags := make([]string, 0, len(ids))
	for tag, id := range ids {
		named, err := NormalizeImage(tag)
		if err != nil || id == "" || have[named.String()] != id {
			return false
		}
		tags = append(tags, tag)
	}
	return JudgeLoad(tags, patterns, nil, user, own) == nil
}
