package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/imagetar"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/spool"
	"github.com/userdocker/userdocker/internal/tty"
)

// cmdLoad is `load [-i FILE] [-q]`. The daemon never sees the user's
// archive: imagetar reads it and writes a normalized copy into a spool
// file (the only copy on disk: userdocker's own writer, so not spooled
// twice), the tags of the copy are judged, and the daemon loads the copy.
// Streaming the copy straight to the daemon would save the spool, but
// docker save puts manifest.json after the layers, so the daemon would
// have the whole archive before its tags were judged, and a refusal would
// depend on how each daemon version treats an archive cut short.
func cmdLoad(ctx context.Context, a *app, args []string) error {
	fs := subFlags("load")
	input := fs.StringP("input", "i", "", "Read from tar archive file, instead of STDIN")
	quiet := fs.BoolP("quiet", "q", false, "Suppress the load output")
	if err := a.parseSub(fs, "load [OPTIONS]", args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return refusal.Usagef("\"load\" accepts no arguments")
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	daemon, err := eng.Daemon(ctx)
	if err != nil {
		return err
	}
	if err := plan.CheckLoadDaemon(daemon); err != nil {
		return err
	}
	src, err := a.loadSource(*input)
	if err != nil {
		return err
	}
	defer src.Close()
	if f, ok := src.(*os.File); ok {
		if done, err := a.loadedAlready(ctx, eng, f); done || err != nil {
			return err
		}
	}
	lim := a.pol.Load
	dir, err := spool.Open(lim.SpoolDir)
	if err != nil {
		return err
	}
	defer dir.Close()
	lock, err := dir.Lock(int(a.who.UID))
	if errors.Is(err, spool.ErrBusy) {
		// The tasks of a job that load one archive at once take turns;
		// after its turn, a task whose image the first one loaded
		// loads nothing.
		wait := a.env.LoadWait
		if wait == 0 {
			wait = time.Hour
		}
		a.notef("load: waiting for another load of yours to finish (one at a time per user)")
		lock, err = dir.LockWait(ctx, int(a.who.UID), wait)
		if err == nil {
			if f, ok := src.(*os.File); ok {
				if done, err := a.loadedAlready(ctx, eng, f); done || err != nil {
					lock.Close()
					return err
				}
			}
		}
		if err := plan.CheckOneLoad(errors.Is(err, spool.ErrBusy), wait); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	defer lock.Close()
	tmp, err := dir.Create(int64(lim.MinFree))
	if err != nil {
		return err
	}
	defer tmp.Close()
	free, err := spool.Free(dir.Path())
	if err != nil {
		return err
	}
	if err := plan.CheckRoom(tmp.Where(), free, 0, int64(lim.MinFree)); err != nil {
		return err
	}
	archive, err := imagetar.Normalize(src, tmp, int64(lim.MaxSize))
	if err != nil {
		return loadError(err)
	}
	existing, err := gather.ExistingTags(ctx, eng, archive.Tags)
	if err != nil {
		return err
	}
	// Every caller's patterns, not only this one's: a tag that any of
	// them allows is one that somebody may run.
	patterns := policy.AllPatterns(a.cfg.EveryImagePatterns())
	if err := plan.JudgeLoad(archive.Tags, patterns, existing, a.who.Name, a.pol.Run.OwnImages); err != nil {
		return err
	}
	// The daemon unpacks the archive on its data root (its size) and then
	// its layers (what they unpack to).
	if root, free, ok, err := gather.DataRootFree(ctx, eng); err != nil {
		return err
	} else if ok {
		if err := plan.CheckRoom("Docker's data root ("+root+")", free, archive.Size+archive.Unpacked, int64(lim.MinFree)); err != nil {
			return err
		}
	}
	a.debugf("load: %d bytes spooled, %d once unpacked, %d entries with its layers, tags %q", archive.Size, archive.Unpacked, archive.Entries, archive.Tags)
	return eng.Load(ctx, tmp.Reader(archive.Size), *quiet || a.quiet, a.env.Stdout, engine.StdStreams().OutIsTerm)
}

// loadedAlready skips the load of an archive file (-i) whose every tag
// the daemon has already as the image the archive gives it, as
// plan.LoadUnchanged judges it, from the archive's metadata alone; it
// then prints what docker load prints. Otherwise (done false) f is
// rewound for the load as usual.
func (a *app) loadedAlready(ctx context.Context, eng *engine.Engine, f *os.File) (done bool, err error) {
	peeked, ok := imagetar.Peek(f)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, fmt.Errorf("--input: %w", err)
	}
	if !ok {
		return false, nil
	}
	tags := slices.Sorted(maps.Keys(peeked.IDs))
	have, err := gather.TagImages(ctx, eng, tags)
	if err != nil {
		return false, err
	}
	patterns := policy.AllPatterns(a.cfg.EveryImagePatterns())
	if !plan.LoadUnchanged(peeked.IDs, have, patterns, a.who.Name, a.pol.Run.OwnImages) {
		return false, nil
	}
	a.debugf("load: the daemon has every tag of the archive as its image already (%q): nothing loaded", tags)
	for _, t := range tags {
		fmt.Fprintf(a.env.Stdout, "Loaded image: %s\n", t)
	}
	return true, nil
}

// loadError is the refusal of an archive with a problem (plan.CheckArchive),
// or err as it is: the spool's refusal, or a failed write.
func loadError(err error) error {
	var ae *imagetar.Error
	if !errors.As(err, &ae) {
		return err
	}
	return plan.CheckArchive(&plan.ArchiveProblem{Msg: ae.Msg, TooLarge: errors.Is(err, imagetar.ErrTooLarge)})
}

// loadSource opens -i FILE with the caller's rights, or returns stdin.
func (a *app) loadSource(name string) (io.ReadCloser, error) {
	if name != "" {
		return gather.OpenArchive(a.who, name)
	}
	if a.env.Stdin == nil || tty.IsTerminal(a.env.Stdin.Fd()) {
		return nil, refusal.Usagef("load: requested load from stdin, but stdin is a terminal: pass -i FILE or pipe an archive in")
	}
	return io.NopCloser(a.env.Stdin), nil
}
