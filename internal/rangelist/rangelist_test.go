package rangelist

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	gpus := Rules{Unique: true, MaxCount: 4}
	tests := []struct {
		name  string
		list  string
		rules Rules
		want  []int
		// bad is the item the error names, when want is nil and list is
		// not empty; twice the number listed twice.
		bad   string
		twice int
	}{
		{name: "empty", list: "", rules: CPUs, want: nil},
		{name: "one", list: "0", rules: CPUs, want: []int{0}},
		{name: "range", list: "0-3", rules: CPUs, want: []int{0, 1, 2, 3}},
		{name: "kernel's cpuset", list: "0-3,8,10-11", rules: CPUs, want: []int{0, 1, 2, 3, 8, 10, 11}},
		{name: "order kept", list: "7,1-2", rules: gpus, want: []int{7, 1, 2}},
		{name: "one-number range", list: "5-5", rules: CPUs, want: []int{5}},
		{name: "largest number", list: "65535", rules: CPUs, want: []int{65535}},
		{name: "repeats where allowed", list: "0-2,1", rules: CPUs, want: []int{0, 1, 2, 1}},
		{name: "leading zero where allowed", list: "01,2", rules: gpus, want: []int{1, 2}},
		{name: "as many as allowed", list: "0-3", rules: gpus, want: []int{0, 1, 2, 3}},

		{name: "backwards", list: "3-0", rules: CPUs, bad: "3-0"},
		{name: "open range", list: "0-", rules: CPUs, bad: "0-"},
		{name: "negative", list: "-1", rules: CPUs, bad: "-1"},
		{name: "empty item", list: "0,,1", rules: CPUs, bad: ""},
		{name: "trailing comma", list: "0,", rules: CPUs, bad: ""},
		{name: "word", list: "a", rules: CPUs, bad: "a"},
		{name: "space", list: "0 1", rules: CPUs, bad: "0 1"},
		{name: "surrounding space", list: " 0-1", rules: CPUs, bad: " 0-1"},
		{name: "newline", list: "0-3\n", rules: CPUs, bad: "0-3\n"},
		{name: "sign", list: "+1", rules: CPUs, bad: "+1"},
		{name: "leading zero", list: "01", rules: CPUs, bad: "01"},
		{name: "leading zero in a range", list: "0-03", rules: CPUs, bad: "0-03"},
		{name: "above Max", list: "65536", rules: CPUs, bad: "65536"},
		{name: "range above Max", list: "0-70000", rules: CPUs, bad: "0-70000"},
		{name: "two dashes", list: "0-1-2", rules: CPUs, bad: "0-1-2"},
		{name: "too many", list: "0-4", rules: gpus, bad: "0-4"},
		{name: "too many over items", list: "0-2,5,6", rules: gpus, bad: "6"},
		{name: "twice", list: "0-2,1", rules: gpus, bad: "1", twice: 1},
		{name: "twice within ranges", list: "3,1-3", rules: gpus, bad: "1-3", twice: 3},
		{name: "the first number twice", list: "5-6,2-3,0-9", rules: Rules{Unique: true}, bad: "0-9", twice: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ranges, err := Parse(tt.list, tt.rules)
			got := Numbers(ranges)
			if tt.want != nil || tt.list == "" {
				if err != nil || !slices.Equal(got, tt.want) {
					t.Fatalf("Parse(%q) = %v, %v; want %v", tt.list, got, err, tt.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.List != tt.list || e.Item != tt.bad || e.Repeated != (tt.twice != 0) || e.Twice != tt.twice {
				t.Fatalf("Parse(%q) = %v, %#v; want an *Error about item %q (twice: %d)", tt.list, got, err, tt.bad, tt.twice)
			}
			if ranges != nil {
				t.Errorf("Parse(%q) returned %v with its error", tt.list, ranges)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	_, err := Parse("0,x", CPUs)
	if want := `list "0,x": "x" is not a number or a low-high range`; err == nil || err.Error() != want {
		t.Errorf("bad item: %v, want %q", err, want)
	}
	_, err = Parse("1,1", Rules{Unique: true})
	if want := `list "1,1": 1 is listed twice`; err == nil || err.Error() != want {
		t.Errorf("repeat: %v, want %q", err, want)
	}
}

func TestSubset(t *testing.T) {
	tests := []struct {
		want, have string
		ok         bool
	}{
		{"2-3", "2-3", true},
		{"3", "0-3,8", true},
		{"8,0-1", "0-3,8", true},
		{"0-7", "2-3", false},
		{"4", "0-3,8", false},
		{"", "0-3", false},     // empty means every CPU
		{"02", "0-3", false},   // not the kernel's spelling
		{"0-3 ", "0-3", false}, // nor this
		{"1", "", false},
		{"1", "x", false},
		{"0-9", "5-9,0-4", true},  // held by ranges together, in any order
		{"0-9", "0-3,5-9", false}, // 4 is not held
		{"0-65535", "0-65535", true},
	}
	for _, tt := range tests {
		if got := Subset(tt.want, tt.have, CPUs); got != tt.ok {
			t.Errorf("Subset(%q, %q) = %v, want %v", tt.want, tt.have, got, tt.ok)
		}
	}
}

// A list of a few kilobytes can name every CPU thousands of times over:
// it is read as ranges, never expanded.
func TestLongLists(t *testing.T) {
	long := strings.Repeat("0-65535,", 4000) + "0-65535"
	if rs, err := Parse(long, CPUs); err != nil || len(rs) != 4001 {
		t.Fatalf("Parse(4001 full ranges) = %d ranges, %v", len(rs), err)
	}
	if !Subset(long, "0-65535", CPUs) || Subset("0-65535", strings.Repeat("1-65535,", 4000)+"1-65535", CPUs) {
		t.Error("Subset of long lists is wrong")
	}
	if _, err := Parse(long, Rules{Unique: true}); err == nil {
		t.Error("Unique accepted every number listed 4001 times")
	}
}

// FuzzParse: any string is read without a panic; a list that parses is a
// subset of itself, and its numbers are its ranges'.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,8,10-11", "01", "3-0", "0-65535,0-65535", "1,1", ",", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := Parse(s, CPUs)
		if err != nil || len(rs) == 0 {
			return
		}
		if !Subset(s, s, CPUs) {
			t.Fatalf("%q is not a subset of itself", s)
		}
		for _, r := range rs {
			if r.Lo < 0 || r.Hi > Max || r.Lo > r.Hi {
				t.Fatalf("%q gave the range %v", s, r)
			}
		}
	})
}
