package pyliteral

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind says what a Value is.
type Kind int

// The kinds of Value. Name and Concat are not literals: they let a caller
// recognise `user_home + ':' + user_home` and decide what it means.
const (
	String Kind = iota
	Int
	Float
	Bool
	None
	List
	Tuple
	Dict
	Name   // a bare identifier other than True, False, None
	Concat // Items joined with +
)

var kindNames = [...]string{"string", "integer", "float", "boolean", "None", "list", "tuple", "dict", "name", "concatenation"}

func (k Kind) String() string { return kindNames[k] }

// Value is a parsed expression.
type Value struct {
	Kind  Kind
	Str   string  // String (decoded), Name (the identifier)
	Int   int64   // Int
	Float float64 // Float
	Bool  bool    // Bool
	// Items are the elements of a List, Tuple or Concat, and the values of
	// a Dict, whose keys are in Keys.
	Items []Value
	Keys  []Value
	Line  int
}

// Assignment is one top-level `NAME = value` statement.
type Assignment struct {
	Name  string
	Value Value
	Line  int
}

// Problem is a statement that is not a literal assignment, or input that
// cannot be read; Name is the assigned name when it is known.
type Problem struct {
	Line int
	Name string
	Msg  string
}

func (p Problem) Error() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// maxDepth bounds nesting, so that hostile input cannot exhaust the stack.
const maxDepth = 100

// Parse reads src as a sequence of Python statements and returns the
// literal assignments in order. Imports are skipped (the old config files
// import the caller's names); every other statement is a Problem, as is
// an assignment inside an indented block, since it may be conditional.
// After a Problem Parse continues with the next logical line; after a
// lexical error (an unterminated string) it stops.
func Parse(src []byte) ([]Assignment, []Problem) {
	p := &parser{lx: newLexer(string(src))}
	p.advance()
	for p.tok.kind != tokEOF && p.lexErr == nil {
		p.statement()
	}
	if p.lexErr != nil {
		p.problems = append(p.problems, Problem{Line: p.lexErr.line, Msg: strings.TrimPrefix(p.lexErr.msg, fmt.Sprintf("line %d: ", p.lexErr.line)) + "; the rest of the file was not read"})
	}
	return p.out, p.problems
}

type parser struct {
	lx       *lexer
	tok      token
	lexErr   *errLex
	depth    int
	out      []Assignment
	problems []Problem
}

func (p *parser) advance() {
	if p.lexErr != nil {
		return
	}
	t, err := p.lx.next()
	if err != nil {
		p.lexErr = err.(*errLex)
		p.tok = token{kind: tokEOF, line: p.lexErr.line}
		return
	}
	p.tok = t
}

// skipLine drops the rest of the logical line.
func (p *parser) skipLine() {
	for p.tok.kind != tokNewline && p.tok.kind != tokEOF {
		if p.tok.kind == tokOp && p.tok.text == ";" {
			p.advance()
			return
		}
		p.advance()
	}
	p.advance()
}

func (p *parser) fail(line int, name, format string, args ...any) {
	if p.lexErr != nil {
		return // the lexical error is the problem
	}
	p.problems = append(p.problems, Problem{Line: line, Name: name, Msg: fmt.Sprintf(format, args...)})
}

// syntaxError is a parse failure inside an expression.
type syntaxError struct {
	line int
	msg  string
}

