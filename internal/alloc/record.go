package alloc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultStateDir is the state directory when the configuration names none
// ([slurm] state_dir).
const DefaultStateDir = "/run/userdocker"

// RecordFilePattern names an allocation record in the state directory:
// "job-<key>.json", where key is the numeric job id. When Slurm passes
// SLURM_JOB_SLUID, ud-prolog writes a second, identical record under the
// SLUID, for cgroup v2 layouts that name job cgroups by SLUID (JobRef.Key).
//
// The file is written by ud-prolog (root, 0644, atomically) and removed by
// ud-epilog. Readers refuse it unless the file and its directory are owned
// by root and not writable by group or others. Format, one JSON object,
// every key required unless marked optional, no other keys:
//
//	{
//	  "version": 1,
//	  "job_id": "42",                 // SLURM_JOB_ID
//	  "sluid": "sEKNKTV3WPV500",      // optional: SLURM_JOB_SLUID
//	  "uid": 2001, "gid": 2001,       // SLURM_JOB_UID, SLURM_JOB_GID
//	  "user": "alice",                // SLURM_JOB_USER
//	  "node": "vm",                   // SLURMD_NODENAME, or the host name
//	  "gpu_indices": [0, 2],          // SLURM_JOB_GPUS: Slurm GRES indices
//	  "gpu_uuids": ["GPU-…", "GPU-…"],// the same GPUs as NVML UUIDs, same order
//	  "gpu_ids_are_indices": false,   // true: no NVIDIA driver (so no NVML),
//	                                  // gpu_uuids empty, only gpu_indices
//	                                  // name the GPUs
//	  "gpu_error": "…",               // optional: why the GPUs could not be
//	                                  // mapped; gpu_uuids is then empty and
//	                                  // the job's GPUs must not be granted
//	  "gpu_devices": [["/dev/nvidia0"], ["/dev/nvidia2"]],
//	                                  // optional: each GPU's device files
//	                                  // (gres.conf File=, MIG capability
//	                                  // files included), same order as
//	                                  // gpu_indices; userdocker asks the
//	                                  // kernel which of them the caller's
//	                                  // job step and task may open
//	  "cpus": "0-3",                  // job cpuset if the prolog could read it, or ""
//	  "memory_limit_bytes": 0,        // job memory limit if readable, 0: none/unknown
//	  "created": "2026-01-02T15:04:05Z"
//	}
const RecordFilePattern = "job-%s.json"

// RecordVersion is the record format this code writes and reads.
const RecordVersion = 1

// maxRecordSize bounds what a reader reads of a record.
const maxRecordSize = 1 << 20

// Record is a job's allocation on this node, as ud-prolog recorded it.
type Record struct {
	Version          int        `json:"version"`
	JobID            string     `json:"job_id"`
	SLUID            string     `json:"sluid,omitempty"`
	UID              uint32     `json:"uid"`
	GID              uint32     `json:"gid"`
	User             string     `json:"user"`
	Node             string     `json:"node"`
	GPUIndices       []int      `json:"gpu_indices"`
	GPUUUIDs         []string   `json:"gpu_uuids"`
	GPUIDsAreIndices bool       `json:"gpu_ids_are_indices"`
	GPUError         string     `json:"gpu_error,omitempty"`
	GPUDevices       [][]string `json:"gpu_devices,omitempty"`
	CPUs             string     `json:"cpus"`
	MemoryLimitBytes int64      `json:"memory_limit_bytes"`
	Created          time.Time  `json:"created"`
}

var requiredKeys = []string{
	"version", "job_id", "uid", "gid", "user", "node", "gpu_indices", "gpu_uuids",
	"gpu_ids_are_indices", "cpus", "memory_limit_bytes", "created",
}

// RecordPath is the path of the record filed under key (a job id or SLUID).
func RecordPath(dir, key string) string {
	return filepath.Join(dir, fmt.Sprintf(RecordFilePattern, key))
}

// RecordError says which record could not be used and why.
type RecordError struct {
	Path string
	Err  error
}

func (e *RecordError) Error() string { return "allocation record " + e.Path + ": " + e.Err.Error() }

func (e *RecordError) Unwrap() error { return e.Err }

// FileFacts are what lstat/fstat say about a file, as far as trust goes.
type FileFacts struct {
	UID  uint32
	Mode fs.FileMode
}

// RecordFacts are the facts about a record file that Validate judges along
// with its contents.
type RecordFacts struct {
	Path string
	// Key is the job id or SLUID the record was looked up by.
	Key  string
	Dir  FileFacts
	File FileFacts
}

