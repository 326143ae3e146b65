// Package oldconfig converts the configuration of the Python userdocker
// (/etc/userdocker/config.py and its group/, gid/, user/ and uid/
// override files) into userdocker's TOML, and reports every setting that
// has no equivalent or could not be read. It reads the files with
// pyliteral and never executes them. It is pure: the caller reads the
// files and writes the result.
package oldconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/pyliteral"
)

// File is one old configuration file. The main config.py has Class "";
// an override file has Class "group", "gid", "user" or "uid", the
// selector it applies to, and (group and gid) its two-digit priority.
type File struct {
	Name     string // as shown in notes, e.g. "/etc/userdocker/group/config_50_gpu.py"
	Data     []byte
	Class    string
	Selector string
	Priority int
}

// overrideName matches the file names the Python userdocker loaded from
// each override directory; other files there were ignored by it.
var overrideName = map[string]*regexp.Regexp{
	"group": regexp.MustCompile(`^config_([0-9]{2})_(.+)\.py$`),
	"gid":   regexp.MustCompile(`^config_([0-9]{2})_([0-9]+)\.py$`),
	"user":  regexp.MustCompile(`^config_()(.+)\.py$`),
	"uid":   regexp.MustCompile(`^config_()([0-9]+)\.py$`),
}

// OverrideDirs are the override directories beside config.py, in the
// order the Python userdocker applied them.
var OverrideDirs = []string{"group", "gid", "user", "uid"}

// ParseOverrideName reads the selector and priority from the base name of
// a file in override directory class; ok is false for names the Python
// userdocker would not have loaded.
func ParseOverrideName(class, base string) (f File, ok bool) {
	re, known := overrideName[class]
	if !known {
		return File{}, false
	}
	m := re.FindStringSubmatch(base)
	if m == nil {
		return File{}, false
	}
	f = File{Class: class, Selector: m[2]}
	if m[1] != "" {
		f.Priority, _ = strconv.Atoi(m[1])
	}
	return f, true
}

// Note is one setting that was not converted, or converted with a change
// the admin should know about.
type Note struct {
	File    string
	Line    int // 0: the setting is absent from the file
	Setting string
	Msg     string
}

func (n Note) String() string {
	at := n.File
	if n.Line > 0 {
		at += ":" + strconv.Itoa(n.Line)
	}
	if n.Setting == "" {
		return at + ": " + n.Msg
	}
	return at + ": " + n.Setting + ": " + n.Msg
}

// Options tune Convert.
type Options struct {
	// IsRunFlag reports whether a spelling ("-t", "--shm-size") is a
	// docker run flag; flags it rejects are reported and left out. Nil
	// accepts every spelling.
	IsRunFlag func(spelling string) bool
}

// Result is a converted configuration.
type Result struct {
	TOML  []byte
	Notes []Note
}

// Convert converts the main config.py (files[0], Class "") and the
// override files that follow it, in the Python userdocker's load order.
func Convert(files []File, opts Options) Result {
	c := &converter{opts: opts}
	var out strings.Builder
	var sections []string
	for i, f := range files {
		l := c.file(f, i == 0)
		if i == 0 {
			c.gpuSource(l)
		}
		sections = append(sections, l.render(f))
	}
	fmt.Fprintf(&out, "# userdocker configuration converted by `userdocker config import` from\n")
	for _, f := range files {
		fmt.Fprintf(&out, "#   %s\n", comment(f.Name))
	}
	if len(c.notes) > 0 {
		fmt.Fprintf(&out, "# Settings not converted, or converted with a change (review them):\n")
		for _, n := range c.notes {
			fmt.Fprintf(&out, "#   %s\n", comment(n.String()))
		}
	}
	for _, s := range sections {
		out.WriteString(s)
	}
	return Result{TOML: []byte(out.String()), Notes: c.notes}
}

type converter struct {
	opts    Options
	notes   []Note
	current string
}

func (c *converter) note(line int, setting, format string, args ...any) {
	c.notes = append(c.notes, Note{File: c.current, Line: line, Setting: setting, Msg: fmt.Sprintf(format, args...)})
}

// file converts one old file into a layer of TOML keys.
func (c *converter) file(f File, main bool) *layer {
	c.current = f.Name
	l := &layer{vals: map[string]entry{}}
	assigns, problems := pyliteral.Parse(f.Data)
	for _, p := range problems {
		c.note(p.Line, p.Name, "not read: %s", strings.TrimPrefix(p.Msg, p.Name+": "))
	}
	seen := map[string]bool{}
	for _, a := range assigns {
		seen[a.Name] = true
		s, known := settings[a.Name]
		if !known {
			if !strings.HasPrefix(a.Name, "_") {
				c.note(a.Line, a.Name, "not a setting of the Python userdocker: ignored")
			}
			continue
		}
		s.convertTo(c, l, a)
	}
	if main {
		for _, name := range settingOrder {
			if !seen[name] && settings[name].key != "" {
				c.note(0, name, "not set: the Python userdocker's built-in default applied; now userdocker's built-in %s applies (see config explain)", settings[name].key)
			}
		}
	}
	return l
}

// gpuSource says where GPUs come from. The Python userdocker had no Slurm:
// it picked free GPUs itself (NV_GPU), which is today's "reserve" mode.
func (c *converter) gpuSource(l *layer) {
	if e, ok := l.vals["gpu.source"]; ok { // NV_ALLOWED_GPUS = []: no GPUs
		l.vals["slurm.outside_job"] = entry{val: policy.TOMLString("allow"), from: e.from}
		c.note(0, "NV_ALLOWED_GPUS", `no GPUs: written as gpu.source = "none" and slurm.outside_job = "allow" (no Slurm job needed)`)
		return
	}
	l.vals["gpu.source"] = entry{val: policy.TOMLString("reserve"), from: " (the Python userdocker reserved free GPUs itself)"}
	c.note(0, "", `GPUs: written as gpu.source = "reserve" (workstation mode, as the Python userdocker worked); `+
		`on Slurm nodes set "slurm" and install ud-prolog and ud-epilog (contrib/slurm/README.md)`)
}

// maxFile bounds each file read by Collect: old config files are a few KiB.
const maxFile = 1 << 20

// Collect reads the main file (its name in fsys, e.g. "config.py") and the
// override files beside it, in the order the Python userdocker applied
// them: group/ and gid/ files sorted by name (so by priority), then
// user/ and uid/. Names it would not have loaded are skipped.
func Collect(fsys fs.FS, main string) ([]File, error) {
	data, err := readBounded(fsys, main)
	if err != nil {
		return nil, err
	}
	files := []File{{Name: main, Data: data}}
	dir := path.Dir(main)
	for _, class := range OverrideDirs {
		entries, err := fs.ReadDir(fsys, path.Join(dir, class))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries { // sorted by name
			f, ok := ParseOverrideName(class, e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			f.Name = path.Join(dir, class, e.Name())
			if f.Data, err = readBounded(fsys, f.Name); err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	return files, nil
}

func readBounded(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a config file", name, maxFile)
	}
	return data, nil
}
