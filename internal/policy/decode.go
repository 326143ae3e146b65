package policy

import (
	"fmt"
	"math"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"time"

	units "github.com/docker/go-units"
	toml "github.com/pelletier/go-toml/v2"
)

// decodeCtx is what decoders and checks need besides the value.
type decodeCtx struct {
	checkFlag FlagChecker // nil: flag names are checked for syntax only
	// expand is set while decoding a leaf whose strings expand
	// placeholders: unknown placeholders are then errors.
	expand bool
	// vars stand in for the caller when a check needs a string's final
	// shape (a mount's host path); nil when the string is already expanded.
	vars map[string]string
	// at locates sub (as a problem's sub does) in the file, for values
	// that remember where they were written; nil: nowhere.
	at func(sub string) Origin
}

// origin is where sub of the leaf being decoded was written.
func (d *decodeCtx) origin(sub string) Origin {
	if d.at == nil {
		return Origin{}
	}
	return d.at(sub)
}

// within returns d for the part of the value at sub.
func (d *decodeCtx) within(sub string) *decodeCtx {
	c := *d
	if d.at != nil {
		c.at = func(s string) Origin { return d.at(sub + s) }
	}
	return &c
}

// problem is one thing wrong with a leaf's value. sub locates it below the
// leaf's key ("[2]" for an array element, ".HOME" for a map entry) so that
// the error points at the right line of a multi-line value.
type problem struct {
	sub string
	err error
}

// decoder converts a value decoded by go-toml (string, int64, bool,
// []any, map[string]any, …) into the Go type of its Policy field,
// checking it on the way.
type decoder func(d *decodeCtx, v any) (any, []problem)

// check judges one string. Its error says what is wrong with the value,
// quoting it.
type check func(d *decodeCtx, s string) error

// causeError carries a cause without repeating all of its text.
type causeError struct {
	msg   string
	cause error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.cause }

func one(sub string, err error) []problem { return []problem{{sub: sub, err: err}} }

// typeName names the TOML type of a decoded value for messages.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case toml.LocalDate, toml.LocalTime, toml.LocalDateTime, time.Time:
		return "a date or time"
	}
	return fmt.Sprintf("a %T", v)
}

func wrongType(want string, v any) error {
	return fmt.Errorf("expected %s, found %s", want, typeName(v))
}

// checkString runs c on s after checking its placeholders.
func (d *decodeCtx) checkString(s string, c check) error {
	if d.expand && d.vars != nil {
		if _, err := expand(s, d.vars); err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
	}
	return c(d, s)
}

// sample returns s as it will look once expanded for some caller.
func (d *decodeCtx) sample(s string) string {
	if !d.expand || d.vars == nil {
		return s
	}
	if x, err := expand(s, d.vars); err == nil {
		return x
	}
	return s
}

func str(c check) decoder {
	return func(d *decodeCtx, v any) (any, []problem) {
		s, ok := v.(string)
		if !ok {
			return nil, one("", wrongType("a string", v))
		}
		if err := d.checkString(s, c); err != nil {
			return nil, one("", err)
		}
		return s, nil
	}
}

func boolean(_ *decodeCtx, v any) (any, []problem) {
	b, ok := v.(bool)
	if !ok {
		return nil, one("", wrongType("a boolean", v))
	}
	return b, nil
}

func count(_ *decodeCtx, v any) (any, []problem) {
	n, ok := v.(int64)
	switch {
	case !ok:
		return nil, one("", wrongType("an integer", v))
	case n < 0:
		return nil, one("", fmt.Errorf("%d is negative", n))
	case n > 1<<31-1:
		return nil, one("", fmt.Errorf("%d is too large", n))
	}
	return int(n), nil
}

// positiveCount is a count that must be at least 1: a bound that 0
// would turn into "nothing at all" by accident.
func positiveCount(d *decodeCtx, v any) (any, []problem) {
	n, probs := count(d, v)
	if probs == nil && n.(int) == 0 {
		return nil, one("", fmt.Errorf("must be at least 1"))
	}
	return n, probs
}

