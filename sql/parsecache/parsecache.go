// Package parsecache spares the grammar statements that differ from one
// already parsed only in their literals.
//
// Why: CockroachDB's generated LALR parser costs a point select about
// 18% of the node's CPU (most of it in goyacc's linear search of its
// exception table), and clients on the simple query protocol (pgbench,
// psql, many scripts) send the same statement again and again with other
// numbers and strings in it. PostgreSQL has no such cache; its parser is
// cheap. CockroachDB caches plans by the exact text.
//
// How: the scanner (cheap) turns a query into a shape — its tokens, with
// each numeric or string literal replaced by its kind — and the literals
// themselves. The first time a shape is seen, it is parsed once more with
// every literal replaced by a distinct marker value, and kept as a
// template if walking the tree meets exactly those markers, in text order,
// each as a literal expression (tree.NumVal or tree.StrVal). Every later
// query of that shape is the template with its literals put in place of
// the markers by a copy-on-write walk: only the nodes above a literal are
// copied, the rest is shared with the template, as a prepared statement's
// tree is shared between its executions.
//
// A shape whose literals are not all plain literal expressions in the tree
// (a type's length, a negated number, a literal the walk does not reach)
// is remembered as not templatable and parsed as usual, so a template
// never stands for a parse that could read its literals differently.
package parsecache

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/lexbase"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/scanner"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
)

// MaxQueryLen is the longest query the cache takes: longer ones (bulk
// INSERTs, generated SQL) are rarely sent twice in one shape, and their
// shapes would be large to keep.
const MaxQueryLen = 8 << 10

// Cache holds one session's templates. It is not safe for concurrent use:
// executing a statement types the nodes it shares with its template in
// place, as executing a prepared statement does, so a template must not
// be shared between sessions.
type Cache struct {
	max     int
	entries map[string]*template
	hits    int
}

// template is a shape's parse; nil stmt marks a shape that is parsed as
// usual every time.
type template struct {
	stmt *statements.Statement[tree.Statement]
}

// New returns a cache of at most maxEntries shapes; when full, it starts
// over empty.
func New(maxEntries int) *Cache {
	return &Cache{max: maxEntries, entries: make(map[string]*template)}
}

// Len reports how many shapes the cache holds, templatable or not.
func (c *Cache) Len() int { return len(c.entries) }

// Hits reports how many queries came from a template.
func (c *Cache) Hits() int { return c.hits }

// Parse returns query's statements: each from its shape's template when
// every statement has one, else all from parse, which must be the parse
// the caller would use without the cache (it also parses the marker text
// that makes a template). Errors are parse's, for query itself.
func (c *Cache) Parse(query string, parse func(string) (statements.Statements, error)) (statements.Statements, error) {
	shapes, ok := scan(query)
	if !ok {
		return parse(query)
	}
	out := make(statements.Statements, 0, len(shapes))
	for _, sh := range shapes {
		t, seen := c.entries[sh.key]
		if !seen {
			t = &template{stmt: makeTemplate(sh, parse)}
			if len(c.entries) >= c.max {
				clear(c.entries)
			}
			c.entries[sh.key] = t
		}
		if t.stmt == nil {
			return parse(query)
		}
		st, ok := fill(t.stmt, sh)
		if !ok {
			return parse(query)
		}
		out = append(out, st)
	}
	c.hits += len(out)
	return out, nil
}

// shape is one scanned statement: key names its tokens, literals by kind
// only.
type shape struct {
	key   string
	query string // the whole query string
	// start and end delimit the statement's text as the parser keeps it
	// (without the semicolon).
	start, end int
	lits       []literal
}

func (sh shape) sql() string { return sh.query[sh.start:sh.end] }

type literal struct {
	kind       int32 // lexbase.ICONST, FCONST, SCONST or BCONST
	start, end int   // the token's bytes in the query
	expr       tree.Expr
}

// sym is the scanner's token.
type sym struct {
	id    int32
	pos   int32
	str   string
	union any
}

func (s *sym) ID() int32         { return s.id }
func (s *sym) SetID(id int32)    { s.id = id }
func (s *sym) Pos() int32        { return s.pos }
func (s *sym) SetPos(p int32)    { s.pos = p }
func (s *sym) Str() string       { return s.str }
func (s *sym) SetStr(str string) { s.str = str }
func (s *sym) UnionVal() any     { return s.union }
func (s *sym) SetUnionVal(v any) { s.union = v }