func (p *parser) errorf(format string, args ...any) *syntaxError {
	return &syntaxError{line: p.tok.line, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) statement() {
	line := p.tok.line
	switch {
	case p.tok.kind == tokNewline:
		p.advance()
		return
	case p.tok.kind == tokIndent:
		p.fail(line, "", "an indented statement (inside if/for/def): conditional settings cannot be converted")
		p.skipLine()
		return
	case p.tok.kind == tokName && (p.tok.text == "import" || p.tok.text == "from"):
		p.skipLine()
		return
	case p.tok.kind != tokName || isKeyword(p.tok.text):
		p.fail(line, "", "not an assignment (%s)", describe(p.tok))
		p.skipLine()
		return
	}
	name := p.tok.text
	p.advance()
	if p.tok.kind != tokOp || p.tok.text != "=" {
		p.fail(line, name, "%s is not assigned with NAME = literal (found %s): changes in place are not converted", name, describe(p.tok))
		p.skipLine()
		return
	}
	p.advance()
	v, err := p.expr()
	if err == nil && !p.atEnd() {
		err = p.errorf("unexpected %s after the value", describe(p.tok))
	}
	if err != nil {
		p.fail(err.line, name, "%s: %s", name, err.msg)
		p.skipLine()
		return
	}
	if p.lexErr != nil {
		return // the statement may be cut short: keep nothing of it
	}
	p.out = append(p.out, Assignment{Name: name, Value: v, Line: line})
	p.skipLine()
}

func (p *parser) atEnd() bool {
	return p.tok.kind == tokNewline || p.tok.kind == tokEOF || (p.tok.kind == tokOp && p.tok.text == ";")
}

// expr is term ("+" term)*.
func (p *parser) expr() (Value, *syntaxError) {
	first, err := p.term()
	if err != nil {
		return Value{}, err
	}
	if p.tok.kind != tokOp || p.tok.text != "+" {
		return first, nil
	}
	v := Value{Kind: Concat, Items: []Value{first}, Line: first.Line}
	for p.tok.kind == tokOp && p.tok.text == "+" {
		p.advance()
		t, err := p.term()
		if err != nil {
			return Value{}, err
		}
		v.Items = append(v.Items, t)
	}
	return v, nil
}

func (p *parser) term() (Value, *syntaxError) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return Value{}, p.errorf("nested more than %d levels deep", maxDepth)
	}
	v, err := p.atom()
	if err != nil {
		return Value{}, err
	}
	switch {
	case p.tok.kind == tokOp && !followsValue[p.tok.text], p.tok.kind == tokName && isKeyword(p.tok.text):
		// a call, subscript, attribute, operator or conditional
		return Value{}, p.errorf("a computed value (%s), not a literal", describe(p.tok))
	}
	return v, nil
}

func (p *parser) atom() (Value, *syntaxError) {
	t := p.tok
	switch t.kind {
	case tokString:
		return p.strings()
	case tokNumber:
		p.advance()
		return number(t)
	case tokName:
		p.advance()
		switch t.text {
		case "True", "False":
			return Value{Kind: Bool, Bool: t.text == "True", Line: t.line}, nil
		case "None":
			return Value{Kind: None, Line: t.line}, nil
		}
		if isKeyword(t.text) {
			return Value{}, &syntaxError{t.line, fmt.Sprintf("a computed value (%s), not a literal", describe(t))}
		}
		return Value{Kind: Name, Str: t.text, Line: t.line}, nil
	case tokOp:
		switch t.text {
		case "[":
			return p.sequence(List, "]")
		case "(":
			return p.sequence(Tuple, ")")
		case "{":
			return p.dict()
		case "-":
			p.advance()
			if p.tok.kind != tokNumber {
				return Value{}, p.errorf("a computed value (unary -), not a literal")
			}
			v, err := number(token{kind: tokNumber, text: "-" + p.tok.text, line: p.tok.line})
			p.advance()
			return v, err
		}
	}
	return Value{}, p.errorf("expected a value, found %s", describe(t))
}

// strings reads adjacent string literals, which Python joins.
func (p *parser) strings() (Value, *syntaxError) {
	v := Value{Kind: String, Line: p.tok.line}
	for p.tok.kind == tokString {
		switch {
		case strings.Contains(p.tok.prefix, "f"):
			return Value{}, p.errorf("an f-string is computed, not a literal")
		case strings.Contains(p.tok.prefix, "b"):
			return Value{}, p.errorf("a bytes literal, not a string")
		}
		v.Str += p.tok.text
		p.advance()
	}
	return v, nil
}

// sequence reads the items of a list or tuple after its opening bracket.
func (p *parser) sequence(kind Kind, closing string) (Value, *syntaxError) {
	v := Value{Kind: kind, Line: p.tok.line, Items: []Value{}}
	p.advance()
	commas := 0
	for !(p.tok.kind == tokOp && p.tok.text == closing) {
		item, err := p.expr()
		if err != nil {
			return Value{}, err
		}
		v.Items = append(v.Items, item)
		if p.tok.kind == tokOp && p.tok.text == "," {
			commas++
			p.advance()
			continue
		}
		if !(p.tok.kind == tokOp && p.tok.text == closing) {
			return Value{}, p.errorf("expected , or %s, found %s", closing, describe(p.tok))
		}
	}
	p.advance()
	if kind == Tuple && len(v.Items) == 1 && commas == 0 {
		return v.Items[0], nil // (x) is x, not a tuple
	}
	return v, nil
}

