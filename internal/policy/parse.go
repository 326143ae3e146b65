package policy

import (
	"errors"
	"slices"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// File is one configuration file: its name, used in messages and
// provenance, and its contents.
type File struct {
	Name string
	Data []byte
}

// Options tune Parse and Load.
type Options struct {
	// CheckFlag validates and names the flags of run.args; when nil,
	// only their spelling is checked, and they have no canonical names.
	CheckFlag FlagChecker
}

// Config is a parsed and checked configuration: the system-wide values and
// the overrides, each value with where it was set. Use For to get the
// policy of one caller.
type Config struct {
	// checkFlag names the flags of run.args again when placeholders in
	// them are expanded for a caller.
	checkFlag FlagChecker
	files     []string
	system    layer
	overrides []*override
}

// setting is one leaf's value as a file or override set it.
type setting struct {
	val any
	at  Origin
}

// layer holds the leaves one source sets, by leaf key.
type layer map[string]setting

// Files returns the names of the files the configuration was read from,
// in the order they were applied.
func (c *Config) Files() []string { return slices.Clone(c.files) }

// Parse parses files in order: a later file's keys replace an earlier
// one's, key by key, and [[override]] entries add up. It collects every
// problem in every file and returns them joined (each a *ConfigError, in
// file and line order) and no Config: any problem fails closed.
func Parse(files []File, opts Options) (*Config, error) {
	c := &Config{system: layer{}, checkFlag: opts.CheckFlag}
	var errs []error
	for _, f := range files {
		errs = append(errs, c.addFile(f, opts)...)
	}
	if len(errs) == 0 {
		errs = c.checkCombinations()
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// addFile merges one file into c and returns its problems in line order.
func (c *Config) addFile(f File, opts Options) []error {
	c.files = append(c.files, f.Name)
	var doc map[string]any
	if err := toml.Unmarshal(f.Data, &doc); err != nil {
		return []error{syntaxError(f.Name, err)}
	}
	fp := &fileParser{
		file: f.Name,
		pos:  indexPositions(f.Data),
		ctx:  decodeCtx{checkFlag: opts.CheckFlag, vars: sampleVars},
	}
	system := layer{}
	fp.table("", "", doc, system, "")
	for _, o := range fp.overrides {
		o.seq = len(c.overrides)
		c.overrides = append(c.overrides, o)
	}
	for k, s := range system {
		c.system[k] = s
	}
	slices.SortStableFunc(fp.errs, func(a, b *ConfigError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	errs := make([]error, len(fp.errs))
	for i, e := range fp.errs {
		errs[i] = e
	}
	return errs
}

func syntaxError(file string, err error) *ConfigError {
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return &ConfigError{File: file, Msg: "invalid TOML: " + err.Error(), Err: err}
	}
	// de.Key() is relative to the enclosing table: the message says
	// which key, and the line where.
	line, col := de.Position()
	return &ConfigError{
		File:   file,
		Line:   line,
		Column: col,
		Msg:    "invalid TOML: " + strings.TrimPrefix(de.Error(), "toml: "),
		Err:    err,
	}
}

// fileParser walks one decoded file against the schema.
type fileParser struct {
	file      string
	pos       positions
	ctx       decodeCtx
	overrides []*override
	errs      []*ConfigError
}

func (fp *fileParser) origin(path, override string) Origin {
	p := fp.pos.at(path)
	return Origin{File: fp.file, Line: p.line, Column: p.column, Key: path, Override: override}
}

// fail records a problem with the key at path; sub locates it further
// within the value.
func (fp *fileParser) fail(path, sub string, err error) {
	o := fp.origin(path+sub, "")
	o.Key = path
	fp.errs = append(fp.errs, errorAt(o, path, err, "%s", err.Error()))
}

// table walks the keys of m, found at path in the file and at schema in
// the schema (they differ inside [[override]]), storing leaves into dst.
// override describes the override being read, "" for system-wide keys.
func (fp *fileParser) table(path, schema string, m map[string]any, dst layer, override string) {
	for _, k := range sortedKeys(m) {
		p, s, v := joinPath(path, k), joinPath(schema, k), m[k]
		switch {
		case leafByKey[s] != nil:
			fp.leaf(leafByKey[s], p, v, dst, override)
		case tables[s]:
			sub, ok := v.(map[string]any)
			if !ok {
				fp.fail(p, "", wrongType("a table", v))
				continue
			}
			fp.table(p, s, sub, dst, override)
		case s == overrideKey && path == "":
			fp.overrideList(p, v)
		default:
			fp.fail(p, "", ErrUnknownKey)
		}
	}
}

func (fp *fileParser) leaf(l *leaf, path string, v any, dst layer, override string) {
	if override != "" && l.systemOnly != "" {
		fp.fail(path, "", errors.New("cannot be set in an override: "+l.systemOnly))
		return
	}
	fp.ctx.expand = l.expand
	fp.ctx.at = func(sub string) Origin {
		o := fp.origin(path+sub, override)
		o.Key = path + sub
		return o
	}
	val, probs := l.decode(&fp.ctx, v)
	for _, pr := range probs {
		fp.fail(path, pr.sub, pr.err)
	}
	if probs == nil {
		dst[l.key] = setting{val: val, at: fp.origin(path, override)}
	}
}
