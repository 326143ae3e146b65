// Package pyliteral reads the literal assignments of a Python source file
// (NAME = literal) without executing anything: strings in every quoting
// form, numbers, booleans, None, lists, tuples and dicts, plus names and
// "+" so that a caller can recognise simple concatenations. Everything
// else is reported as a Problem with its line, never guessed at.
//
// It exists for `userdocker config import`, which converts the Python
// userdocker's config.py files; executing them as root would run whatever
// they contain.
package pyliteral

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a token.
type tokKind int

const (
	tokEOF     tokKind = iota
	tokNewline         // end of a logical line
	tokIndent          // a logical line that starts with whitespace
	tokName
	tokNumber
	tokString
	tokOp
)

// token is one lexical token. For strings, text is the decoded value and
// prefix the lower-cased string prefix ("", "r", "b", "f", "rb", ...).
type token struct {
	kind   tokKind
	text   string
	prefix string
	line   int
}

// lexer splits Python source into tokens. Newlines inside brackets and
// after a backslash continue the logical line, as in Python.
type lexer struct {
	src   string
	pos   int
	line  int
	depth int  // open brackets
	bol   bool // at the beginning of a logical line
}

// errLex is a token the lexer cannot read; it carries the line.
type errLex struct {
	line int
	msg  string
}

func (e *errLex) Error() string { return e.msg }

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, bol: true} }

// next returns the next token, or an error for input that cannot be
// tokenised (an unterminated string, a stray byte); after an error the
// rest of the file cannot be read reliably.
func (lx *lexer) next() (token, error) {
	for {
		if lx.pos >= len(lx.src) {
			if !lx.bol {
				lx.bol = true
				return token{kind: tokNewline, line: lx.line}, nil
			}
			return token{kind: tokEOF, line: lx.line}, nil
		}
		c := lx.src[lx.pos]
		switch {
		case c == '\n':
			lx.pos++
			lx.line++
			if lx.depth == 0 && !lx.bol {
				lx.bol = true
				return token{kind: tokNewline, line: lx.line - 1}, nil
			}
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			start := lx.pos
			for lx.pos < len(lx.src) && strings.IndexByte(" \t\r\f", lx.src[lx.pos]) >= 0 {
				lx.pos++
			}
			if lx.bol && lx.depth == 0 && start == lineStart(lx.src, start) && lx.pos < len(lx.src) &&
				lx.src[lx.pos] != '\n' && lx.src[lx.pos] != '#' {
				lx.bol = false
				return token{kind: tokIndent, line: lx.line}, nil
			}
			continue
		case c == '#':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
			continue
		case c == '\\' && (strings.HasPrefix(lx.src[lx.pos+1:], "\n") || strings.HasPrefix(lx.src[lx.pos+1:], "\r\n")):
			lx.pos += 2
			if lx.src[lx.pos-1] == '\r' {
				lx.pos++
			}
			lx.line++
			if lx.pos >= len(lx.src) {
				return token{}, &errLex{lx.line - 1, fmt.Sprintf("line %d: a backslash continues the last line past the end of the file", lx.line-1)}
			}
			continue
		}
		lx.bol = false
		return lx.token()
	}
}

func lineStart(src string, i int) int { return strings.LastIndexByte(src[:i], '\n') + 1 }

func (lx *lexer) token() (token, error) {
	c := lx.src[lx.pos]
	line := lx.line
	switch {
	case isNameStart(c):
		start := lx.pos
		for lx.pos < len(lx.src) && isNameByte(lx.src[lx.pos]) {
			lx.pos++
		}
		word := lx.src[start:lx.pos]
		if lx.pos < len(lx.src) && (lx.src[lx.pos] == '\'' || lx.src[lx.pos] == '"') && isStringPrefix(word) {
			return lx.str(strings.ToLower(word))
		}
		return token{kind: tokName, text: word, line: line}, nil
	case c == '\'' || c == '"':
		return lx.str("")
	case isDigit(c) || (c == '.' && lx.pos+1 < len(lx.src) && isDigit(lx.src[lx.pos+1])):
		start := lx.pos
		for lx.pos < len(lx.src) && (isNameByte(lx.src[lx.pos]) || lx.src[lx.pos] == '.' ||
			((lx.src[lx.pos] == '+' || lx.src[lx.pos] == '-') && (lx.src[lx.pos-1] == 'e' || lx.src[lx.pos-1] == 'E') &&
				!strings.HasPrefix(strings.ToLower(lx.src[start:]), "0x"))) {
			lx.pos++
		}
		return token{kind: tokNumber, text: lx.src[start:lx.pos], line: line}, nil
	case c >= 0x80:
		return token{}, &errLex{line, fmt.Sprintf("line %d: a non-ASCII character outside a string", line)}
	}
	for _, op := range operators {
		if strings.HasPrefix(lx.src[lx.pos:], op) {
			lx.pos += len(op)
			switch op {
			case "(", "[", "{":
				lx.depth++
			case ")", "]", "}":
				if lx.depth > 0 {
					lx.depth--
				}
			}
			return token{kind: tokOp, text: op, line: line}, nil
		}
	}
	return token{}, &errLex{line, fmt.Sprintf("line %d: unexpected character %q", line, c)}
}