// positiveDuration is a duration that must be more than zero.
func positiveDuration(d *decodeCtx, v any) (any, []problem) {
	dur, probs := duration(d, v)
	if probs == nil && dur.(time.Duration) == 0 {
		return nil, one("", fmt.Errorf("must be more than 0s"))
	}
	return dur, probs
}

func duration(_ *decodeCtx, v any) (any, []problem) {
	s, ok := v.(string)
	if !ok {
		return nil, one("", wrongType(`a duration string such as "10s"`, v))
	}
	dur, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return nil, one("", &causeError{fmt.Sprintf(`%q is not a duration such as "10s" or "1m30s"`, s), err})
	case dur < 0:
		return nil, one("", fmt.Errorf("%q is negative", s))
	}
	return dur, nil
}

// size decodes a size as docker writes them ("4g", "512m", "1.5g",
// "100000": bytes; k, m, g, t, p are powers of 1024), at least least.
func size(least int64) decoder {
	return func(_ *decodeCtx, v any) (any, []problem) {
		s, ok := v.(string)
		if !ok {
			return nil, one("", wrongType(`a size string such as "4g"`, v))
		}
		n, err := units.RAMInBytes(s)
		switch {
		case err != nil:
			return nil, one("", &causeError{fmt.Sprintf(`%q is not a size such as "4g" or "512m"`, s), err})
		case n < least:
			return nil, one("", fmt.Errorf("%q is less than %d bytes", s, least))
		}
		return Bytes(n), nil
	}
}

// limit decodes a size limit of run.limits (ParseLimit).
func limit(_ *decodeCtx, v any) (any, []problem) {
	s, ok := v.(string)
	if !ok {
		return nil, one("", wrongType(`a size string such as "8g", or ""`, v))
	}
	l, err := ParseLimit(s)
	if err != nil {
		return nil, one("", err)
	}
	return l, nil
}

// ParseLimit reads a size limit as run.limits writes it: a size as
// docker parses them ("8g", "1GB", "1024m"), at least one byte, or ""
// for none.
func ParseLimit(s string) (Limit, error) {
	if s == "" {
		return Limit{}, nil
	}
	n, err := units.RAMInBytes(s)
	switch {
	case err != nil:
		return Limit{}, &causeError{fmt.Sprintf(`%q is not a size such as "8g" or "512m" (or "" for no limit)`, s), err}
	case n < 1:
		return Limit{}, fmt.Errorf(`%q is less than 1 byte; write "" for no limit`, s)
	}
	return Limit{Max: Bytes(n), Text: s}, nil
}

// Bounds of a CPU amount: Docker's smallest --cpus, and more CPUs than
// any node has.
const (
	minCPUs = 0.01
	maxCPUs = 1 << 20
)

// cpus decodes an amount of CPUs, an integer or a float ("2", "1.5"), 0
// for none or at least minCPUs.
func cpus(_ *decodeCtx, v any) (any, []problem) {
	var f float64
	switch n := v.(type) {
	case int64:
		f = float64(n)
	case float64:
		f = n
	default:
		return nil, one("", wrongType("a number of CPUs such as 2 or 1.5", v))
	}
	switch {
	case math.IsNaN(f) || f < 0:
		return nil, one("", fmt.Errorf("%v is not a number of CPUs", v))
	case f > maxCPUs:
		return nil, one("", fmt.Errorf("%v is too large", v))
	case f != 0 && f < minCPUs:
		return nil, one("", fmt.Errorf("%v is less than %v, the least CPU time the kernel bounds", v, minCPUs))
	}
	return NanoCPUs(math.Round(f * 1e9)), nil
}

// element converts one string of an array into its typed value; sub
// locates it in the leaf ("[2]").
type element[T any] func(d *decodeCtx, sub, s string) (T, error)

