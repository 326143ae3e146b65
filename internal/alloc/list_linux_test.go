package alloc

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestListRecords(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	a := baseRecord()
	a.SLUID = "sEKNKTV3WPV500" // filed twice, listed once
	b := baseRecord()
	b.JobID, b.UID, b.User = "43", 2002, "bob"
	for _, r := range []Record{a, b} {
		if err := WriteRecord(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ListRecords(dir)
	if err != nil {
		t.Fatalf("ListRecords: %v", err)
	}
	if want := []Record{a, b}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListRecords = %+v, want %+v", got, want)
	}

	if got, err := ListRecords(filepath.Join(dir, "missing")); err != nil || len(got) != 0 {
		t.Errorf("ListRecords(missing dir) = %v, %v; want none, no error", got, err)
	}
}

func TestListRecordsUntrusted(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	if err := WriteRecord(dir, baseRecord()); err != nil {
		t.Fatal(err)
	}
	p := RecordPath(dir, "42")
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := ListRecords(dir)
	want := "allocation record " + p + ": is writable by group or others (mode 0666)"
	if err == nil || err.Error() != want {
		t.Errorf("ListRecords = %v, want %q", err, want)
	}
}

func TestEnsureStateDir(t *testing.T) {
	requireRoot(t)
	dir := stateDir(t)
	if err := EnsureStateDir(filepath.Join(dir, "new")); err != nil {
		t.Errorf("EnsureStateDir(new) = %v", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	err := EnsureStateDir(dir)
	if err == nil || !strings.Contains(err.Error(), "writable by group or others (mode 0777)") {
		t.Errorf("EnsureStateDir(0777 dir) = %v, want a refusal naming the mode", err)
	}
}
