package policy

import (
	"regexp/syntax"
	"strings"
	"unicode"
)

// maxTemplates bounds how many spellings Templates writes out: beyond it
// a list says less than the expression.
const maxTemplates = 8

// Templates writes what p matches as a user would type it: literal text
// as it is, a run of digits as digits (a name such as "PORT" or "N", in
// brackets where it may be empty), any other run as "*", and each
// alternative of an alternation, a small character class or an optional
// part spelled out: '^127\.0\.0\.1::[0-9]+$' is "127.0.0.1::PORT",
// '^[0-9]+[kmg]?$' is "N", "Nk", "Nm", "Ng", '^ud-test/' is "ud-test/*".
// ok is false for an expression not anchored at its start (it matches
// anywhere in a value) or too intricate to write so: show it as it is.
func (p Pattern) Templates(digits string) ([]string, bool) {
	re, err := syntax.Parse(p.Source, syntax.Perl)
	if err != nil {
		return nil, false
	}
	parts := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		parts = re.Sub
	}
	if len(parts) == 0 || parts[0].Op != syntax.OpBeginText {
		return nil, false
	}
	parts = parts[1:]
	open := true
	if n := len(parts); n > 0 && parts[n-1].Op == syntax.OpEndText {
		parts, open = parts[:n-1], false
	}
	t := &templater{digits: digits}
	out := []string{""}
	for _, sub := range parts {
		if out = t.product(out, t.render(sub)); out == nil {
			return nil, false
		}
	}
	for i := range out {
		if open && !strings.HasSuffix(out[i], "*") {
			out[i] += "*"
		}
	}
	return out, true
}

// Describe is Templates joined for a message ("N, Nk, Nm or Ng"), or
// the expression itself when it cannot be written so.
func (p Pattern) Describe(digits string) string {
	ts, ok := p.Templates(digits)
	if !ok {
		return p.Source
	}
	return orList(ts)
}

// DescribeAll is Describe of each of ps, joined with "or".
func DescribeAll(ps []Pattern, digits string) string {
	var all []string
	for _, p := range ps {
		if ts, ok := p.Templates(digits); ok {
			all = append(all, ts...)
		} else {
			all = append(all, p.Source)
		}
	}
	return orList(all)
}

func orList(ss []string) string {
	switch len(ss) {
	case 0:
		return "none"
	case 1:
		return ss[0]
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " or " + ss[len(ss)-1]
}

type templater struct {
	digits string
}

// product is every a followed by every b; nil when one is nil (cannot be
// written) or when there would be more than maxTemplates.
func (t *templater) product(as, bs []string) []string {
	if as == nil || bs == nil || len(as)*len(bs) > maxTemplates {
		return nil
	}
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			out = append(out, a+b)
		}
	}
	return out
}

// render writes the spellings of re, nil when it cannot.
func (t *templater) render(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture:
		return t.render(re.Sub[0])
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			out = t.product(out, t.render(sub))
		}
		return out
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			alts := t.render(sub)
			if alts == nil || len(out)+len(alts) > maxTemplates {
				return nil
			}
			out = append(out, alts...)
		}
		return out
	case syntax.OpQuest:
		alts := t.render(re.Sub[0])
		if alts == nil || len(alts) >= maxTemplates {
			return nil
		}
		return append([]string{""}, alts...)
	case syntax.OpCharClass:
		return classRunes(re.Rune)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return []string{"*"}
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		sub := re.Sub[0]
		if sub.Op != syntax.OpCharClass && sub.Op != syntax.OpAnyChar && sub.Op != syntax.OpAnyCharNotNL {
			return nil
		}
		empty := re.Op == syntax.OpStar || (re.Op == syntax.OpRepeat && re.Min == 0)
		return []string{t.hole(sub, empty)}
	}
	return nil
}

// hole names a run of characters of class: the digits name for digits
// alone, else "*".
func (t *templater) hole(class *syntax.Regexp, empty bool) string {
	if class.Op != syntax.OpCharClass || !onlyDigits(class.Rune) {
		return "*"
	}
	if empty {
		return "[" + t.digits + "]"
	}
	return t.digits
}

func onlyDigits(ranges []rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] < '0' || ranges[i+1] > '9' {
			return false
		}
	}
	return len(ranges) > 0
}

// classRunes spells out a class of a few printable characters other than
// digits ([kmg] is "k", "m", "g"); nil for any other.
func classRunes(ranges []rune) []string {
	var out []string
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			if len(out) == 4 || !unicode.IsPrint(r) || unicode.IsDigit(r) || r == ' ' {
				return nil
			}
			out = append(out, string(r))
		}
	}
	return out
}
