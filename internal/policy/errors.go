package policy

import (
	"fmt"
	"strconv"
)

// Origin says where an effective value came from: a position in a config
// file, or, when File is empty, the built-in defaults.
type Origin struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int // 1-based; 0 when unknown
	// Key is the key as written there: "gpu.max_count",
	// "override[0].gpu.max_count" (entries numbered from 0 in their file).
	Key string
	// Override describes the [[override]] entry that set the value, e.g.
	// `group "gpu-power-users"`; empty for system-wide values.
	Override string
}

// BuiltIn reports whether the value is a built-in default.
func (o Origin) BuiltIn() bool { return o.File == "" }

// String returns "FILE:LINE", "FILE:LINE, override group "x"" or
// "built-in default".
func (o Origin) String() string {
	if o.BuiltIn() {
		return "built-in default"
	}
	s := o.File
	if o.Line > 0 {
		s += ":" + strconv.Itoa(o.Line)
	}
	if o.Override != "" {
		s += ", override " + o.Override
	}
	return s
}

// from is String phrased for a message: "from FILE:LINE" or
// "built-in default".
func (o Origin) from() string {
	if o.BuiltIn() {
		return o.String()
	}
	return "from " + o.String()
}

// ConfigError is one problem with the configuration: a TOML syntax error, an
// unknown key, a value of the wrong type or out of range, or a combination
// of values that cannot work. Parse returns every ConfigError it finds,
// joined with errors.Join, so that `config check` can list them all.
type ConfigError struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int // 1-based; 0 when unknown
	// Key is the dotted key the problem is about, as written in the file
	// (array-of-tables entries are numbered from 0 within their file:
	// "override[1].gpu.max_count"); empty for syntax errors.
	Key string
	// Msg says what is wrong and which rule it breaks; it already contains
	// the text of Err.
	Msg string
	// Err is the underlying cause, if any (a regexp or duration parse
	// error, a go-toml decode error).
	Err error
}

// Error returns "FILE:LINE:COL: KEY: MSG", leaving out what is unknown.
func (e *ConfigError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			s += ":" + strconv.Itoa(e.Column)
		}
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Msg
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// errorAt builds a ConfigError located at o, about key unless o knows
// how the key was written there.
func errorAt(o Origin, key string, cause error, format string, args ...any) *ConfigError {
	if o.Key != "" {
		key = o.Key
	}
	return &ConfigError{
		File:   o.File,
		Line:   o.Line,
		Column: o.Column,
		Key:    key,
		Msg:    fmt.Sprintf(format, args...),
		Err:    cause,
	}
}

// Problems returns the problems errors.Join put together in err, each on
// its own: what Parse, Load and For return is one error for every
// problem they found.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	return []error{err}
}

// FirstProblem keeps a configuration error to its first problem, and how
// many more there are, so that a user-facing message stays one line.
func FirstProblem(err error) error {
	if all := Problems(err); len(all) > 1 {
		return fmt.Errorf("%w (and %d more)", all[0], len(all)-1)
	}
	return err
}
