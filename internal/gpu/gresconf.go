package gpu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// GresConfPath is where Slurm's gres.conf lives on Debian's slurm-wlm.
const GresConfPath = "/etc/slurm/gres.conf"

// maxExpansion bounds how many names one hostlist expression may expand to,
// so that a typo like "[0-99999999]" is an error, not an allocation.
const maxExpansion = 4096

// ParseGresConf returns the device files of the GPUs that gres.conf (text)
// configures for the Slurm node named node, in GRES order: the order of the
// Name=gpu lines in the file, each line's File= value expanded left to right.
// Position i of the result is what Slurm calls GPU index i in
// SLURM_JOB_GPUS.
//
// Lines are whitespace-separated Key=Value pairs; keys are case-insensitive,
// '#' starts a comment and a trailing '\' continues a line. Lines for other
// GRES names, lines whose NodeName= does not include node (node "" matches
// every line) and keys other than Name, File, NodeName and MultipleFiles are
// ignored. File= takes comma lists and bracket ranges as Slurm does:
// "/dev/nvidia[0-1,3],/dev/nvidia7".
//
// A line with MultipleFiles= is one GRES spanning several files, as Slurm
// configures MIG devices ("MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/
// nvidia-cap21,/dev/nvidia-caps/nvidia-cap22"): its entry is the files
// joined by commas (GresEntryFiles splits it).
//
// A GPU line without File= or MultipleFiles= is an error: with AutoDetect
// alone the device order is Slurm's to decide and this parser will not
// guess it. So is a file or MultipleFiles= entry listed twice (the files
// within MIG entries apart: MIG devices of one GPU share its file, compute
// instances of one GPU instance its capability file).
func ParseGresConf(text, node string) ([]string, error) {
	var files []string
	seen := map[string]int{}
	for _, l := range logicalLines(text) {
		kv, err := keyValues(l.text)
		if err != nil {
			return nil, fmt.Errorf("gres.conf line %d: %w", l.no, err)
		}
		if kv["name"] != "gpu" {
			continue
		}
		if nodes, ok := kv["nodename"]; ok && node != "" {
			match, err := hostlistContains(nodes, node)
			if err != nil {
				return nil, fmt.Errorf("gres.conf line %d: NodeName=%q: %w", l.no, nodes, err)
			}
			if !match {
				continue
			}
		}
		if spec, ok := kv["multiplefiles"]; ok {
			entry, err := multipleFiles(spec, kv, seen, l.no)
			if err != nil {
				return nil, err
			}
			files = append(files, entry)
			continue
		}
		spec, ok := kv["file"]
		if !ok {
			return nil, fmt.Errorf("gres.conf line %d: Name=gpu without File=: cannot tell which device file is which GRES index", l.no)
		}
		expanded, err := expandHostlist(spec)
		if err != nil {
			return nil, fmt.Errorf("gres.conf line %d: File=%q: %w", l.no, spec, err)
		}
		for _, f := range expanded {
			if prev, dup := seen[f]; dup {
				return nil, fmt.Errorf("gres.conf line %d: %s is already listed on line %d", l.no, f, prev)
			}
			seen[f] = l.no
			files = append(files, f)
		}
		if len(files) > maxExpansion {
			return nil, fmt.Errorf("gres.conf line %d: more than %d GPU device files", l.no, maxExpansion)
		}
	}
	return files, nil
}

// multipleFiles checks a MultipleFiles= value and returns its GRES entry.
func multipleFiles(spec string, kv map[string]string, seen map[string]int, no int) (string, error) {
	if _, ok := kv["file"]; ok {
		return "", fmt.Errorf("gres.conf line %d: File= and MultipleFiles= on one line", no)
	}
	expanded, err := expandHostlist(spec)
	if err != nil {
		return "", fmt.Errorf("gres.conf line %d: MultipleFiles=%q: %w", no, spec, err)
	}
	for _, f := range expanded {
		if strings.Contains(f, ",") {
			return "", fmt.Errorf("gres.conf line %d: MultipleFiles=%q: a file name with a comma", no, spec)
		}
	}
	entry := strings.Join(expanded, ",")
	if prev, dup := seen[entry]; dup {
		return "", fmt.Errorf("gres.conf line %d: MultipleFiles=%q is already listed on line %d", no, spec, prev)
	}
	seen[entry] = no
	return strings.Join(expanded, ","), nil
}