// scan reads query into the shapes of its statements; false when the
// cache does not take it (too long, a token the scanner refuses, a
// function body whose semicolons do not end statements, no statement).
func scan(query string) ([]shape, bool) {
	if len(query) > MaxQueryLen {
		return nil, false
	}
	var sc scanner.SQLScanner
	sc.Init(query)
	var shapes []shape
	var key strings.Builder
	var cur shape
	inStmt := false
	var n [4]byte
	for {
		var tok sym
		sc.Scan(&tok)
		if tok.id == lexbase.ERROR || tok.id == lexbase.ATOMIC {
			return nil, false
		}
		if tok.id == 0 || tok.id == ';' {
			if inStmt {
				cur.key, cur.end = key.String(), int(tok.pos)
				if tok.id == 0 {
					cur.end = len(query)
				}
				shapes = append(shapes, cur)
				key.Reset()
				inStmt = false
			}
			if tok.id == 0 {
				return shapes, len(shapes) > 0
			}
			continue
		}
		if !inStmt {
			cur, inStmt = shape{query: query, start: int(tok.pos)}, true
		}
		binary.LittleEndian.PutUint32(n[:], uint32(tok.id))
		key.Write(n[:])
		switch tok.id {
		case lexbase.ICONST, lexbase.FCONST, lexbase.SCONST, lexbase.BCONST:
			lit := literal{kind: tok.id, start: int(tok.pos), end: sc.Pos()}
			switch tok.id {
			case lexbase.ICONST, lexbase.FCONST:
				nv, ok := tok.union.(*tree.NumVal)
				if !ok {
					return nil, false
				}
				lit.expr = nv
			case lexbase.SCONST:
				lit.expr = tree.NewStrVal(tok.str)
			default:
				lit.expr = tree.NewBytesStrVal(tok.str)
			}
			cur.lits = append(cur.lits, lit)
			continue
		}
		text := query[tok.pos:sc.Pos()]
		binary.LittleEndian.PutUint32(n[:], uint32(len(text)))
		key.Write(n[:])
		key.WriteString(text)
	}
}

// marker is the distinct stand-in for a shape's i-th literal, of the same
// token kind, and the value the tree must hold for it.
func marker(kind int32, i int) (text, value string) {
	switch kind {
	case lexbase.ICONST:
		v := strconv.Itoa(1_000_000_007 + i)
		return v, v
	case lexbase.FCONST:
		v := strconv.Itoa(1_000_000_007+i) + ".5"
		return v, v
	case lexbase.SCONST:
		// Mixed case and outer spaces: a grammar action that folds or
		// trims the string (EXTRACT('YEAR' FROM ...) lower-cases it)
		// changes the marker, and the shape gets no template.
		v := " Meridian-Literal " + strconv.Itoa(i) + " "
		return "'" + v + "'", v
	default:
		v := " Meridian-Literal " + strconv.Itoa(i) + " "
		return "b'" + v + "'", v
	}
}

// makeTemplate parses sh with a marker for each literal and returns the
// statement if the tree holds each marker, in order, as a literal
// expression of its kind; nil if not.
func makeTemplate(sh shape, parse func(string) (statements.Statements, error)) (st *statements.Statement[tree.Statement]) {
	var b strings.Builder
	prev := sh.start
	for i, l := range sh.lits {
		text, _ := marker(l.kind, i)
		b.WriteString(sh.query[prev:l.start])
		b.WriteString(text)
		prev = l.end
	}
	b.WriteString(sh.query[prev:sh.end])
	defer func() {
		if recover() != nil {
			st = nil
		}
	}()
	stmts, err := parse(b.String())
	if err != nil || len(stmts) != 1 {
		return nil
	}
	switch stmts[0].AST.(type) {
	case *tree.Select, *tree.Insert, *tree.Update, *tree.Delete:
	default:
		return nil
	}
	c := &collector{}
	if _, _ = tree.WalkStmt(c, stmts[0].AST); len(c.found) != len(sh.lits) {
		return nil
	}
	for i, l := range sh.lits {
		_, want := marker(l.kind, i)
		var ok bool
		switch e := c.found[i].(type) {
		case *tree.NumVal:
			ok = (l.kind == lexbase.ICONST || l.kind == lexbase.FCONST) && e.OrigString() == want && e.String() == want
		case *tree.StrVal:
			expect := tree.NewStrVal(want)
			if l.kind == lexbase.BCONST {
				expect = tree.NewBytesStrVal(want)
			}
			ok = (l.kind == lexbase.SCONST || l.kind == lexbase.BCONST) && tree.AsString(e) == tree.AsString(expect)
		}
		if !ok {
			return nil
		}
	}
	return &stmts[0]
}

// collector lists a tree's literal expressions in walk order.
type collector struct{ found []tree.Expr }

func (c *collector) VisitPre(e tree.Expr) (bool, tree.Expr) { return true, e }
func (c *collector) VisitPost(e tree.Expr) tree.Expr {
	switch e.(type) {
	case *tree.NumVal, *tree.StrVal:
		c.found = append(c.found, e)
	}
	return e
}

// filler puts a shape's literals in place of a template's.
type filler struct {
	lits []literal
	next int
}

func (f *filler) VisitPre(e tree.Expr) (bool, tree.Expr) { return true, e }
func (f *filler) VisitPost(e tree.Expr) tree.Expr {
	switch e.(type) {
	case *tree.NumVal, *tree.StrVal:
		if f.next < len(f.lits) {
			e = f.lits[f.next].expr
		}
		f.next++
	}
	return e
}

// fill returns the template with sh's literals; false if the template no
// longer holds as many literals as sh (it must, unless something changed
// a shared node, and then the query is parsed instead).
func fill(t *statements.Statement[tree.Statement], sh shape) (statements.Statement[tree.Statement], bool) {
	f := &filler{lits: sh.lits}
	ast, _ := tree.WalkStmt(f, t.AST)
	if f.next != len(sh.lits) {
		return statements.Statement[tree.Statement]{}, false
	}
	st := *t
	st.AST, st.SQL = ast, sh.sql()
	return st, true
}
