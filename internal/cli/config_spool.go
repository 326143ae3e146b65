package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/spool"
)

// Disks tells `config check` about the directories the configuration
// names. Env.Disks nil means the real file systems (realDisks).
type Disks interface {
	// SpoolEntries returns the facts of dir's path, for plan.CheckSpoolDir.
	SpoolEntries(dir string) ([]plan.DirEntry, error)
	// Device returns the device of the file system path is on, or of its
	// nearest existing parent.
	Device(path string) (uint64, error)
	// DataRoot returns Docker's data root as /etc/docker/daemon.json names
	// it ("data-root"), else Docker's default, /var/lib/docker.
	DataRoot() string
}

// realDisks are this machine's file systems.
type realDisks struct{}

func (realDisks) SpoolEntries(dir string) ([]plan.DirEntry, error) { return spool.Entries(dir) }

func (realDisks) Device(path string) (uint64, error) {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		var st unix.Stat_t
		err := unix.Stat(p, &st)
		if err == nil {
			return st.Dev, nil
		}
		if p == "/" {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// daemonJSON is dockerd's configuration file, where a data root other
// than the default is usually set.
const daemonJSON = "/etc/docker/daemon.json"

func (realDisks) DataRoot() string {
	var cfg struct {
		DataRoot string `json:"data-root"`
		Graph    string `json:"graph"` // the old name of data-root
	}
	if data, err := os.ReadFile(daemonJSON); err == nil && json.Unmarshal(data, &cfg) == nil {
		if cfg.DataRoot != "" {
			return cfg.DataRoot
		}
		if cfg.Graph != "" {
			return cfg.Graph
		}
	}
	return "/var/lib/docker"
}

func (a *app) disks() Disks {
	if a.env.Disks != nil {
		return a.env.Disks
	}
	return realDisks{}
}

// spoolProblem is a load.spool_dir that load would refuse to use.
type spoolProblem struct {
	dir, from, why string
}

func (p *spoolProblem) Error() string {
	return fmt.Sprintf("%s: load.spool_dir: %s", p.from, p.why)
}

func (p *spoolProblem) hint() string {
	return fmt.Sprintf("let root alone write every directory on the way: install -d -m 0700 -o root -g root %s, or set load.spool_dir to such a directory", p.dir)
}

// checkSpool judges the configured load spool as load will, and warns
// when it shares a file system with what a full disk would break.
func (a *app) checkSpool(cfg *policy.Config) (problems []error, warnings []string) {
	pol, prov := cfg.System()
	dir := pol.Load.SpoolDir
	disks := a.disks()
	entries, err := disks.SpoolEntries(dir)
	why := ""
	if err != nil {
		why = err.Error()
	} else {
		why = plan.SpoolDirProblem(entries)
	}
	if why != "" {
		return []error{&spoolProblem{dir: dir, from: prov["load.spool_dir"].String(), why: why}}, nil
	}
	spoolDev, err := disks.Device(dir)
	if err != nil {
		return nil, []string{fmt.Sprintf("cannot tell which file system load.spool_dir %s is on: %v", dir, err)}
	}
	for _, other := range []struct{ what, path, breaks string }{
		{"slurm.state_dir", pol.Slurm.StateDir, "ud-prolog fails and the node drains"},
		{"Docker's data root", disks.DataRoot(), "the daemon fails"},
	} {
		if dev, err := disks.Device(other.path); err == nil && dev == spoolDev {
			warnings = append(warnings, fmt.Sprintf(
				"load.spool_dir %s shares a file system with %s %s: should it fill, %s; load.min_free (%s) is all that guards it, a file system of its own is safer",
				dir, other.what, other.path, other.breaks, pol.Load.MinFree))
		}
	}
	return nil, warnings
}
