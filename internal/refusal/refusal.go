// Package refusal holds the two kinds of error that userdocker shows a
// user as its own one-line answer: a Refusal (the policy says no, and
// names the check that did) and a UsageError (the command line does not
// parse). The pure core returns them; the command line maps them to
// messages and exit codes (internal/cli), and the audit record keeps the
// refusals' messages.
package refusal

import (
	"errors"
	"fmt"
)

// Refusal is one reason a request was refused. Rule names the check for
// the audit trail; Msg is the one line the user reads.
type Refusal struct {
	Rule string
	Msg  string
	// Key is the configuration key whose value decided it ("run.images",
	// "run.args.allowed"), for --debug to say where that value was set;
	// empty for a rule built into userdocker, which no key changes.
	Key string
}

func (r *Refusal) Error() string { return r.Msg }

// By records that the configuration key decided r, and returns r.
func (r *Refusal) By(key string) *Refusal {
	r.Key = key
	return r
}

// New returns the refusal of rule, its message formatted as fmt.Sprintf
// does.
func New(rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Msg: fmt.Sprintf(format, args...)}
}

// All returns every Refusal inside err (joined or wrapped), in order.
func All(err error) []*Refusal {
	var out []*Refusal
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if r, ok := e.(*Refusal); ok {
			out = append(out, r)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}

// UsageError is a command line that does not parse. It reads like the
// docker CLI's messages: "unknown flag: --foo", "flag needs an argument:
// 'e' in -e".
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError with the message formatted as fmt.Sprintf
// does.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}
