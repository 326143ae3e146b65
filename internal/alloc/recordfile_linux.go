package alloc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteRecord files r in dir under each key (the job id, and the SLUID if
// any), atomically: a reader sees the old file, no file, or the whole new
// one. dir is created 0755 if missing; an existing dir must already be
// owned by root and not writable by group or others, because readers will
// refuse it otherwise and a prolog that cannot be trusted must fail loudly.
func WriteRecord(dir string, r Record) error {
	data, err := r.Marshal()
	if err != nil {
		return fmt.Errorf("encode allocation record: %w", err)
	}
	if err := ensureStateDir(dir); err != nil {
		return err
	}
	keys := []string{r.JobID}
	if r.SLUID != "" {
		keys = append(keys, r.SLUID)
	}
	for _, k := range keys {
		if err := writeAtomic(RecordPath(dir, k), data); err != nil {
			return err
		}
	}
	return nil
}

func ensureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	facts := RecordFacts{Path: filepath.Join(dir, "x"), Dir: factsOf(&st), File: FileFacts{Mode: 0o644}}
	if err := checkFacts(facts); err != nil {
		var re *RecordError
		if errors.As(err, &re) {
			return fmt.Errorf("state directory unusable: %w", re.Err)
		}
		return err
	}
	return nil
}

func writeAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ReadRecord reads and validates the record filed under key (JobRef.Key)
// for the caller callerUID. The directory is opened without following a
// symlink and the file relative to it, also without following one, so what
// is checked is what is read. Every error is a *RecordError; a missing
// record matches errors.Is(err, fs.ErrNotExist).
func ReadRecord(dir, key string, callerUID uint32) (Record, error) {
	path := RecordPath(dir, key)
	if !ValidJobID(key) && !ValidSLUID(key) {
		return Record{}, &RecordError{Path: path, Err: fmt.Errorf("%q is neither a job id nor a SLUID", key)}
	}
	facts, data, err := readFacts(dir, path)
	if err != nil {
		return Record{}, &RecordError{Path: path, Err: err}
	}
	facts.Key = key
	if err := checkFacts(facts); err != nil {
		return Record{}, err
	}
	r, err := ParseRecord(data)
	if err != nil {
		return Record{}, &RecordError{Path: path, Err: err}
	}
	if err := Validate(r, facts, callerUID); err != nil {
		return Record{}, err
	}
	return r, nil
}

func readFacts(dir, path string) (RecordFacts, []byte, error) {
	facts := RecordFacts{Path: path}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			var st unix.Stat_t
			if unix.Lstat(dir, &st) == nil {
				facts.Dir = factsOf(&st)
				return facts, nil, nil // checkFacts says what is wrong
			}
		}
		return facts, nil, fmt.Errorf("open directory: %w", err)
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return facts, nil, fmt.Errorf("stat directory: %w", err)
	}
	facts.Dir = factsOf(&st)

	// O_NONBLOCK: a FIFO planted in place of the file must not hang us.
	fd, err := unix.Openat(dfd, filepath.Base(path), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		facts.File = FileFacts{Mode: fs.ModeSymlink}
		return facts, nil, nil
	}
	if err != nil {
		return facts, nil, err // the path is in RecordError already
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := unix.Fstat(fd, &st); err != nil {
		return facts, nil, fmt.Errorf("stat: %w", err)
	}
	facts.File = factsOf(&st)
	if !facts.File.Mode.IsRegular() {
		return facts, nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return facts, nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxRecordSize {
		return facts, nil, fmt.Errorf("larger than %d bytes", maxRecordSize)
	}
	return facts, data, nil
}

func factsOf(st *unix.Stat_t) FileFacts {
	mode := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFREG:
	default:
		mode |= fs.ModeIrregular
	}
	if st.Mode&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return FileFacts{UID: st.Uid, Mode: mode}
}

// RemoveJobRecords removes the records of job jobID from dir: the one under
// the job id, the one under the SLUID it names, those under extraKeys (e.g.
// SLURM_JOB_SLUID), and temporary files a crashed writer left behind. It
// returns the paths it removed; absent files are not an error.
func RemoveJobRecords(dir, jobID string, extraKeys ...string) ([]string, error) {
	if !ValidJobID(jobID) {
		return nil, fmt.Errorf("remove allocation records: %q is not a job id", jobID)
	}
	keys := []string{jobID}
	// The SLUID copy is only trusted from a record readers would trust.
	if facts, data, err := readFacts(dir, RecordPath(dir, jobID)); err == nil && checkFacts(facts) == nil {
		if r, err := ParseRecord(data); err == nil && r.JobID == jobID && ValidSLUID(r.SLUID) {
			keys = append(keys, r.SLUID)
		}
	}
	for _, k := range extraKeys {
		if ValidSLUID(k) || ValidJobID(k) {
			keys = append(keys, k)
		}
	}
	var removed []string
	var errs []error
	for _, k := range keys {
		p := RecordPath(dir, k)
		temps, _ := filepath.Glob(filepath.Join(dir, "."+filepath.Base(p)+".*"))
		for _, q := range append([]string{p}, temps...) {
			err := os.Remove(q)
			switch {
			case err == nil:
				removed = append(removed, q)
			case !errors.Is(err, fs.ErrNotExist):
				errs = append(errs, err)
			}
		}
	}
	return removed, errors.Join(errs...)
}
