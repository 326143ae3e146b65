package policy

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// position is a 1-based line and column in one file.
type position struct{ line, column int }

// positions maps a key path to where it is written. Paths join keys with
// "." and number array elements, array-of-tables entries included, with
// "[i]": "run.images[1]", "override[0].gpu.max_count". go-toml's decoder
// gives values but not where they are, so the document is walked a second
// time with its AST parser to find them.
type positions map[string]position

// at returns the position of path, or of its nearest ancestor that has one
// (an element of a multi-line array falls back to its key, a key in an
// inline table to the table).
func (ps positions) at(path string) position {
	for path != "" {
		if p, ok := ps[path]; ok {
			return p
		}
		path = parentPath(path)
	}
	return position{}
}

// parentPath strips the last element from path ("a.b[2]" → "a.b" → "a").
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i > 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// joinPath appends key to prefix. A key that is empty or that holds
// characters of the path syntax is quoted, so that every key has a
// non-empty path of its own.
func joinPath(prefix, key string) string {
	if key == "" || strings.ContainsAny(key, ".[]\"\\ \t") {
		key = strconv.Quote(key)
	}
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// indexer records positions while walking one document's expressions.
type indexer struct {
	p         *unstable.Parser
	pos       positions
	tableRows map[string]int // array-of-tables path → entries so far
}

// indexPositions walks data, which go-toml has already decoded without
// error, and returns the position of every key, table and array element.
func indexPositions(data []byte) positions {
	ix := &indexer{p: &unstable.Parser{}, pos: positions{}, tableRows: map[string]int{}}
	ix.p.Reset(data)
	prefix := ""
	for ix.p.NextExpression() {
		e := ix.p.Expression()
		switch e.Kind {
		case unstable.Table:
			prefix = ix.header(e, false)
		case unstable.ArrayTable:
			prefix = ix.header(e, true)
		case unstable.KeyValue:
			ix.keyValue(prefix, e)
		}
	}
	return ix.pos
}

func (ix *indexer) where(r unstable.Range) position {
	s := ix.p.Shape(r)
	return position{s.Start.Line, s.Start.Column}
}

// mark records path at n unless it already has a position: implicit
// tables keep the first key that created them.
func (ix *indexer) mark(path string, n *unstable.Node) {
	if _, ok := ix.pos[path]; !ok && n.Raw.Length > 0 {
		ix.pos[path] = ix.where(n.Raw)
	}
}

// resolve turns a key path into a concrete path: a key that names an array
// of tables means its last entry so far, as in TOML itself.
func (ix *indexer) resolve(path string) string {
	if n := ix.tableRows[path]; n > 0 {
		return indexPath(path, n-1)
	}
	return path
}

// header handles "[a.b]" and "[[a.b]]" and returns the new key prefix.
func (ix *indexer) header(e *unstable.Node, array bool) string {
	path := ""
	it := e.Key()
	for it.Next() {
		k := it.Node()
		path = joinPath(path, string(k.Data))
		if !it.IsLast() {
			ix.mark(path, k)
			path = ix.resolve(path)
			continue
		}
		if array {
			ix.mark(path, k)
			n := ix.tableRows[path]
			ix.tableRows[path] = n + 1
			path = indexPath(path, n)
		}
		if k.Raw.Length > 0 {
			ix.pos[path] = ix.where(k.Raw)
		}
	}
	return path
}

// keyValue handles "a.b = value" under prefix. Every key it creates is
// located at the start of the dotted key.
func (ix *indexer) keyValue(prefix string, e *unstable.Node) {
	path := prefix
	var first *unstable.Node
	it := e.Key()
	for it.Next() {
		if first == nil {
			first = it.Node()
		}
		path = joinPath(path, string(it.Node().Data))
		ix.mark(path, first)
	}
	if first != nil {
		ix.value(path, e.Value())
	}
}

// value records the elements of arrays and the keys of inline tables.
func (ix *indexer) value(path string, v *unstable.Node) {
	switch v.Kind {
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			el := it.Node()
			if el.Kind == unstable.Comment {
				continue
			}
			p := indexPath(path, i)
			ix.mark(p, el)
			ix.value(p, el)
			i++
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				ix.keyValue(path, kv)
			}
		}
	}
}