// operators are Python's operators and delimiters, longest first, so that
// anything outside the literal subset still tokenises and can be reported
// as what it is.
var operators = []string{
	"**=", "//=", ">>=", "<<=", "...", "->", ":=",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "==", "!=", "<=", ">=", "**", "//", "<<", ">>",
	"+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<", ">", "(", ")", "[", "]", "{", "}",
	",", ":", ".", ";", "=", "!",
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameByte(c byte) bool { return isNameStart(c) || isDigit(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// str reads a string literal at lx.pos (after its prefix) and decodes it.
func (lx *lexer) str(prefix string) (token, error) {
	line := lx.line
	q := lx.src[lx.pos : lx.pos+1]
	if strings.HasPrefix(lx.src[lx.pos:], q+q+q) {
		q = q + q + q
	}
	lx.pos += len(q)
	raw := strings.ContainsRune(prefix, 'r')
	var b strings.Builder
	for {
		if lx.pos >= len(lx.src) {
			return token{}, &errLex{line, fmt.Sprintf("line %d: unterminated string", line)}
		}
		if strings.HasPrefix(lx.src[lx.pos:], q) {
			lx.pos += len(q)
			return token{kind: tokString, text: b.String(), prefix: prefix, line: line}, nil
		}
		c := lx.src[lx.pos]
		switch {
		case c == '\n' && len(q) == 1:
			return token{}, &errLex{line, fmt.Sprintf("line %d: unterminated string", line)}
		case c == '\n':
			lx.line++
			b.WriteByte(c)
			lx.pos++
		case c == '\\' && lx.pos+1 < len(lx.src):
			if raw {
				// In a raw string a backslash escapes nothing but still
				// keeps the next character (a quote) from ending it.
				b.WriteString(lx.src[lx.pos : lx.pos+2])
				if lx.src[lx.pos+1] == '\n' {
					lx.line++
				}
				lx.pos += 2
				continue
			}
			if err := lx.escape(&b); err != nil {
				return token{}, err
			}
		default:
			b.WriteByte(c)
			lx.pos++
		}
	}
}

// simpleEscapes are Python's one-character escapes.
var simpleEscapes = map[byte]string{
	'\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f",
	'n': "\n", 'r': "\r", 't': "\t", 'v': "\v", '\n': "",
}

// escape decodes the escape sequence at lx.pos (a backslash) into b.
func (lx *lexer) escape(b *strings.Builder) error {
	if strings.HasPrefix(lx.src[lx.pos+1:], "\r\n") { // a continued line, CRLF style
		lx.line++
		lx.pos += 3
		return nil
	}
	c := lx.src[lx.pos+1]
	if s, ok := simpleEscapes[c]; ok {
		if c == '\n' {
			lx.line++
		}
		b.WriteString(s)
		lx.pos += 2
		return nil
	}
	digits, base := 0, 0
	switch c {
	case 'x':
		digits, base = 2, 16
	case 'u':
		digits, base = 4, 16
	case 'U':
		digits, base = 8, 16
	case '0', '1', '2', '3', '4', '5', '6', '7':
		digits, base = 3, 8
	case 'N':
		return &errLex{lx.line, fmt.Sprintf(`line %d: \N{...} escapes are not supported`, lx.line)}
	default:
		// Python keeps unknown escapes as they are.
		b.WriteByte('\\')
		lx.pos++
		return nil
	}
	start := lx.pos + 2
	if base == 8 {
		start = lx.pos + 1
	}
	end := start
	var v rune
	for end < len(lx.src) && end-start < digits && digitValue(lx.src[end], base) >= 0 {
		v = v*rune(base) + rune(digitValue(lx.src[end], base))
		end++
	}
	if base == 16 && end-start != digits {
		return &errLex{lx.line, fmt.Sprintf(`line %d: truncated \%c escape`, lx.line, c)}
	}
	if v > 0x10FFFF || (0xD800 <= v && v <= 0xDFFF) {
		return &errLex{lx.line, fmt.Sprintf(`line %d: \%c escape out of range`, lx.line, c)}
	}
	b.WriteRune(v)
	lx.pos = end
	return nil
}

func digitValue(c byte, base int) int {
	v := -1
	switch {
	case '0' <= c && c <= '9':
		v = int(c - '0')
	case 'a' <= c && c <= 'f':
		v = int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		v = int(c-'A') + 10
	}
	if v >= base {
		return -1
	}
	return v
}
