package rangelist

import (
	"errors"
	"slices"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.list, tt.rules)
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
			if got != nil {
				t.Errorf("Parse(%q) returned %v with its error", tt.list, got)
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
	}
	for _, tt := range tests {
		if got := Subset(tt.want, tt.have, CPUs); got != tt.ok {
			t.Errorf("Subset(%q, %q) = %v, want %v", tt.want, tt.have, got, tt.ok)
		}
	}
}
