package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/imagetar"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/tty"
)

// maxLoadSize bounds an image archive: it is copied to a root-only
// temporary file to be read before the daemon gets it.
const maxLoadSize = 16 << 30

// spoolDir holds that file. It is fixed: TMPDIR is the caller's to set.
const spoolDir = "/var/tmp"

func cmdLoad(ctx context.Context, a *app, args []string) error {
	fs := subFlags("load")
	input := fs.StringP("input", "i", "", "Read from tar archive file, instead of STDIN")
	quiet := fs.BoolP("quiet", "q", false, "Suppress the load output")
	if err := a.parseSub(fs, "load [OPTIONS]", args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("\"load\" accepts no arguments")
	}
	src, err := a.loadSource(*input)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := spool(src, maxLoadSize)
	if err != nil {
		return err
	}
	defer tmp.Close()
	tags, err := imagetar.Tags(tmp)
	if err != nil {
		return a.refuse(&plan.Refusal{Rule: "load", Msg: "load: " + err.Error()})
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
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
	patterns := append(append([]string{}, system.Run.Images...), a.pol.Run.Images...)
	if err := plan.JudgeLoad(tags, patterns, existing); err != nil {
		return a.refuse(err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("load: rewind the archive: %w", err)
	}
	return eng.Load(ctx, tmp, *quiet || a.quiet, a.env.Stdout, engine.StdStreams().OutIsTerm)
}

// loadSource opens -i FILE with the caller's rights (a regular file only),
// or returns stdin.
func (a *app) loadSource(name string) (io.ReadCloser, error) {
	if name == "" {
		if a.env.Stdin == nil || tty.IsTerminal(a.env.Stdin.Fd()) {
			return nil, usageErrorf("load: requested load from stdin, but stdin is a terminal: pass -i FILE or pipe an archive in")
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

// spool copies r into an unlinked root-only temporary file, at most max
// bytes, and returns it rewound.
func spool(r io.Reader, max int64) (*os.File, error) {
	f, err := os.CreateTemp(spoolDir, "userdocker-load-*")
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	os.Remove(f.Name()) // nothing but this process reaches it now
	n, err := io.Copy(f, io.LimitReader(r, max+1))
	if err == nil && n > max {
		err = fmt.Errorf("the archive is larger than %d GiB, the most userdocker loads", max>>30)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("load: %w", err)
	}
	return f, nil
}
