package gather

import (
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/spool"
)

// OpenArchive opens load's -i FILE with the caller's rights: a regular
// file only (a FIFO or a device could hold the load, or read as root
// what the caller may not).
func OpenArchive(who request.Caller, name string) (*os.File, error) {
	f, err := asuser.Open(Cred(who), name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("--input: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("--input %s: not a regular file", name)
	}
	return f, nil
}

// ExistingTags says, for each tag of an archive that is a valid image
// reference, by its normalized form, whether the daemon has it already.
func ExistingTags(ctx context.Context, eng *engine.Engine, tags []string) (map[string]bool, error) {
	existing := map[string]bool{}
	for _, t := range tags {
		named, err := plan.NormalizeImage(t)
		if err != nil {
			continue // plan.JudgeLoad refuses it
		}
		found, err := eng.ImageExists(ctx, named.String())
		if err != nil {
			return nil, err
		}
		existing[named.String()] = found
	}
	return existing, nil
}

// DataRootFree returns Docker's data root and the space free on it (as
// users count it), where the daemon unpacks what it loads. Only a local
// daemon's disk can be looked at: for another, ok is false.
func DataRootFree(ctx context.Context, eng *engine.Engine) (root string, free int64, ok bool, err error) {
	if !strings.HasPrefix(eng.Host(), "unix://") {
		return "", 0, false, nil
	}
	if root, err = eng.DataRoot(ctx); err != nil {
		return "", 0, false, err
	}
	if free, err = spool.Free(root); err != nil {
		return "", 0, false, err
	}
	return root, free, true, nil
}

// TagImages says, for each tag that is a valid image reference, by its
// normalized form, which image the daemon has under it: its ID, or ""
// when it has none.
func TagImages(ctx context.Context, eng *engine.Engine, tags []string) (map[string]string, error) {
	ids := map[string]string{}
	for _, t := range tags {
		named, err := plan.NormalizeImage(t)
		if err != nil {
			continue // plan.LoadUnchanged does not skip it
		}
		img, found, err := eng.InspectImage(ctx, named.String())
		if err != nil {
			return nil, err
		}
		if found {
			ids[named.String()] = img.ID
		}
	}
	return ids, nil
}
