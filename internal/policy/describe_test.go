package policy

import (
	"slices"
	"testing"
)

func TestTemplates(t *testing.T) {
	for _, c := range []struct {
		re, digits string
		want       []string // nil: not written out
	}{
		{`^127\.0\.0\.1::[0-9]+$`, "PORT", []string{"127.0.0.1::PORT"}},
		{`^127\.0\.0\.1:[0-9]*:[0-9]+$`, "PORT", []string{"127.0.0.1:[PORT]:PORT"}},
		{`^127\.0\.0\.1::[0-9]+(/udp)?$`, "PORT", []string{"127.0.0.1::PORT", "127.0.0.1::PORT/udp"}},
		{`^[0-9]+[kmg]?$`, "N", []string{"N", "Ng", "Nk", "Nm"}},
		{`^\d{1,4}m$`, "N", []string{"Nm"}},
		{`^ud-test/`, "N", []string{"ud-test/*"}},
		{`^ud-test/.*`, "N", []string{"ud-test/*"}},
		{`^docker\.io/library/(debian|ubuntu):`, "N", []string{"docker.io/library/debian:*", "docker.io/library/ubuntu:*"}},
		{`^(json-file|local)$`, "N", []string{"json-file", "local"}},
		{`^[a-z]+$`, "N", []string{"*"}},
		{`ubuntu`, "N", nil},                 // matches anywhere
		{`^(?i)ubuntu$`, "N", nil},           // any case
		{`^(ab)+$`, "N", nil},                // a repeated group
		{`^[a-h][a-h][a-h][a-h]$`, "N", nil}, // too many to spell
		{`^(a|b|c)(d|e|f)(g|h)$`, "N", nil},  // more than maxTemplates
		{`^x$|^y$`, "N", nil},                // anchors inside
	} {
		got, ok := MustPattern(c.re).Templates(c.digits)
		if c.want == nil {
			if ok {
				t.Errorf("%s: %q, want no templates", c.re, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, c.want) {
			t.Errorf("%s: %q (%v), want %q", c.re, got, ok, c.want)
		}
	}
	if got, want := DescribeAll(Patterns(`^[0-9]+[kmg]?$`, `^x+y`), "N"), "N, Ng, Nk, Nm or ^x+y"; got != want {
		t.Errorf("DescribeAll = %q, want %q (an expression not written out as it is)", got, want)
	}
}