// listOf decodes an array of strings, each converted by conv after its
// placeholders are checked.
func listOf[T any](conv element[T]) decoder {
	return func(d *decodeCtx, v any) (any, []problem) {
		arr, ok := v.([]any)
		if !ok {
			return nil, one("", wrongType("an array of strings", v))
		}
		out := make([]T, 0, len(arr))
		var probs []problem
		for i, el := range arr {
			sub := indexPath("", i)
			s, ok := el.(string)
			if !ok {
				probs = append(probs, problem{sub, wrongType("a string", el)})
				continue
			}
			var x T
			err := d.checkString(s, func(d *decodeCtx, s string) error {
				var err error
				x, err = conv(d, sub, s)
				return err
			})
			if err != nil {
				probs = append(probs, problem{sub, err})
				continue
			}
			out = append(out, x)
		}
		if probs != nil {
			return nil, probs
		}
		return out, nil
	}
}

// list decodes an array of strings that c accepts.
func list(c check) decoder {
	return listOf(func(d *decodeCtx, _, s string) (string, error) { return s, c(d, s) })
}

// sortedKeys returns m's keys in order, so that problems come out the same
// way every time.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func stringMap(keyCheck, valueCheck check) decoder {
	return func(d *decodeCtx, v any) (any, []problem) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, one("", wrongType("a table of strings", v))
		}
		out := make(map[string]string, len(m))
		var probs []problem
		for _, k := range sortedKeys(m) {
			sub := "." + joinPath("", k)
			if err := keyCheck(d, k); err != nil {
				probs = append(probs, problem{sub, err})
				continue
			}
			s, ok := m[k].(string)
			if !ok {
				probs = append(probs, problem{sub, wrongType("a string", m[k])})
				continue
			}
			if err := d.checkString(s, valueCheck); err != nil {
				probs = append(probs, problem{sub, err})
				continue
			}
			out[k] = s
		}
		if probs != nil {
			return nil, probs
		}
		return out, nil
	}
}

// flagValues decodes run.args.values: flag spelling → patterns. Two
// spellings of one flag ("-e" and "--env") would make the rule depend on
// which one is looked at first, so they are an error.
func flagValues(d *decodeCtx, v any) (any, []problem) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, one("", wrongType("a table of arrays of regular expressions", v))
	}
	out := make(map[string]FlagValues, len(m))
	canonical := map[string]string{}
	var probs []problem
	for _, k := range sortedKeys(m) {
		sub := "." + joinPath("", k)
		f, err := NewFlag(k, d.checkFlag)
		if err != nil {
			probs = append(probs, problem{sub, err})
			continue
		}
		if d.checkFlag != nil {
			if prev, dup := canonical[f.Name]; dup {
				probs = append(probs, problem{sub, fmt.Errorf("%q and %q are the same flag", prev, k)})
				continue
			}
			canonical[f.Name] = k
		}
		res, elemProbs := patterns(d.within(sub), m[k])
		for _, p := range elemProbs {
			probs = append(probs, problem{sub + p.sub, p.err})
		}
		if elemProbs == nil {
			out[k] = FlagValues{Flag: f, Patterns: res.([]Pattern)}
		}
	}
	if probs != nil {
		return nil, probs
	}
	return out, nil
}

func anyString(*decodeCtx, string) error { return nil }

func oneOf(values ...string) check {
	return func(_ *decodeCtx, s string) error {
		if slices.Contains(values, s) {
			return nil
		}
		return fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
	}
}

// patterns decodes an array of regular expressions, compiled.
var patterns = listOf(pattern)

func pattern(d *decodeCtx, sub, s string) (Pattern, error) {
	p, err := NewPattern(s)
	if err == nil {
		p.At = d.origin(sub)
		return p, nil
	}
	reason := err.Error()
	if se, ok := err.(*syntax.Error); ok {
		reason = string(se.Code)
	}
	return Pattern{}, &causeError{fmt.Sprintf("%q is not a valid regular expression: %s", s, reason), err}
}

