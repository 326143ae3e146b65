// Package rangelist reads the kernel's list format: numbers and ranges
// separated by commas ("0-3,8,10-11"), as cpuset files, --cpuset-cpus and
// Slurm's SLURM_JOB_GPUS write them. It is the one parser of such lists;
// each caller names the rules its list must meet.
package rangelist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Max is the largest number a list may hold: the kernel's CPU numbers and
// Slurm's GRES indices stay far below it, and a bound keeps a range from
// standing for more numbers than anyone has.
const Max = 1<<16 - 1

// Rules say how strictly a list is read. The grammar is the same for
// every list: items separated by commas, each a decimal number N or a
// range N-M with M ≥ N; no signs, spaces or empty items; no number above
// Max. The empty string is the empty list.
type Rules struct {
	// Canonical refuses numbers with leading zeros ("01"): a number then
	// has one spelling, the one the kernel writes.
	Canonical bool
	// Unique refuses a number listed twice, alone or within a range.
	Unique bool
	// MaxCount bounds how many numbers the list holds, ranges expanded;
	// 0 leaves only Max.
	MaxCount int
}

// CPUs are the rules for cpu lists: the kernel's own spelling.
var CPUs = Rules{Canonical: true}

// Error says what is wrong with a list.
type Error struct {
	List string
	// Item is the item that does not parse, or that would make the list
	// longer than MaxCount.
	Item string
	// Twice is the number listed twice, when that is the problem (Item
	// is then the item that repeats it).
	Twice int
	// Repeated tells a number listed twice from any other problem.
	Repeated bool
}

func (e *Error) Error() string {
	if e.Repeated {
		return fmt.Sprintf("list %q: %d is listed twice", e.List, e.Twice)
	}
	return fmt.Sprintf("list %q: %q is not a number or a low-high range", e.List, e.Item)
}

// Range is one item of a list: the numbers from Lo to Hi, both included.
type Range struct{ Lo, Hi int }

// Parse returns the ranges of the list s in the order listed; nil for
// "". It never expands them: a list of a few bytes can stand for 65536
// numbers per item. Anything s holds that r does not allow is an *Error.
func Parse(s string, r Rules) ([]Range, error) {
	if s == "" {
		return nil, nil
	}
	var out []Range
	count := 0
	for _, item := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, okA := number(lo, r)
		b, okB := a, true
		if isRange {
			b, okB = number(hi, r)
		}
		if !okA || !okB || b < a || (r.MaxCount > 0 && count+b-a >= r.MaxCount) {
			return nil, &Error{List: s, Item: item}
		}
		if r.Unique {
			if n, twice := firstIn(out, a, b); twice {
				return nil, &Error{List: s, Item: item, Twice: n, Repeated: true}
			}
		}
		count += b - a + 1
		out = append(out, Range{a, b})
	}
	return out, nil
}

// firstIn returns the first number from a to b that one of rs holds.
func firstIn(rs []Range, a, b int) (int, bool) {
	first, found := 0, false
	for _, r := range rs {
		if r.Lo <= b && r.Hi >= a {
			if n := max(a, r.Lo); !found || n < first {
				first, found = n, true
			}
		}
	}
	return first, found
}

// Numbers are the numbers of rs, ranges expanded, in order: for lists
// whose Rules bound how many there are (MaxCount).
func Numbers(rs []Range) []int {
	var out []int
	for _, r := range rs {
		for n := r.Lo; n <= r.Hi; n++ {
			out = append(out, n)
		}
	}
	return out
}

// number reads one decimal number of an item: digits only, at most Max.
func number(s string, r Rules) (int, bool) {
	if s == "" || (r.Canonical && len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return int(n), err == nil
}

// Subset reports whether every number of the list want is in the list
// have, both read with r. An empty want is not a subset of anything:
// where these lists are cpusets, empty means every CPU. A list that does
// not parse is not a subset either.
func Subset(want, have string, r Rules) bool {
	w, err := Parse(want, r)
	if err != nil || len(w) == 0 {
		return false
	}
	h, err := Parse(have, r)
	if err != nil {
		return false
	}
	slices.SortFunc(h, func(x, y Range) int { return x.Lo - y.Lo })
	for _, x := range w {
		if !covered(h, x) {
			return false
		}
	}
	return true
}

// covered reports whether the ranges h, sorted by Lo, hold every number of
// x.
func covered(h []Range, x Range) bool {
	next := x.Lo // the first number of x not yet seen held
	for _, r := range h {
		if r.Lo > next {
			break
		}
		if r.Hi >= next {
			next = r.Hi + 1
		}
		if next > x.Hi {
			return true
		}
	}
	return false
}
