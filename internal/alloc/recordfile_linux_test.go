package alloc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// requireRoot skips tests whose subject is root ownership. CI runs as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: records must be root-owned (CI runs tests as root)")
	}
}

// stateDir returns a fresh root-owned 0755 state directory.
func stateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteReadRecord(t *testing.T) {
	requireRoot(t)
	dir := filepath.Join(t.TempDir(), "run", "userdocker") // created by WriteRecord
	rec := baseRecord()
	rec.SLUID = "sEKNKTV3WPV500"
	if err := WriteRecord(dir, rec); err != nil {
		t.Fatalf("WriteRecord: %v", err)
	}
	for _, p := range []string{dir, RecordPath(dir, "42"), RecordPath(dir, rec.SLUID)} {
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o644)
		if p == dir {
			want = fs.ModeDir | 0o755
		}
		if st.Mode() != want || st.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Errorf("%s: mode %v uid %d, want %v uid 0", p, st.Mode(), st.Sys().(*syscall.Stat_t).Uid, want)
		}
	}
	for _, key := range []string{"42", rec.SLUID} {
		got, err := ReadRecord(dir, key, 2001)
		if err != nil {
			t.Fatalf("ReadRecord(%s): %v", key, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("ReadRecord(%s) = %+v, want %+v", key, got, rec)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("state dir holds %d entries, want the 2 records (no temp files)", len(entries))
	}
}

func TestWriteRecordReplaces(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	rec := baseRecord()
	if err := WriteRecord(dir, rec); err != nil {
		t.Fatal(err)
	}
	rec.GPUIndices, rec.GPUUUIDs = []int{}, []string{}
	if err := WriteRecord(dir, rec); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecord(dir, "42", 2001)
	if err != nil || len(got.GPUIndices) != 0 {
		t.Errorf("ReadRecord after rewrite = %+v, %v; want the second record", got, err)
	}
}

func TestWriteRecordRefusesUntrustedDir(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	err := WriteRecord(dir, baseRecord())
	want := "state directory unusable: directory " + dir + " is writable by group or others (mode 0777)"
	if err == nil || err.Error() != want {
		t.Errorf("WriteRecord() = %v, want %q", err, want)
	}
}

func TestReadRecordRefuses(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir, path string)
		caller  uint32
		key     string
		wantErr string
		notExit bool
	}{
		{
			name:    "missing",
			setup:   func(t *testing.T, dir, path string) { os.Remove(path) },
			wantErr: "no such file or directory",
			notExit: true,
		},
		{
			name:    "file owned by the user",
			setup:   func(t *testing.T, dir, path string) { must(t, os.Chown(path, 2001, 2001)) },
			wantErr: "is owned by uid 2001, not root",
		},
		{
			name:    "file group-writable",
			setup:   func(t *testing.T, dir, path string) { must(t, os.Chmod(path, 0o664)) },
			wantErr: "is writable by group or others (mode 0664)",
		},
		{
			name:    "file other-writable",
			setup:   func(t *testing.T, dir, path string) { must(t, os.Chmod(path, 0o606)) },
			wantErr: "is writable by group or others (mode 0606)",
		},
		{
			name:    "dir other-writable",
			setup:   func(t *testing.T, dir, path string) { must(t, os.Chmod(dir, 0o757)) },
			wantErr: "directory {dir} is writable by group or others (mode 0757)",
		},
		{
			name:    "dir owned by the user",
			setup:   func(t *testing.T, dir, path string) { must(t, os.Chown(dir, 2001, 2001)) },
			wantErr: "directory {dir} is owned by uid 2001, not root",
		},
		{
			name: "symlink to a valid record",
			setup: func(t *testing.T, dir, path string) {
				elsewhere := filepath.Join(t.TempDir(), "job-42.json")
				must(t, os.Rename(path, elsewhere))
				must(t, os.Symlink(elsewhere, path))
			},
			wantErr: "is a symbolic link",
		},
		{
			name: "state dir is a symlink",
			setup: func(t *testing.T, dir, path string) {
				real := filepath.Join(filepath.Dir(dir), "real")
				must(t, os.Rename(dir, real))
				must(t, os.Symlink(real, dir))
			},
			wantErr: "directory {dir} is a symbolic link",
		},
		{
			name: "FIFO does not hang",
			setup: func(t *testing.T, dir, path string) {
				os.Remove(path)
				must(t, unix.Mkfifo(path, 0o644))
			},
			wantErr: "is not a regular file",
		},
		{
			name: "truncated",
			setup: func(t *testing.T, dir, path string) {
				data, _ := os.ReadFile(path)
				must(t, os.WriteFile(path, data[:len(data)/2], 0o644))
			},
			wantErr: "not a JSON object (truncated?)",
		},
		{name: "another user's record", caller: 2002, wantErr: "job 42 belongs to uid 2001, not to the caller (uid 2002)"},
		{
			name: "record of another job under this job's name",
			setup: func(t *testing.T, dir, path string) {
				must(t, os.Rename(RecordPath(dir, "43"), path))
			},
			wantErr: "is for job 43, not job 42",
		},
		{name: "key that is no job", key: "../x", wantErr: `"../x" is neither a job id nor a SLUID`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := stateDir(t)
			must(t, WriteRecord(dir, baseRecord()))
			other := baseRecord()
			other.JobID = "43"
			must(t, WriteRecord(dir, other))
			path := RecordPath(dir, "42")
			if tc.setup != nil {
				tc.setup(t, dir, path)
			}
			caller, key := uint32(2001), "42"
			if tc.caller != 0 {
				caller = tc.caller
			}
			if tc.key != "" {
				key = tc.key
				path = RecordPath(dir, key)
			}
			_, err := ReadRecord(dir, key, caller)
			want := "allocation record " + path + ": " +
				strings.NewReplacer("{path}", path, "{dir}", dir).Replace(tc.wantErr)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("ReadRecord() = %v\nwant %q", err, want)
			}
			if errors.Is(err, fs.ErrNotExist) != tc.notExit {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", !tc.notExit, tc.notExit)
			}
		})
	}
}

func TestRemoveJobRecords(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	rec := baseRecord()
	rec.SLUID = "sEKNKTV3WPV500"
	must(t, WriteRecord(dir, rec))
	other := baseRecord()
	other.JobID = "43"
	must(t, WriteRecord(dir, other))
	crashed := filepath.Join(dir, ".job-42.json.123456")
	must(t, os.WriteFile(crashed, []byte("{"), 0o600))

	removed, err := RemoveJobRecords(dir, "42")
	if err != nil {
		t.Fatalf("RemoveJobRecords: %v", err)
	}
	want := []string{RecordPath(dir, "42"), crashed, RecordPath(dir, rec.SLUID)}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	if _, err := os.Stat(RecordPath(dir, "43")); err != nil {
		t.Errorf("job 43's record: %v", err)
	}
	removed, err = RemoveJobRecords(dir, "42", rec.SLUID)
	if err != nil || len(removed) != 0 {
		t.Errorf("second RemoveJobRecords = %q, %v; want nothing to do", removed, err)
	}
	if _, err := RemoveJobRecords(filepath.Join(dir, "missing"), "42"); err != nil {
		t.Errorf("RemoveJobRecords without a state dir: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