func capability(_ *decodeCtx, s string) error {
	name := strings.TrimPrefix(strings.ToUpper(s), "CAP_")
	if name == "ALL" || slices.Contains(capabilities, name) {
		return nil
	}
	return fmt.Errorf("%q is not a Linux capability", s)
}

func envName(_ *decodeCtx, s string) error {
	if s == "" || strings.ContainsAny(s, "=\x00") {
		return fmt.Errorf("%q is not an environment variable name", s)
	}
	return nil
}

// flag checks a docker run flag spelling: "-x" or "--name", and, with a
// FlagChecker, that docker run has it.
func flag(d *decodeCtx, _, s string) (Flag, error) { return NewFlag(s, d.checkFlag) }

func flagSpelling(s string) bool {
	switch {
	case len(s) == 2 && s[0] == '-':
		return isFlagByte(s[1])
	case len(s) > 3 && strings.HasPrefix(s, "--") && s[2] != '-':
		for i := 2; i < len(s); i++ {
			if !isFlagByte(s[i]) && s[i] != '-' {
				return false
			}
		}
		return true
	}
	return false
}

func isFlagByte(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// flagArg reads a run.args.always/default entry: "--flag=value",
// "-x=value", or a flag alone (a boolean).
func flagArg(d *decodeCtx, _, s string) (FlagArg, error) { return NewFlagArg(s, d.checkFlag) }

// mount reads a run.mounts entry. One with placeholders is judged as it
// will look once they are expanded; until then only its parts are kept.
func mount(d *decodeCtx, _, s string) (MountSpec, error) {
	sample := d.sample(s)
	m, err := ParseMount(sample)
	if err != nil {
		return MountSpec{}, fmt.Errorf("%q is not a mount: %w", s, err)
	}
	if sample != s {
		return splitMount(s)
	}
	return m, nil
}

// mountWithTarget is mount for always and default mounts: only
// available mounts may leave the container path to the user.
func mountWithTarget(d *decodeCtx, sub, s string) (MountSpec, error) {
	m, err := mount(d, sub, s)
	if err == nil && m.UserPicks() {
		return MountSpec{}, fmt.Errorf("%q is not a mount: the container path is missing (only run.mounts.available may leave it to the user)", s)
	}
	return m, err
}

// userRoot is a run.mounts.user_roots entry: an absolute path without
// "..", placeholders allowed.
func userRoot(d *decodeCtx, s string) error {
	if err := checkPath(d.sample(s)); err != nil {
		return fmt.Errorf("%q %w", s, err)
	}
	return nil
}

func noPlaceholder(s string) error {
	if p := usesPlaceholder(s); p != "" {
		return fmt.Errorf("%q: %s does not expand here", s, p)
	}
	return nil
}

func dockerHost(_ *decodeCtx, s string) error {
	if err := noPlaceholder(s); err != nil {
		return err
	}
	scheme, rest, _ := strings.Cut(s, "://")
	ok := false
	switch scheme {
	case "unix":
		ok = checkPath(rest) == nil
	case "tcp", "ssh":
		ok = rest != "" && !strings.ContainsAny(rest, "/?#")
	}
	if !ok {
		return fmt.Errorf("%q is not a Docker daemon address such as unix:///var/run/docker.sock, tcp://host:port or ssh://user@host", s)
	}
	return nil
}

func stateDir(_ *decodeCtx, s string) error {
	if err := noPlaceholder(s); err != nil {
		return err
	}
	if err := checkPath(s); err != nil {
		return fmt.Errorf("%q %w", s, err)
	}
	return nil
}

func auditLog(d *decodeCtx, s string) error {
	if s == "syslog" {
		return nil
	}
	if checkPath(d.sample(s)) != nil {
		return fmt.Errorf("%q is neither \"syslog\" nor an absolute path", s)
	}
	return nil
}
