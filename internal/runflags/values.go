package runflags

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/go-units"
)

// listValue is a repeatable flag that keeps every value as typed, in order,
// after checking its syntax in Set so that pflag names flag and value in the
// error. Unlike pflag's StringSlice it never splits on commas, like docker's
// ListOpts.
type listValue struct {
	values   []string
	validate func(string) (string, error)
}

func newList(validate func(string) (string, error)) *listValue {
	return &listValue{validate: validate}
}

func (l *listValue) Set(s string) error {
	if l.validate != nil {
		v, err := l.validate(s)
		if err != nil {
			return err
		}
		s = v
	}
	l.values = append(l.values, s)
	return nil
}

func (l *listValue) String() string {
	if len(l.values) == 0 {
		return ""
	}
	return "[" + strings.Join(l.values, " ") + "]"
}

func (l *listValue) Type() string { return "list" }

// Append, Replace and GetSlice make listValue a pflag.SliceValue.
func (l *listValue) Append(s string) error { return l.Set(s) }

func (l *listValue) Replace(vals []string) error {
	l.values = nil
	for _, v := range vals {
		if err := l.Set(v); err != nil {
			return err
		}
	}
	return nil
}

func (l *listValue) GetSlice() []string { return append([]string(nil), l.values...) }

// bytesValue is a size like "512m" or "1g", in bytes.
type bytesValue struct {
	n   int64
	set bool
}

func (b *bytesValue) Set(s string) error {
	n, err := units.RAMInBytes(s)
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("size must not be negative")
	}
	b.n, b.set = n, true
	return nil
}

func (b *bytesValue) String() string {
	if !b.set {
		return ""
	}
	return units.BytesSize(float64(b.n))
}

func (b *bytesValue) Type() string { return "bytes" }

// swapValue is --memory-swap: a size, or -1 for unlimited.
type swapValue struct{ bytesValue }

func (s *swapValue) Set(v string) error {
	if v == "-1" {
		s.n, s.set = -1, true
		return nil
	}
	return s.bytesValue.Set(v)
}

// nanoCPUsValue is --cpus: a decimal number of CPUs, stored in 1e-9 CPUs.
type nanoCPUsValue struct{ n int64 }

func (c *nanoCPUsValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e6 {
		return fmt.Errorf("%q is not a valid number of CPUs", s)
	}
	c.n = int64(f * 1e9)
	return nil
}

func (c *nanoCPUsValue) String() string {
	if c.n == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(c.n)/1e9, 'f', -1, 64)
}

func (c *nanoCPUsValue) Type() string { return "decimal" }

// recorder wraps every flag's value so that the parse knows exactly what the
// user typed, in order, while policy defaults set later are not recorded.
type recorder struct {
	inner pflagValue
	name  string
	rec   *record
}

type pflagValue interface {
	String() string
	Set(string) error
	Type() string
}

type record struct {
	on    bool
	set   map[string][]string
	order []string
	// dropped are flags whose typed values are recorded but not applied
	// (ParseWithout).
	dropped map[string]bool
}

func (r *recorder) Set(s string) error {
	if !(r.rec.on && r.rec.dropped[r.name]) {
		if err := r.inner.Set(s); err != nil {
			return err
		}
	}
	if r.rec.on {
		if _, seen := r.rec.set[r.name]; !seen {
			r.rec.order = append(r.rec.order, r.name)
		}
		r.rec.set[r.name] = append(r.rec.set[r.name], s)
	}
	return nil
}

func (r *recorder) String() string { return r.inner.String() }
func (r *recorder) Type() string   { return r.inner.Type() }

// IsBoolFlag keeps pflag's "-i" (no value) working through the wrapper.
func (r *recorder) IsBoolFlag() bool {
	b, ok := r.inner.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
