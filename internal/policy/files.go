package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// FileNames returns the files Load reads for the configuration at path:
// path itself, then <dir of path>/conf.d/*.toml in lexical order, leaving
// out names that start with "." (editors leave lock and backup files
// there). A missing conf.d is fine.
func FileNames(path string) ([]string, error) {
	dir := filepath.Join(filepath.Dir(path), "conf.d")
	entries, err := os.ReadDir(dir) // sorted by name
	if errors.Is(err, fs.ErrNotExist) {
		return []string{path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config drop-ins: %w", err)
	}
	names := []string{path}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		names = append(names, filepath.Join(dir, e.Name()))
	}
	return names, nil
}

// CheckOwnership checks that every file in names, and the directory that
// holds it, is owned by owner (root, in production) and writable by no
// one else: whoever can change the configuration decides what every user
// may run as root. It returns one ConfigError per problem, joined, or nil.
// A file that does not exist is not its problem (Load reports it).
func CheckOwnership(names []string, owner int) error {
	var errs []error
	seen := map[string]bool{}
	for _, name := range names {
		for _, p := range []string{filepath.Dir(name), name} {
			if seen[p] {
				continue
			}
			seen[p] = true
			if err := checkOwner(p, owner); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func checkOwner(path string, owner int) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &ConfigError{File: path, Msg: err.Error(), Err: err}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return &ConfigError{File: path, Msg: "cannot tell who owns it", Err: ErrUnsafeFile}
	}
	if int(st.Uid) != owner {
		return &ConfigError{File: path, Msg: fmt.Sprintf("owned by uid %d, must be owned by uid %d: only root may set the policy", st.Uid, owner), Err: ErrUnsafeFile}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return &ConfigError{File: path, Msg: fmt.Sprintf("mode %#o is writable by group or others: only root may set the policy", fi.Mode().Perm()), Err: ErrUnsafeFile}
	}
	return nil
}

// ErrUnsafeFile is the cause of a ConfigError about a configuration file
// or directory that someone besides its owner could change.
var ErrUnsafeFile = errors.New("unsafe configuration file")

// Load reads the configuration at path and the drop-ins
// <dir of path>/conf.d/*.toml in lexical order (names starting with "."
// are skipped: editors leave lock and backup files there). A missing
// conf.d is fine; a missing main file is an error.
func Load(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	names, err := FileNames(path)
	if err != nil {
		return nil, err
	}
	files := []File{{Name: path, Data: data}}
	for _, name := range names[1:] {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read config drop-in: %w", err)
		}
		files = append(files, File{Name: name, Data: data})
	}
	return Parse(files, opts)
}
