package gather

import (
	"fmt"
	"strings"

	"github.com/userdocker/userdocker/internal/asuser"
	"github.com/userdocker/userdocker/internal/request"
	"github.com/userdocker/userdocker/internal/runflags"
)

// maxArgFile bounds --env-file and --label-file: they are read into memory.
const maxArgFile = 1 << 20

// Cred is who files are opened as: the caller, never root (DESIGN.md §3.3).
func Cred(c request.Caller) asuser.Cred {
	return asuser.Cred{UID: c.UID, GID: c.GID, Groups: c.Groups}
}

// readArgFiles reads --env-file and --label-file with the caller's rights
// into req.FileEnv and req.FileLabels; the plan puts them before the
// flags' own entries, as docker does.
func readArgFiles(who request.Caller, req *request.Run) error {
	req.FileEnv, req.FileLabels = nil, nil
	for _, name := range req.EnvFiles {
		lines, err := readArgFile(who, "env-file", name)
		if err != nil {
			return err
		}
		req.FileEnv = append(req.FileEnv, lines...)
	}
	for _, name := range req.LabelFiles {
		lines, err := readArgFile(who, "label-file", name)
		if err != nil {
			return err
		}
		if req.FileLabels == nil {
			req.FileLabels = map[string]string{}
		}
		for _, l := range lines {
			k, v, _ := strings.Cut(l, "=")
			req.FileLabels[k] = v
		}
	}
	return nil
}

func readArgFile(who request.Caller, flag, name string) ([]string, error) {
	data, err := asuser.ReadFile(Cred(who), name, maxArgFile)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	lines, err := runflags.ParseKeyValueFile(flag, data)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", flag, name, err)
	}
	return lines, nil
}
