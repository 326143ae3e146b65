package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/oldconfig"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/refusal"
	"github.com/userdocker/userdocker/internal/runflags"
)

// oldConfigPath is where the Python userdocker read its configuration.
const oldConfigPath = "/etc/userdocker/config.py"

// cmdConfigImport is `config import [-o FILE] [PATH]`: the Python
// userdocker's config.py at PATH (or in the directory PATH) and its
// group/, gid/, user/ and uid/ overrides, converted to TOML on stdout or
// into FILE. Every setting that was not carried over is reported on stderr
// (and at the top of the TOML); the result is then checked like `config
// check`, and problems make the exit status 1. The old files are parsed,
// never executed.
func cmdConfigImport(_ context.Context, a *app, args []string) error {
	fs := pflag.NewFlagSet("config import", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var help helpFlag
	fs.VarPF(&help, "help", "h", "Print usage").NoOptDefVal = "true"
	out := fs.StringP("output", "o", "", "write the TOML to `FILE` (which must not exist) instead of stdout")
	if err := fs.Parse(args); err != nil {
		return refusal.Usagef("config import: %v", err)
	}
	c := configCommandNamed("import")
	if help {
		fmt.Fprintf(a.env.Stdout, "Usage:  userdocker config import %s\n\n%s.\nPATH is a config.py or its directory; it defaults to %s.\n\nOptions:\n%s",
			c.usage, c.summary, oldConfigPath, fs.FlagUsages())
		return errHelpShown
	}
	path := oldConfigPath
	switch fs.NArg() {
	case 0:
	case 1:
		path = fs.Arg(0)
	default:
		return refusal.Usagef("\"config import\" accepts one PATH, got %d arguments", fs.NArg())
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "config.py")
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	files, err := oldconfig.Collect(os.DirFS(dir), base)
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		pe.Path = filepath.Join(dir, pe.Path) // name the file as the admin gave it
	}
	if err != nil {
		return fmt.Errorf("config import: %w", err)
	}
	for i := range files {
		files[i].Name = filepath.Join(dir, files[i].Name)
	}
	res := oldconfig.Convert(files, oldconfig.Options{IsRunFlag: func(s string) bool {
		_, _, ok := runflags.Canonical(s)
		return ok
	}})
	dest := "stdout"
	if *out != "" {
		dest = *out
		if err := writeNew(*out, res.TOML); err != nil {
			return fmt.Errorf("config import: -o %s: %w", *out, err)
		}
	} else if _, err := a.env.Stdout.Write(res.TOML); err != nil {
		return fmt.Errorf("config import: %w", err)
	}
	return a.importReport(res, dest)
}

// importReport lists what was not carried over, then checks the result.
func (a *app) importReport(res oldconfig.Result, dest string) error {
	w := a.env.Stderr
	if len(res.Notes) > 0 {
		fmt.Fprintf(w, "userdocker: config import: %s not converted or converted with a change (also listed at the top of the TOML):\n",
			plural(len(res.Notes), "setting"))
		for _, n := range res.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	_, err := policy.Parse([]policy.File{{Name: dest, Data: res.TOML}}, policy.Options{CheckFlag: runflags.Canonical})
	if problems := policy.Problems(err); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
		fmt.Fprintf(w, "userdocker: config import: the converted configuration has %s: fix them before installing it\n", plural(len(problems), "problem"))
		return errConfigProblems
	}
	fmt.Fprintf(w, "userdocker: config import: the converted configuration passes config check; review it, then install it as %s\n", a.env.ConfigPath)
	return nil
}

// writeNew creates name with data; it never replaces an existing file,
// so that a mistyped -o cannot overwrite the live configuration.
func writeNew(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
	if errors.Is(err, os.ErrExist) {
		return errors.New("exists already; choose a new file")
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
