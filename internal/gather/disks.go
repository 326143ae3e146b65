package gather

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/spool"
)

// Disks tells `config check` about the directories the configuration
// names (SystemDisks: this machine's).
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

// SystemDisks are this machine's file systems.
type SystemDisks struct{}

// SpoolEntries returns the facts of dir's path from the file system.
func (SystemDisks) SpoolEntries(dir string) ([]plan.DirEntry, error) { return spool.Entries(dir) }

// Device returns the device of the file system path is on, or of its
// nearest existing parent.
func (SystemDisks) Device(path string) (uint64, error) {
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

// DataRoot returns the data root /etc/docker/daemon.json names, else
// Docker's default.
func (SystemDisks) DataRoot() string {
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
