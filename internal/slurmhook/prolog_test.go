package slurmhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/gpu"
)

func baseEnv() map[string]string {
	return map[string]string{
		"SLURM_JOB_ID":    "42",
		"SLURM_JOB_UID":   "2001",
		"SLURM_JOB_GID":   "2001",
		"SLURM_JOB_USER":  "alice",
		"SLURM_JOB_GPUS":  "0,2",
		"SLURMD_NODENAME": "vm",
	}
}

func TestParsePrologEnv(t *testing.T) {
	base := PrologJob{ID: "42", UID: 2001, GID: 2001, User: "alice", GPUIndices: []int{0, 2}, Node: "vm"}
	tests := []struct {
		name      string
		set       map[string]string
		unset     []string
		want      func(*PrologJob)
		wantNotes []string
		wantErr   string
	}{
		{name: "all set"},
		{name: "no GPUs", unset: []string{"SLURM_JOB_GPUS"}, want: func(j *PrologJob) { j.GPUIndices = nil }},
		{name: "empty GPU list", set: map[string]string{"SLURM_JOB_GPUS": ""}, want: func(j *PrologJob) { j.GPUIndices = nil }},
		{name: "GPU range", set: map[string]string{"SLURM_JOB_GPUS": "1-3,7"}, want: func(j *PrologJob) { j.GPUIndices = []int{1, 2, 3, 7} }},
		{name: "SLUID", set: map[string]string{"SLURM_JOB_SLUID": "sEKNKTV3WPV500"}, want: func(j *PrologJob) { j.SLUID = "sEKNKTV3WPV500" }},
		{
			name:      "SLUID not understood",
			set:       map[string]string{"SLURM_JOB_SLUID": "42"},
			wantNotes: []string{`ignoring SLURM_JOB_SLUID="42": not a SLUID`},
		},
		{name: "no node name", unset: []string{"SLURMD_NODENAME"}, want: func(j *PrologJob) { j.Node = "" }},
		{name: "no job id", unset: []string{"SLURM_JOB_ID"}, wantErr: `SLURM_JOB_ID="" is not a Slurm job id (is ud-prolog run by slurmd as Prolog?)`},
		{name: "job id with a path in it", set: map[string]string{"SLURM_JOB_ID": "../42"}, wantErr: `SLURM_JOB_ID="../42" is not a Slurm job id`},
		{name: "no uid", unset: []string{"SLURM_JOB_UID"}, wantErr: `SLURM_JOB_UID="" is not a uid`},
		{name: "negative gid", set: map[string]string{"SLURM_JOB_GID": "-1"}, wantErr: `SLURM_JOB_GID="-1" is not a gid`},
		{name: "no user", unset: []string{"SLURM_JOB_USER"}, wantErr: `SLURM_JOB_USER="" is not a user name`},
		{name: "GPU not a number", set: map[string]string{"SLURM_JOB_GPUS": "0,gpu1"}, wantErr: `SLURM_JOB_GPUS="0,gpu1": "gpu1" is not a GPU index or range`},
		{name: "GPU twice", set: map[string]string{"SLURM_JOB_GPUS": "0-2,1"}, wantErr: `SLURM_JOB_GPUS="0-2,1": GPU index 1 listed twice`},
		{name: "GPU range backwards", set: map[string]string{"SLURM_JOB_GPUS": "3-1"}, wantErr: `SLURM_JOB_GPUS="3-1": "3-1" is not a GPU index or range`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := baseEnv()
			for k, v := range tc.set {
				env[k] = v
			}
			for _, k := range tc.unset {
				delete(env, k)
			}
			got, notes, err := ParsePrologEnv(env)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePrologEnv() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			want := base
			want.GPUIndices = append([]int(nil), base.GPUIndices...)
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParsePrologEnv() = %+v, want %+v", got, want)
			}
			if !reflect.DeepEqual(notes, tc.wantNotes) {
				t.Errorf("notes = %q, want %q", notes, tc.wantNotes)
			}
		})
	}
}