// Marshal encodes r in the record format, empty lists as [] not null.
func (r Record) Marshal() ([]byte, error) {
	if r.GPUIndices == nil {
		r.GPUIndices = []int{}
	}
	if r.GPUUUIDs == nil {
		r.GPUUUIDs = []string{}
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ParseRecord decodes a record: one JSON object with every required key,
// none null, and no unknown key. It does not judge the values (Validate).
func ParseRecord(data []byte) (Record, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Record{}, fmt.Errorf("not a JSON object (truncated?): %w", err)
	}
	for _, k := range requiredKeys {
		v, ok := raw[k]
		if !ok {
			return Record{}, fmt.Errorf("incomplete: no %q", k)
		}
		if string(v) == "null" {
			return Record{}, fmt.Errorf("incomplete: %q is null", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// Validate decides whether a record may be trusted for callerUID, looked up
// by f.Key: the file and its directory owned by root and writable by nobody
// else, the file regular, the record whole and self-consistent, for that
// job, and the caller's. The returned error is a *RecordError.
func Validate(r Record, f RecordFacts, callerUID uint32) error {
	if err := checkFacts(f); err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return &RecordError{Path: f.Path, Err: fmt.Errorf(format, args...)}
	}
	if r.Version != RecordVersion {
		return fail("version %d, this userdocker reads version %d", r.Version, RecordVersion)
	}
	if r.JobID != f.Key && (r.SLUID == "" || r.SLUID != f.Key) {
		return fail("is for job %s, not job %s", r.JobID, f.Key)
	}
	if r.UID != callerUID {
		return fail("job %s belongs to uid %d, not to the caller (uid %d)", r.JobID, r.UID, callerUID)
	}
	if err := r.Check(); err != nil {
		return &RecordError{Path: f.Path, Err: err}
	}
	return nil
}

// checkFacts judges the file facts alone, so that a reader can refuse an
// untrusted file before it looks at what is inside.
func checkFacts(f RecordFacts) error {
	fail := func(format string, args ...any) error {
		return &RecordError{Path: f.Path, Err: fmt.Errorf(format, args...)}
	}
	dir := filepath.Dir(f.Path)
	switch {
	case f.Dir.Mode&fs.ModeSymlink != 0:
		return fail("directory %s is a symbolic link", dir)
	case !f.Dir.Mode.IsDir():
		return fail("%s is not a directory", dir)
	case f.Dir.UID != 0:
		return fail("directory %s is owned by uid %d, not root", dir, f.Dir.UID)
	case f.Dir.Mode.Perm()&0o022 != 0:
		return fail("directory %s is writable by group or others (mode %04o)", dir, f.Dir.Mode.Perm())
	case f.File.Mode&fs.ModeSymlink != 0:
		return fail("is a symbolic link")
	case !f.File.Mode.IsRegular():
		return fail("is not a regular file")
	case f.File.UID != 0:
		return fail("is owned by uid %d, not root", f.File.UID)
	case f.File.Mode.Perm()&0o022 != 0:
		return fail("is writable by group or others (mode %04o)", f.File.Mode.Perm())
	}
	return nil
}

// Check judges what a record says on its own: what ReadRecord refuses
// besides where it found the record and who owns it.
func (r Record) Check() error {
	switch {
	case !ValidJobID(r.JobID):
		return fmt.Errorf("job_id %q is not a Slurm job id", r.JobID)
	case r.SLUID != "" && !ValidSLUID(r.SLUID):
		return fmt.Errorf("sluid %q is not a SLUID", r.SLUID)
	case r.User == "":
		return fmt.Errorf("user is empty")
	case r.Node == "":
		return fmt.Errorf("node is empty")
	case r.Created.IsZero():
		return fmt.Errorf("created is not set")
	case r.MemoryLimitBytes < 0:
		return fmt.Errorf("memory_limit_bytes %d is negative", r.MemoryLimitBytes)
	}
	if err := ValidateCPUList(r.CPUs); err != nil {
		return fmt.Errorf("cpus: %w", err)
	}
	for i, idx := range r.GPUIndices {
		if idx < 0 || slices.Contains(r.GPUIndices[:i], idx) {
			return fmt.Errorf("gpu_indices %v: %d is negative or repeated", r.GPUIndices, idx)
		}
	}
	switch {
	case r.GPUIDsAreIndices && len(r.GPUUUIDs) > 0:
		return fmt.Errorf("gpu_ids_are_indices is set but gpu_uuids is not empty")
	case r.GPUError != "" && len(r.GPUUUIDs) > 0:
		return fmt.Errorf("gpu_error is set but gpu_uuids is not empty")
	case !r.GPUIDsAreIndices && r.GPUError == "" && len(r.GPUUUIDs) != len(r.GPUIndices):
		return fmt.Errorf("%d gpu_uuids for %d gpu_indices", len(r.GPUUUIDs), len(r.GPUIndices))
	}
	for i, u := range r.GPUUUIDs {
		if !validGPUUUID(u) || slices.Contains(r.GPUUUIDs[:i], u) {
			return fmt.Errorf("gpu_uuids: %q is not a GPU UUID, or repeated", u)
		}
	}
	if len(r.GPUDevices) > 0 && len(r.GPUDevices) != len(r.GPUIndices) {
		return fmt.Errorf("%d gpu_devices for %d gpu_indices", len(r.GPUDevices), len(r.GPUIndices))
	}
	for _, files := range r.GPUDevices {
		if len(files) == 0 {
			return fmt.Errorf("gpu_devices: a GPU without device files")
		}
		for _, f := range files {
			// gres.conf names them; they are only asked whether the
			// caller's task may open them, so any clean absolute path will do.
			if !filepath.IsAbs(f) || filepath.Clean(f) != f {
				return fmt.Errorf("gpu_devices: %q is not a clean absolute path", f)
			}
		}
	}
	return nil
}

// validGPUUUID accepts NVML's "GPU-<uuid>" and "MIG-<uuid>" forms, which
// are what Docker's nvidia device driver takes as device IDs.
func validGPUUUID(s string) bool {
	rest, ok := strings.CutPrefix(s, "GPU-")
	if !ok {
		rest, ok = strings.CutPrefix(s, "MIG-")
	}
	if !ok || len(rest) < 8 || len(rest) > 64 {
		return false
	}
	for _, c := range rest {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}

// NodeName is the name of this node for a job: slurmd's SLURMD_NODENAME,
// or, where that is empty (not run by slurmd), the short host name, and
// "unknown" without either. ud-prolog records it as the record's node;
// ud-epilog, which runs once the record is gone, names the job's parent
// cgroup with it again, so both must come to the same name.
func NodeName(slurmdNodeName string, hostname func() (string, error)) string {
	if slurmdNodeName != "" {
		return slurmdNodeName
	}
	node, err := hostname()
	if err != nil || node == "" {
		return "unknown"
	}
	node, _, _ = strings.Cut(node, ".")
	return node
}
