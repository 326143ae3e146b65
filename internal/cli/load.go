package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/imagetar"
	"github.com/userdocker/userdocker/internal/plan"
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
	src, err := a.loadSource(*input)
	if err != nil {
		return err
	}
	defer src.Close()
	lim := a.pol.Load
	dir, err := spool.Open(lim.SpoolDir)
	if err != nil {
		return a.refuseIf(err)
	}
	defer dir.Close()
	lock, err := dir.Lock(int(a.who.UID))
	if errors.Is(err, spool.ErrBusy) {
		return a.refuse(&refusal.Refusal{Rule: "load.one_at_a_time", Msg: "load: another load of yours is still running: userdocker loads one archive per user at a time; try again when it has finished"})
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
		return a.refuse(err)
	}
	archive, err := imagetar.Normalize(src, tmp, int64(lim.MaxSize))
	if err != nil {
		return a.refuseIf(loadError(err))
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := a.judgeTags(ctx, eng, archive.Tags); err != nil {
		return err
	}
	if err := a.checkDataRoot(ctx, eng, archive, int64(lim.MinFree)); err != nil {
		return err
	}
	a.debugf("load: %d bytes spooled, %d once unpacked, %d entries with its layers, tags %q", archive.Size, archive.Unpacked, archive.Entries, archive.Tags)
	return eng.Load(ctx, tmp.Reader(archive.Size), *quiet || a.quiet, a.env.Stdout, engine.StdStreams().OutIsTerm)
}

// loadError says what a problem of the archive is, for the refusal.
func loadError(err error) error {
	var ae *imagetar.Error
	if !errors.As(err, &ae) {
		return err // the spool's refusal, or a failed write
	}
	msg := "load: " + ae.Msg
	if errors.Is(err, imagetar.ErrTooLarge) {
		msg += " (load.max_size)"
	}
	return &refusal.Refusal{Rule: "load", Msg: msg}
}

// refuseIf records err as a refusal when it is one, and returns it.
func (a *app) refuseIf(err error) error {
	if len(refusal.All(err)) > 0 {
		return a.refuse(err)
	}
	return err
}

// judgeTags refuses the load when a tag of the archive would replace an
// allowed or an existing image.
func (a *app) judgeTags(ctx context.Context, eng *engine.Engine, tags []string) error {
	existing := map[string]bool{}
	for _, t := range tags {
		named, err := plan.NormalizeImage(t)
		if err != nil {
			continue // JudgeLoad refuses it
		}
		found, err := eng.ImageExists(ctx, named.String())
		if err != nil {
			return err
		}
		existing[named.String()] = found
	}
	system, _ := a.cfg.System()
	patterns := append(slices.Clone(system.Run.Images), a.pol.Run.Images...)
	if err := plan.JudgeLoad(tags, patterns, existing); err != nil {
		return a.refuse(err)
	}
	return nil
}

// checkDataRoot refuses a load that would leave the daemon's data root
// with less than minFree: the daemon unpacks the archive there (its size)
// and then its layers (what they unpack to). Only a local daemon's disk
// can be looked at.
func (a *app) checkDataRoot(ctx context.Context, eng *engine.Engine, archive *imagetar.Archive, minFree int64) error {
	if !strings.HasPrefix(a.pol.DockerHost, "unix://") {
		return nil
	}
	root, err := eng.DataRoot(ctx)
	if err != nil {
		return err
	}
	free, err := spool.Free(root)
	if err != nil {
		return err
	}
	return a.refuseIf(plan.CheckRoom("Docker's data root ("+root+")", free, archive.Size+archive.Unpacked, minFree))
}

// loadSource opens -i FILE with the caller's rights (a regular file only),
// or returns stdin.
func (a *app) loadSource(name string) (io.ReadCloser, error) {
	if name == "" {
		if a.env.Stdin == nil || tty.IsTerminal(a.env.Stdin.Fd()) {
			return nil, refusal.Usagef("load: requested load from stdin, but stdin is a terminal: pass -i FILE or pipe an archive in")
		}
		return io.NopCloser(a.env.Stdin), nil
	}
	f, err := asuser.Open(a.cred(), name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("--input: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("--input %s: not a regular file", name)
	}
	return f, nil
}