type line struct {
	no   int // 1-based number of the line the logical line starts on
	text string
}

// logicalLines strips comments and joins continued lines.
func logicalLines(text string) []line {
	var out []line
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		raw, _, _ = strings.Cut(raw, "#")
		raw = strings.TrimRight(raw, " \t\r")
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(raw, `\`); ok {
			cur.WriteString(cont)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(raw)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, line{no: start, text: s})
		}
		cur.Reset()
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, line{no: start, text: s})
	}
	return out
}

// keyValues splits a line into lower-cased keys and their values, with one
// pair of surrounding double quotes removed.
func keyValues(s string) (map[string]string, error) {
	kv := map[string]string{}
	for _, tok := range strings.Fields(s) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not Key=Value", tok)
		}
		k = strings.ToLower(k)
		if _, dup := kv[k]; dup {
			return nil, fmt.Errorf("%s= given twice", k)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		kv[k] = v
	}
	return kv, nil
}

func hostlistContains(list, name string) (bool, error) {
	names, err := expandHostlist(list)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

// expandHostlist expands a Slurm hostlist expression: comma-separated
// items, each a name with any number of bracketed range lists, e.g.
// "node[01-03,7]-ib,login". Zero padding follows the lower bound ("01").
func expandHostlist(s string) ([]string, error) {
	items, err := splitTopLevel(s)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		if it == "" {
			return nil, errors.New("empty item in list")
		}
		exp, err := expandItem(it, maxExpansion-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, exp...)
	}
	return out, nil
}

// splitTopLevel splits s at the commas that are not inside brackets.
func splitTopLevel(s string) ([]string, error) {
	var items []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			if depth > 0 {
				return nil, errors.New("nested '['")
			}
			depth++
		case ']':
			if depth == 0 {
				return nil, errors.New("']' without '['")
			}
			depth--
		case ',':
			if depth == 0 {
				items = append(items, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("'[' without ']'")
	}
	return append(items, s[start:]), nil
}

// expandItem expands one name with bracketed ranges into at most limit names.
func expandItem(it string, limit int) ([]string, error) {
	open := strings.IndexByte(it, '[')
	if open < 0 {
		if limit < 1 {
			return nil, fmt.Errorf("expands to more than %d names", maxExpansion)
		}
		return []string{it}, nil
	}
	end := strings.IndexByte(it[open:], ']') + open
	prefix, ranges, rest := it[:open], it[open+1:end], it[end+1:]
	nums, err := expandRanges(ranges, limit)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nums {
		tails, err := expandItem(rest, limit-len(out))
		if err != nil {
			return nil, err
		}
		for _, t := range tails {
			out = append(out, prefix+n+t)
		}
	}
	return out, nil
}

// expandRanges expands "0-3,7" into "0","1","2","3","7".
func expandRanges(s string, limit int) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err := rangeBound(lo)
		if err != nil {
			return nil, err
		}
		b, err := rangeBound(hi)
		if err != nil {
			return nil, err
		}
		if b < a {
			return nil, fmt.Errorf("range %q runs backwards", part)
		}
		if b-a+1 > limit-len(out) {
			return nil, fmt.Errorf("expands to more than %d names", maxExpansion)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
		}
		for n := a; n <= b; n++ {
			out = append(out, fmt.Sprintf("%0*d", width, n))
		}
	}
	return out, nil
}

func rangeBound(s string) (int, error) {
	if s == "" || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number in a range", s)
	}
	return strconv.Atoi(s)
}
