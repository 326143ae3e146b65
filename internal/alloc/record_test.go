package alloc

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	uuidA = "GPU-2f3a6b1c-0d4e-4f5a-9b6c-7d8e9f0a1b2c"
	uuidB = "GPU-8c7b6a59-4837-4261-a0b9-c8d7e6f5a4b3"
)

// baseRecord is a valid record of job 42 for uid 2001; each test case
// changes one thing.
func baseRecord() Record {
	return Record{
		Version:    RecordVersion,
		JobID:      "42",
		UID:        2001,
		GID:        2001,
		User:       "alice",
		Node:       "vm",
		GPUIndices: []int{0, 2},
		GPUUUIDs:   []string{uuidA, uuidB},
		CPUs:       "0-3",
		Created:    time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
	}
}

func baseFacts() RecordFacts {
	return RecordFacts{
		Path: "/run/userdocker/job-42.json",
		Key:  "42",
		Dir:  FileFacts{UID: 0, Mode: fs.ModeDir | 0o755},
		File: FileFacts{UID: 0, Mode: 0o644},
	}
}

func TestValidate(t *testing.T) {
	const prefix = "allocation record /run/userdocker/job-42.json: "
	tests := []struct {
		name    string
		rec     func(*Record)
		facts   func(*RecordFacts)
		caller  uint32
		wantErr string
	}{
		{name: "valid"},
		{name: "valid, no GPUs", rec: func(r *Record) { r.GPUIndices, r.GPUUUIDs = []int{}, []string{} }},
		{name: "valid, NVML absent", rec: func(r *Record) { r.GPUUUIDs, r.GPUIDsAreIndices = []string{}, true }},
		{name: "valid, GPUs not mapped", rec: func(r *Record) { r.GPUUUIDs, r.GPUError = []string{}, "no NVML device has minor number 9" }},
		{name: "valid, looked up by SLUID", rec: func(r *Record) { r.SLUID = "sEKNKTV3WPV500" }, facts: func(f *RecordFacts) { f.Key = "sEKNKTV3WPV500" }},
		{name: "valid, sticky root dir 01755", facts: func(f *RecordFacts) { f.Dir.Mode = fs.ModeDir | fs.ModeSticky | 0o755 }},

		{name: "file owned by a user", facts: func(f *RecordFacts) { f.File.UID = 2001 }, wantErr: "is owned by uid 2001, not root"},
		{name: "file group-writable", facts: func(f *RecordFacts) { f.File.Mode = 0o664 }, wantErr: "is writable by group or others (mode 0664)"},
		{name: "file other-writable", facts: func(f *RecordFacts) { f.File.Mode = 0o646 }, wantErr: "is writable by group or others (mode 0646)"},
		{name: "file is a symlink", facts: func(f *RecordFacts) { f.File.Mode = fs.ModeSymlink | 0o777 }, wantErr: "is a symbolic link"},
		{name: "file is a FIFO", facts: func(f *RecordFacts) { f.File.Mode = fs.ModeIrregular | 0o644 }, wantErr: "is not a regular file"},
		{name: "file is a directory", facts: func(f *RecordFacts) { f.File.Mode = fs.ModeDir | 0o755 }, wantErr: "is not a regular file"},
		{name: "dir owned by a user", facts: func(f *RecordFacts) { f.Dir.UID = 2001 }, wantErr: "directory /run/userdocker is owned by uid 2001, not root"},
		{name: "dir group-writable", facts: func(f *RecordFacts) { f.Dir.Mode = fs.ModeDir | 0o775 }, wantErr: "directory /run/userdocker is writable by group or others (mode 0775)"},
		{name: "dir world-writable and sticky", facts: func(f *RecordFacts) { f.Dir.Mode = fs.ModeDir | fs.ModeSticky | 0o777 }, wantErr: "directory /run/userdocker is writable by group or others (mode 0777)"},
		{name: "dir is a symlink", facts: func(f *RecordFacts) { f.Dir.Mode = fs.ModeSymlink | 0o777 }, wantErr: "directory /run/userdocker is a symbolic link"},
		{name: "dir is a file", facts: func(f *RecordFacts) { f.Dir.Mode = 0o755 }, wantErr: "/run/userdocker is not a directory"},

		{name: "another user's job", caller: 2002, wantErr: "job 42 belongs to uid 2001, not to the caller (uid 2002)"},
		{name: "another job", rec: func(r *Record) { r.JobID = "43" }, wantErr: "is for job 43, not job 42"},
		{name: "SLUID of another job", rec: func(r *Record) { r.SLUID = "sEKNKTV3WPV500" }, facts: func(f *RecordFacts) { f.Key = "sEKNKTV3WPV501" }, wantErr: "is for job 42, not job sEKNKTV3WPV501"},
		{name: "other version", rec: func(r *Record) { r.Version = 2 }, wantErr: "version 2, this userdocker reads version 1"},
		{name: "no user", rec: func(r *Record) { r.User = "" }, wantErr: "user is empty"},
		{name: "no node", rec: func(r *Record) { r.Node = "" }, wantErr: "node is empty"},
		{name: "no time", rec: func(r *Record) { r.Created = time.Time{} }, wantErr: "created is not set"},
		{name: "negative memory", rec: func(r *Record) { r.MemoryLimitBytes = -1 }, wantErr: "memory_limit_bytes -1 is negative"},
		{name: "bad cpus", rec: func(r *Record) { r.CPUs = "0-3 --privileged" }, wantErr: `cpus: cpu list "0-3 --privileged"`},
		{name: "bad SLUID", rec: func(r *Record) { r.SLUID = "x" }, wantErr: `sluid "x" is not a SLUID`},
		{name: "fewer UUIDs than indices", rec: func(r *Record) { r.GPUUUIDs = r.GPUUUIDs[:1] }, wantErr: "1 gpu_uuids for 2 gpu_indices"},
		{name: "indices flag with UUIDs", rec: func(r *Record) { r.GPUIDsAreIndices = true }, wantErr: "gpu_ids_are_indices is set but gpu_uuids is not empty"},
		{name: "gpu_error with UUIDs", rec: func(r *Record) { r.GPUError = "x" }, wantErr: "gpu_error is set but gpu_uuids is not empty"},
		{name: "UUID that is not one", rec: func(r *Record) { r.GPUUUIDs[1] = "all" }, wantErr: `gpu_uuids: "all" is not a GPU UUID, or repeated`},
		{name: "UUID twice", rec: func(r *Record) { r.GPUUUIDs[1] = uuidA }, wantErr: `gpu_uuids: "` + uuidA + `" is not a GPU UUID, or repeated`},
		{name: "index twice", rec: func(r *Record) { r.GPUIndices[1] = 0 }, wantErr: "gpu_indices [0 0]: 0 is negative or repeated"},
		{name: "valid, with device files", rec: func(r *Record) {
			r.GPUDevices = [][]string{{"/dev/nvidia0"}, {"/dev/nvidia2", "/dev/nvidia-caps/nvidia-cap21"}}
		}},
		{name: "device files for fewer GPUs", rec: func(r *Record) { r.GPUDevices = [][]string{{"/dev/nvidia0"}} }, wantErr: "1 gpu_devices for 2 gpu_indices"},
		{name: "a GPU without device files", rec: func(r *Record) { r.GPUDevices = [][]string{{"/dev/nvidia0"}, {}} }, wantErr: "gpu_devices: a GPU without device files"},
		{name: "relative device file", rec: func(r *Record) { r.GPUDevices = [][]string{{"/dev/nvidia0"}, {"dev/nvidia1"}} },
			wantErr: `gpu_devices: "dev/nvidia1" is not a clean absolute path`},
		{name: "device file with ..", rec: func(r *Record) { r.GPUDevices = [][]string{{"/dev/nvidia0"}, {"/dev/../tmp/x"}} },
			wantErr: `gpu_devices: "/dev/../tmp/x" is not a clean absolute path`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, f := baseRecord(), baseFacts()
			if tc.rec != nil {
				tc.rec(&r)
			}
			if tc.facts != nil {
				tc.facts(&f)
			}
			caller := uint32(2001)
			if tc.caller != 0 {
				caller = tc.caller
			}
			err := Validate(r, f, caller)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), prefix+tc.wantErr) {
				t.Fatalf("Validate() = %v, want %q", err, prefix+tc.wantErr)
			}
			var re *RecordError
			if !errors.As(err, &re) || re.Path != f.Path {
				t.Errorf("error is not a *RecordError for %s: %#v", f.Path, err)
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []Record{baseRecord(), {Version: 1, JobID: "1", User: "u", Node: "n", Created: time.Unix(1, 0).UTC()}} {
		data, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseRecord(data)
		if err != nil {
			t.Fatalf("ParseRecord(Marshal()) = %v\n%s", err, data)
		}
		if r.GPUIndices == nil {
			r.GPUIndices, r.GPUUUIDs = []int{}, []string{}
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip = %+v, want %+v", got, r)
		}
	}
}

func TestParseRecord(t *testing.T) {
	good, err := baseRecord().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(good)
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "truncated", data: s[:len(s)/2], wantErr: "not a JSON object (truncated?): unexpected end of JSON input"},
		{name: "empty", data: "", wantErr: "not a JSON object (truncated?): unexpected end of JSON input"},
		{name: "array", data: "[]", wantErr: "not a JSON object (truncated?)"},
		{name: "trailing data", data: s + "{}", wantErr: "not a JSON object (truncated?): invalid character '{' after top-level value"},
		{name: "missing key", data: strings.Replace(s, `"cpus": "0-3",`, "", 1), wantErr: `incomplete: no "cpus"`},
		{name: "null list", data: strings.Replace(s, `"gpu_uuids": [`, `"gpu_uuids": null, "x": [`, 1), wantErr: `incomplete: "gpu_uuids" is null`},
		{name: "unknown key", data: strings.Replace(s, `"cpus"`, `"privileged": true, "cpus"`, 1), wantErr: `json: unknown field "privileged"`},
		{name: "negative uid", data: strings.Replace(s, `"uid": 2001`, `"uid": -1`, 1), wantErr: "json: cannot unmarshal number -1 into Go struct field Record.uid of type uint32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tc.data))
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("ParseRecord() error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzParseRecord(f *testing.F) {
	good, _ := baseRecord().Marshal()
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		if err := Validate(r, RecordFacts{Path: "/x/job.json", Key: r.JobID, Dir: baseFacts().Dir, File: baseFacts().File}, r.UID); err != nil {
			return
		}
		// Whatever validates must survive a round trip unchanged.
		again, err := r.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a valid record: %v", err)
		}
		r2, err := ParseRecord(again)
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip of a valid record: %v\n%+v\n%+v", err, r, r2)
		}
	})
}

func TestNodeName(t *testing.T) {
	host := func(name string, err error) func() (string, error) {
		return func() (string, error) { return name, err }
	}
	for _, tc := range []struct {
		name, slurmd string
		hostname     func() (string, error)
		want         string
	}{
		{"slurmd's name first", "vm2", host("vm.example.org", nil), "vm2"},
		{"else the short host name", "", host("vm.example.org", nil), "vm"},
		{"no host name", "", host("", nil), "unknown"},
		{"host name fails", "", host("vm", errors.New("uname")), "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NodeName(tc.slurmd, tc.hostname); got != tc.want {
				t.Errorf("NodeName(%q) = %q, want %q", tc.slurmd, got, tc.want)
			}
		})
	}
}
