package pyliteral

import (
	"reflect"
	"strings"
	"testing"
)

func str(s string, line int) Value { return Value{Kind: String, Str: s, Line: line} }

func TestParseValues(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want Value
	}{
		{"single quotes", `X = 'a"b'`, str(`a"b`, 1)},
		{"double quotes", `X = "a'b"`, str(`a'b`, 1)},
		{"escapes", `X = 'a\tb\n\'\\\x41\u00e9\101\q'`, str("a\tb\n'\\Aé"+"A\\q", 1)},
		{"raw string", `X = r'^127\.0\.0\.1::[0-9]+$'`, str(`^127\.0\.0\.1::[0-9]+$`, 1)},
		{"raw string keeps escaped quote", `X = R"a\"b"`, str(`a\"b`, 1)},
		{"unicode prefix", `X = u'x'`, str("x", 1)},
		{"triple quoted", "X = '''a\n'b'\nc'''", str("a\n'b'\nc", 1)},
		{"triple double raw", "X = r\"\"\"\\d\n\"\"\"", str("\\d\n", 1)},
		{"adjacent strings join", `X = 'a' "b" r'\c'`, str(`ab\c`, 1)},
		{"escaped newline in string", "X = 'a\\\nb'", str("ab", 1)},
		{"int", `X = 1_000`, Value{Kind: Int, Int: 1000, Line: 1}},
		{"negative int", `X = -1`, Value{Kind: Int, Int: -1, Line: 1}},
		{"hex", `X = 0x1F`, Value{Kind: Int, Int: 31, Line: 1}},
		{"underscore after prefix", `X = 0x_1f`, Value{Kind: Int, Int: 31, Line: 1}},
		{"CRLF continuation in a string", "X = 'a\\\r\nb'", str("ab", 1)},
		{"zero", `X = 00`, Value{Kind: Int, Int: 0, Line: 1}},
		{"float", `X = 1.5e3`, Value{Kind: Float, Float: 1500, Line: 1}},
		{"booleans and None", `X = (True, False, None)`, Value{Kind: Tuple, Line: 1, Items: []Value{
			{Kind: Bool, Bool: true, Line: 1}, {Kind: Bool, Line: 1}, {Kind: None, Line: 1}}}},
		{"parenthesised value is no tuple", `X = ('a')`, str("a", 1)},
		{"one-tuple", `X = ('a',)`, Value{Kind: Tuple, Line: 1, Items: []Value{str("a", 1)}}},
		{"list over lines with comments", "X = [\n  'a',  # first\n  ('-t', '--tty'),\n]", Value{Kind: List, Line: 1, Items: []Value{
			str("a", 2), {Kind: Tuple, Line: 3, Items: []Value{str("-t", 3), str("--tty", 3)}}}}},
		{"dict", "X = {'run': ['--rm'],\n 'ps': []}", Value{Kind: Dict, Line: 1,
			Keys:  []Value{str("run", 1), str("ps", 2)},
			Items: []Value{{Kind: List, Line: 1, Items: []Value{str("--rm", 1)}}, {Kind: List, Line: 2, Items: []Value{}}}}},
		{"concatenation with names", `X = user_home + ':' + user_home`, Value{Kind: Concat, Line: 1, Items: []Value{
			{Kind: Name, Str: "user_home", Line: 1}, str(":", 1), {Kind: Name, Str: "user_home", Line: 1}}}},
		{"backslash continuation", "X = \\\n  'a'", str("a", 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := Parse([]byte(tt.src))
			if len(problems) > 0 {
				t.Fatalf("Parse(%q): unexpected problems %v", tt.src, problems)
			}
			if len(got) != 1 || got[0].Name != "X" {
				t.Fatalf("Parse(%q) = %+v, want one assignment to X", tt.src, got)
			}
			if !reflect.DeepEqual(got[0].Value, tt.want) {
				t.Errorf("Parse(%q) value =\n%+v\nwant\n%+v", tt.src, got[0].Value, tt.want)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []Problem
		assigns []string // names still read
	}{
		{"call", "A = 1\nX = os.getenv('X')\nB = 2", []Problem{{2, "X", `X: a computed value ("."), not a literal`}}, []string{"A", "B"}},
		{"percent format", `X = 'HOME=%s' % h`, []Problem{{1, "X", `X: a computed value ("%"), not a literal`}}, nil},
		{"f-string", `X = f'{a}'`, []Problem{{1, "X", "X: an f-string is computed, not a literal"}}, nil},
		{"bytes", `X = b'a'`, []Problem{{1, "X", "X: a bytes literal, not a string"}}, nil},
		{"append", "X.append('a')", []Problem{{1, "X", `X is not assigned with NAME = literal (found "."): changes in place are not converted`}}, nil},
		{"augmented", "X += ['a']", []Problem{{1, "X", `X is not assigned with NAME = literal (found "+="): changes in place are not converted`}}, nil},
		{"subscript", "X['run'] = []", []Problem{{1, "X", `X is not assigned with NAME = literal (found "["): changes in place are not converted`}}, nil},
		{"conditional block", "if user_name == 'bob':\n    X = 1\nY = 2", []Problem{
			{1, "", `not an assignment (keyword "if")`},
			{2, "", "an indented statement (inside if/for/def): conditional settings cannot be converted"}}, []string{"Y"}},
		{"conditional expression", "X = 1 if a else 2", []Problem{{1, "X", `X: a computed value (keyword "if"), not a literal`}}, nil},
		{"set", "X = {'a', 'b'}", []Problem{{1, "X", `X: expected : in a dict, found "," (sets are not supported)`}}, nil},
		{"comprehension", "X = [a for a in b]", []Problem{{1, "X", `X: a computed value (keyword "for"), not a literal`}}, nil},
		{"unclosed list", "X = [1,\n2\nY = 3", []Problem{{3, "X", `X: expected , or ], found name "Y"`}}, nil},
		{"unterminated string", "A = 1\nX = 'abc\nB = 2", []Problem{{2, "", "unterminated string; the rest of the file was not read"}}, []string{"A"}},
		{"unterminated triple", "X = '''abc", []Problem{{1, "", "unterminated string; the rest of the file was not read"}}, nil},
		{"leading zero", "X = 017", []Problem{{1, "X", "X: 017: leading zeros are not allowed in Python 3"}}, nil},
		{"huge int", "X = 99999999999999999999", []Problem{{1, "X", "X: 99999999999999999999 is not a 64-bit integer"}}, nil},
		{"named escape", `X = '\N{DASH}'`, []Problem{{1, "", `\N{...} escapes are not supported; the rest of the file was not read`}}, nil},
		{"misplaced underscore", "X = 1_.5", []Problem{{1, "X", "X: 1_.5 is not a number"}}, nil},
		{"underscore before exponent", "X = 6_E9", []Problem{{1, "X", "X: 6_E9 is not a number"}}, nil},
		{"underscore in prefix", "X = 0_x6", []Problem{{1, "X", "X: 0_x6 is not a number"}}, nil},
		{"continuation past the end", "X = 1\\\n", []Problem{{1, "", "a backslash continues the last line past the end of the file; the rest of the file was not read"}}, nil},
		{"imports are skipped", "from . import uid, gid\nimport os\nX = 1", nil, []string{"X"}},
		{"semicolons", "A = 1; B = 'x'", nil, []string{"A", "B"}},
		{"keyword target", "def f():\n  pass", []Problem{{1, "", `not an assignment (keyword "def")`}, {2, "", "an indented statement (inside if/for/def): conditional settings cannot be converted"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := Parse([]byte(tt.src))
			if !reflect.DeepEqual(problems, tt.want) {
				t.Errorf("Parse(%q) problems =\n%q\nwant\n%q", tt.src, problems, tt.want)
			}
			var names []string
			for _, a := range got {
				names = append(names, a.Name)
			}
			if !reflect.DeepEqual(names, tt.assigns) {
				t.Errorf("Parse(%q) read %q, want %q", tt.src, names, tt.assigns)
			}
		})
	}
}

func TestNestingBound(t *testing.T) {
	src := "X = "
	for range 200 {
		src += "["
	}
	_, problems := Parse([]byte(src))
	if len(problems) != 1 || problems[0].Msg != "X: nested more than 100 levels deep" {
		t.Errorf("problems = %q, want one about nesting", problems)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"X = ['a', ('-t', '--tty')]\nY = {'run': [r'\\d']}",
		"X = '''a\nb'''\nZ = user_home + ':'",
		"if x:\n  Y = 1\n",
		"X = -0x1f; Y = 1.5e-3",
		"X = 'a\\x4",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, problems := Parse(src)
		for _, a := range got {
			if a.Line < 1 || a.Name == "" {
				t.Fatalf("assignment %+v has no line or name", a)
			}
		}
		for _, p := range problems {
			if p.Line < 1 || p.Msg == "" {
				t.Fatalf("problem %+v has no line or message", p)
			}
		}
	})
}

// FuzzStringRoundTrip: any string, written as a Python literal in each
// quoting form, reads back as itself.
func FuzzStringRoundTrip(f *testing.F) {
	f.Add("a'b\"c\\d\n\r\t\x00é")
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\', '\'', '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			default:
				b.WriteByte(c)
			}
		}
		for _, q := range []string{"'", `"`, "'''", `"""`} {
			src := "X = " + q + b.String() + q
			got, problems := Parse([]byte(src))
			if len(problems) > 0 || len(got) != 1 || got[0].Value.Str != s {
				t.Fatalf("Parse(%q) = %+v, %v; want the string %q", src, got, problems, s)
			}
		}
	})
}