// mockGPUs is the dgxa100 mock with NVML index i at minor 7-i, and the
// facts a node with gres.conf "File=/dev/nvidia[0-3]" gives about it.
func mockGPUs(t testing.TB) (*dgxa100.Server, GPUFacts) {
	t.Helper()
	s := dgxa100.New()
	for i, h := range s.Devices {
		h.(*dgxa100.Device).Minor = 7 - i
	}
	lib, err := gpu.New(s)
	if err != nil {
		t.Fatal(err)
	}
	devs, err := lib.Devices()
	if err != nil {
		t.Fatal(err)
	}
	return s, GPUFacts{
		GresFiles:  []string{"/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia2", "/dev/nvidia3"},
		FileMinors: map[string]int{"/dev/nvidia0": 0, "/dev/nvidia2": 2},
		Devices:    devs,
	}
}

func TestNewRecord(t *testing.T) {
	s, facts := mockGPUs(t)
	uuid := func(i int) string { return s.Devices[i].(*dgxa100.Device).UUID }
	now := time.Date(2026, 1, 2, 16, 4, 5, 0, time.FixedZone("CET", 3600))
	job := PrologJob{ID: "42", UID: 2001, GID: 2001, User: "alice", GPUIndices: []int{0, 2}}
	lim := alloc.Limits{CPUs: "0-1", MemoryBytes: 1 << 30}
	base := alloc.Record{
		Version: 1, JobID: "42", UID: 2001, GID: 2001, User: "alice", Node: "vm",
		GPUIndices: []int{0, 2}, GPUUUIDs: []string{}, CPUs: "0-1", MemoryLimitBytes: 1 << 30,
		Created: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
	}
	tests := []struct {
		name      string
		job       func(*PrologJob)
		facts     GPUFacts
		want      func(*alloc.Record)
		wantNotes []string
	}{
		{
			name:  "GPUs mapped through minors",
			facts: facts,
			want: func(r *alloc.Record) {
				r.GPUUUIDs = []string{uuid(7), uuid(5)}
				r.GPUDevices = [][]string{{"/dev/nvidia0"}, {"/dev/nvidia2"}}
			},
		},
		{
			name: "no GPUs: no GPU facts needed",
			job:  func(j *PrologJob) { j.GPUIndices = nil },
			want: func(r *alloc.Record) { r.GPUIndices = []int{} },
		},
		{
			name:  "NVML absent",
			facts: GPUFacts{NoNVML: true, GresFiles: facts.GresFiles},
			want: func(r *alloc.Record) {
				r.GPUIDsAreIndices = true
				r.GPUDevices = [][]string{{"/dev/nvidia0"}, {"/dev/nvidia2"}}
			},
			wantNotes: []string{"NVML not found: no NVIDIA driver on this node; recording GRES indices [0 2], not UUIDs"},
		},
		{
			name:  "NVML absent, and gres.conf",
			facts: GPUFacts{NoNVML: true, GresErr: errors.New("read gres.conf: open /etc/slurm/gres.conf: no such file or directory")},
			want:  func(r *alloc.Record) { r.GPUIDsAreIndices = true },
			wantNotes: []string{"NVML not found: no NVIDIA driver on this node; recording GRES indices [0 2], not UUIDs",
				"the GPUs' device files are not known (read gres.conf: open /etc/slurm/gres.conf: no such file or directory): every step of the job gets all its GPUs"},
		},
		{
			name:  "MIG devices: each with its capability files",
			facts: GPUFacts{NoNVML: true, GresFiles: []string{"/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21,/dev/nvidia-caps/nvidia-cap22", "/dev/nvidia1"}},
			want: func(r *alloc.Record) {
				r.GPUIndices = []int{0, 1}
				r.GPUIDsAreIndices = true
				r.GPUDevices = [][]string{{"/dev/nvidia0", "/dev/nvidia-caps/nvidia-cap21", "/dev/nvidia-caps/nvidia-cap22"}, {"/dev/nvidia1"}}
			},
			job:       func(j *PrologJob) { j.GPUIndices = []int{0, 1} },
			wantNotes: []string{"NVML not found: no NVIDIA driver on this node; recording GRES indices [0 1], not UUIDs"},
		},
		{
			name:  "gathering failed",
			facts: GPUFacts{Err: errors.New("read gres.conf: open /etc/slurm/gres.conf: no such file or directory")},
			want: func(r *alloc.Record) {
				r.GPUError = "read gres.conf: open /etc/slurm/gres.conf: no such file or directory"
			},
			wantNotes: []string{"GPUs [0 2] will not be granted to containers: read gres.conf: open /etc/slurm/gres.conf: no such file or directory"},
		},
		{
			name:  "index beyond gres.conf",
			job:   func(j *PrologJob) { j.GPUIndices = []int{0, 4} },
			facts: facts,
			want: func(r *alloc.Record) {
				r.GPUIndices = []int{0, 4}
				r.GPUError = "GRES index 4 out of range: gres.conf lists 4 GPU device files"
			},
			wantNotes: []string{"GPUs [0 4] will not be granted to containers: GRES index 4 out of range: gres.conf lists 4 GPU device files"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job
			j.GPUIndices = append([]int(nil), job.GPUIndices...)
			if tc.job != nil {
				tc.job(&j)
			}
			got, notes := NewRecord(j, tc.facts, lim, "vm", now)
			want := base
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("NewRecord() =\n%+v\nwant\n%+v", got, want)
			}
			if !reflect.DeepEqual(notes, tc.wantNotes) {
				t.Errorf("notes = %q, want %q", notes, tc.wantNotes)
			}
			if err := got.Check(); err != nil {
				t.Errorf("NewRecord() made a record that does not validate: %v", err)
			}
		})
	}
}