func (p *parser) dict() (Value, *syntaxError) {
	v := Value{Kind: Dict, Line: p.tok.line, Items: []Value{}, Keys: []Value{}}
	p.advance()
	for !(p.tok.kind == tokOp && p.tok.text == "}") {
		k, err := p.expr()
		if err != nil {
			return Value{}, err
		}
		if !(p.tok.kind == tokOp && p.tok.text == ":") {
			return Value{}, p.errorf("expected : in a dict, found %s (sets are not supported)", describe(p.tok))
		}
		p.advance()
		val, err := p.expr()
		if err != nil {
			return Value{}, err
		}
		v.Keys = append(v.Keys, k)
		v.Items = append(v.Items, val)
		if p.tok.kind == tokOp && p.tok.text == "," {
			p.advance()
			continue
		}
		if !(p.tok.kind == tokOp && p.tok.text == "}") {
			return Value{}, p.errorf("expected , or }, found %s", describe(p.tok))
		}
	}
	p.advance()
	return v, nil
}

// number converts a Python integer or float literal.
func number(t token) (Value, *syntaxError) {
	if !underscoresOK(strings.TrimPrefix(t.text, "-")) {
		return Value{}, &syntaxError{t.line, fmt.Sprintf("%s is not a number", t.text)}
	}
	text := strings.ReplaceAll(t.text, "_", "")
	if strings.HasSuffix(strings.ToLower(text), "j") {
		return Value{}, &syntaxError{t.line, fmt.Sprintf("complex number %s is not supported", t.text)}
	}
	lower := strings.ToLower(strings.TrimPrefix(text, "-"))
	isBased := len(lower) > 1 && lower[0] == '0' && strings.ContainsAny(lower[1:2], "xob")
	if !isBased && strings.ContainsAny(lower, ".e") {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			return Value{}, &syntaxError{t.line, fmt.Sprintf("%s is not a number", t.text)}
		}
		return Value{Kind: Float, Float: f, Line: t.line}, nil
	}
	if !isBased && len(lower) > 1 && lower[0] == '0' && strings.Trim(lower, "0") != "" {
		return Value{}, &syntaxError{t.line, fmt.Sprintf("%s: leading zeros are not allowed in Python 3", t.text)}
	}
	n, err := strconv.ParseInt(text, 0, 64)
	if err != nil || strings.Contains(t.text, "__") || strings.HasSuffix(t.text, "_") {
		return Value{}, &syntaxError{t.line, fmt.Sprintf("%s is not a 64-bit integer", t.text)}
	}
	return Value{Kind: Int, Int: n, Line: t.line}, nil
}

// followsValue are the operators that may follow a value in the literal
// subset; any other operator makes the expression a computation.
var followsValue = map[string]bool{",": true, ")": true, "]": true, "}": true, ":": true, ";": true, "+": true}

// underscoresOK reports whether every '_' in the number literal s stands
// between two digits (or right after a 0x, 0o or 0b prefix), as Python
// requires: "1_000" and "0x_1f", not "1_", "1__0", "1_.5" or "1e_3".
func underscoresOK(s string) bool {
	base := 10
	if len(s) > 1 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			continue
		}
		afterPrefix := i == 2 && base != 10
		if i == 0 || i+1 == len(s) || digitValue(s[i+1], base) < 0 || (!afterPrefix && digitValue(s[i-1], base) < 0) {
			return false
		}
	}
	return true
}

// keywords are Python's reserved words that cannot start an assignment.
var keywords = map[string]bool{
	"and": true, "as": true, "assert": true, "async": true, "await": true, "break": true,
	"class": true, "continue": true, "def": true, "del": true, "elif": true, "else": true,
	"except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true,
	"or": true, "pass": true, "raise": true, "return": true, "try": true, "while": true,
	"with": true, "yield": true, "True": true, "False": true, "None": true,
}

func isKeyword(s string) bool { return keywords[s] }

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokNewline:
		return "end of line"
	case tokIndent:
		return "indentation"
	case tokString:
		return "a string"
	case tokNumber:
		return "number " + t.text
	case tokName:
		if isKeyword(t.text) {
			return "keyword " + strconv.Quote(t.text)
		}
		return "name " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}