// testPrologConfig runs the prolog against the mock GPUs, a gres.conf in
// memory and minor numbers from the file names, writing to dir.
func testPrologConfig(t testing.TB, dir string, log *bytes.Buffer) (PrologConfig, *dgxa100.Server) {
	s, _ := mockGPUs(t)
	return PrologConfig{
		StateDir:   dir,
		GresConf:   "/etc/slurm/gres.conf",
		CgroupRoot: t.TempDir(),
		DriverRoot: t.TempDir(),
		Log:        log,
		OpenGPUs:   func() (GPULister, error) { return gpu.New(s) },
		ReadFile: func(path string) ([]byte, error) {
			if path != "/etc/slurm/gres.conf" {
				return nil, fmt.Errorf("unexpected read of %s", path)
			}
			return []byte("Name=gpu File=/dev/nvidia[0-3]\n"), nil
		},
		StatMinors: func(files []string) (map[string]int, error) {
			m := map[string]int{}
			for _, f := range files {
				var n int
				if _, err := fmt.Sscanf(f, "/dev/nvidia%d", &n); err != nil {
					return nil, err
				}
				m[f] = n
			}
			return m, nil
		},
		Now: func() time.Time { return time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC) },
	}, s
}

func TestProlog(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	var log bytes.Buffer
	cfg, s := testPrologConfig(t, dir, &log)

	// A requeued job: the earlier run's record, with a SLUID copy.
	old := alloc.Record{Version: alloc.RecordVersion, JobID: "42", SLUID: "sEKNKTV3WPV500", UID: 2001, GID: 2001, User: "alice", Node: "vm",
		GPUIndices: []int{0, 2}, GPUUUIDs: []string{"GPU-2f3a6b1c-0d4e-4f5a-9b6c-7d8e9f0a1b2c", "GPU-8c7b6a59-4837-4261-a0b9-c8d7e6f5a4b3"},
		CPUs: "0-3", Created: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)}
	must(t, alloc.WriteRecord(dir, old))

	if err := Prolog(baseEnv(), cfg); err != nil {
		t.Fatalf("Prolog: %v", err)
	}
	got, err := alloc.ReadRecord(dir, "42", 2001)
	if err != nil {
		t.Fatalf("ReadRecord: %v", err)
	}
	want := alloc.Record{
		Version: 1, JobID: "42", UID: 2001, GID: 2001, User: "alice", Node: "vm",
		GPUIndices: []int{0, 2},
		GPUUUIDs:   []string{s.Devices[7].(*dgxa100.Device).UUID, s.Devices[5].(*dgxa100.Device).UUID},
		GPUDevices: [][]string{{"/dev/nvidia0"}, {"/dev/nvidia2"}},
		Created:    time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := os.Lstat(alloc.RecordPath(dir, old.SLUID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the earlier run's SLUID record is still there: %v", err)
	}
	wantLog := "ud-prolog: job 42: removed records of an earlier run (requeued?): " +
		alloc.RecordPath(dir, "42") + " " + alloc.RecordPath(dir, old.SLUID) + "\n"
	if log.String() != wantLog {
		t.Errorf("log =\n%s\nwant\n%s", log.String(), wantLog)
	}
}

func TestPrologWithoutNVML(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	var log bytes.Buffer
	cfg, _ := testPrologConfig(t, dir, &log)
	cfg.OpenGPUs = func() (GPULister, error) { return nil, gpu.ErrNoNVML }
	env := baseEnv()
	env["SLURM_JOB_SLUID"] = "sEKNKTV3WPV500"

	if err := Prolog(env, cfg); err != nil {
		t.Fatalf("Prolog: %v", err)
	}
	got, err := alloc.ReadRecord(dir, "sEKNKTV3WPV500", 2001)
	if err != nil {
		t.Fatalf("ReadRecord by SLUID: %v", err)
	}
	if !got.GPUIDsAreIndices || len(got.GPUUUIDs) != 0 || !reflect.DeepEqual(got.GPUIndices, []int{0, 2}) {
		t.Errorf("record GPUs = %v %v indices=%v, want indices [0 2] only", got.GPUIndices, got.GPUUUIDs, got.GPUIDsAreIndices)
	}
	wantLog := "ud-prolog: job 42: NVML not found: no NVIDIA driver on this node; recording GRES indices [0 2], not UUIDs\n"
	if log.String() != wantLog {
		t.Errorf("log = %q, want %q", log.String(), wantLog)
	}
	// The file on disk is what the format comment promises.
	data, _ := os.ReadFile(alloc.RecordPath(dir, "42"))
	var raw map[string]any
	must(t, json.Unmarshal(data, &raw))
	if raw["gpu_uuids"] == nil || raw["gpu_ids_are_indices"] != true {
		t.Errorf("record on disk: %s", data)
	}
}

func TestPrologFailsOnlyWithoutRecord(t *testing.T) {
	requireRoot(t)
	var log bytes.Buffer
	dir := stateDir(t)
	cfg, _ := testPrologConfig(t, dir, &log)

	// GPU trouble is recorded, not fatal.
	cfg.ReadFile = func(string) ([]byte, error) { return nil, os.ErrPermission }
	if err := Prolog(baseEnv(), cfg); err != nil {
		t.Fatalf("Prolog with unreadable gres.conf: %v", err)
	}
	got, err := alloc.ReadRecord(dir, "42", 2001)
	if err != nil || got.GPUError != "read gres.conf: permission denied" {
		t.Errorf("record = %+v, %v; want gpu_error about gres.conf", got, err)
	}

	// A state dir that readers would refuse is fatal.
	must(t, os.Chmod(dir, 0o777))
	err = Prolog(baseEnv(), cfg)
	want := "job 42: state directory unusable: directory " + dir + " is writable by group or others (mode 0777)"
	if err == nil || err.Error() != want {
		t.Errorf("Prolog() = %v, want %q", err, want)
	}

	// So is an environment without a job.
	if err := Prolog(map[string]string{}, cfg); err == nil {
		t.Errorf("Prolog without SLURM_JOB_ID succeeded")
	}
}

func TestEnvMap(t *testing.T) {
	got := EnvMap([]string{"A=1", "B=x=y", "C", "A=2"})
	want := map[string]string{"A": "2", "B": "x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EnvMap() = %v, want %v", got, want)
	}
}

// BenchmarkProlog measures the prolog's work for a 2-GPU job: parse the
// environment, map GPUs through the NVML mock, write the record (with
// fsync) to a temp dir. slurmd waits for this on every job start.
func BenchmarkProlog(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "state")
	cfg, _ := testPrologConfig(b, dir, &bytes.Buffer{})
	cfg.Log = nil
	env := baseEnv()
	if os.Geteuid() != 0 {
		b.Skip("needs root: the prolog refuses a state dir not owned by root")
	}
	for b.Loop() {
		if err := Prolog(env, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGatherGPUFactsWithoutNVML: NVML that cannot be loaded means "record
// the GRES indices" only on a node without an NVIDIA driver; with one, the
// indices could name another job's GPUs and the facts carry the error.
func TestGatherGPUFactsWithoutNVML(t *testing.T) {
	tests := []struct {
		name    string
		markers []string // made under the driver root
		want    string   // GPUFacts.Err, with ROOT for the driver root; "" for NoNVML
	}{
		{"no driver", nil, ""},
		{"GPU device files but no driver", []string{"dev/nvidia0"}, ""},
		{"driver's proc directory", []string{"proc/driver/nvidia/gpus"},
			"NVML cannot be loaded, but this node has an NVIDIA driver (ROOT/proc/driver/nvidia): a GRES index could name another job's GPU"},
		{"control device", []string{"dev/nvidiactl"},
			"NVML cannot be loaded, but this node has an NVIDIA driver (ROOT/dev/nvidiactl): a GRES index could name another job's GPU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, m := range tc.markers {
				p := filepath.Join(root, m)
				must(t, os.MkdirAll(filepath.Dir(p), 0o755))
				must(t, os.WriteFile(p, nil, 0o644))
			}
			cfg, _ := testPrologConfig(t, t.TempDir(), &bytes.Buffer{})
			cfg.DriverRoot = root
			cfg.OpenGPUs = func() (GPULister, error) { return nil, gpu.ErrNoNVML }
			cfg.setDefaults()
			g := GatherGPUFacts(cfg, "vm", []int{0, 2})
			if tc.want == "" {
				if !g.NoNVML || g.Err != nil {
					t.Errorf("facts = %+v, want NoNVML", g)
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "ROOT", root)
			if g.NoNVML || g.Err == nil || g.Err.Error() != want {
				t.Errorf("facts = %+v\nwant the error %s", g, want)
			}
		})
	}
}

// TestPrologNVMLMissingWithDriver: the whole prolog on a node whose driver
// is there but whose NVML cannot be loaded still succeeds (a failed prolog
// drains the node), and its record holds gpu_error, no UUIDs and no
// indices marked usable.
func TestPrologNVMLMissingWithDriver(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	var log bytes.Buffer
	cfg, _ := testPrologConfig(t, dir, &log)
	cfg.DriverRoot = t.TempDir()
	must(t, os.MkdirAll(filepath.Join(cfg.DriverRoot, "dev"), 0o755))
	must(t, os.WriteFile(filepath.Join(cfg.DriverRoot, "dev/nvidiactl"), nil, 0o644))
	cfg.OpenGPUs = func() (GPULister, error) { return nil, gpu.ErrNoNVML }

	if err := Prolog(baseEnv(), cfg); err != nil {
		t.Fatalf("Prolog: %v", err)
	}
	got, err := alloc.ReadRecord(dir, "42", 2001)
	if err != nil {
		t.Fatalf("ReadRecord: %v", err)
	}
	reason := "NVML cannot be loaded, but this node has an NVIDIA driver (" + cfg.DriverRoot + "/dev/nvidiactl): a GRES index could name another job's GPU"
	if got.GPUIDsAreIndices || len(got.GPUUUIDs) != 0 || got.GPUError != reason || !reflect.DeepEqual(got.GPUIndices, []int{0, 2}) {
		t.Errorf("record GPUs: indices %v, uuids %v, indices usable %v, error %q\nwant [0 2], none, false, %q",
			got.GPUIndices, got.GPUUUIDs, got.GPUIDsAreIndices, got.GPUError, reason)
	}
	if want := "ud-prolog: job 42: GPUs [0 2] will not be granted to containers: " + reason + "\n"; log.String() != want {
		t.Errorf("log = %q, want %q", log.String(), want)
	}
}
