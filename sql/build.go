package sql

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/lib/pq/oid"

	crdbpgerror "github.com/cockroachdb/cockroachdb-parser/pkg/sql/pgwire/pgerror"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// builder turns a statement's AST into a plan: it resolves names against
// the catalog and the scope of each clause, type-checks expressions (with
// the parser's tree.TypeCheck, which also infers placeholder types), and
// picks the primary-index span a WHERE clause allows. DDL is run by
// schemaChanger (ddl.go), which plans through a builder.
type builder struct {
	ctx  context.Context
	txn  kvapi.Txn
	sema tree.SemaContext
	// subqueries holds the statement's planned subqueries (shared by the
	// builders of nested subqueries).
	subqueries map[*tree.Subquery]*subquery
	// outer is the scope of the query a subquery is nested in: its
	// columns can be named inside (a correlated subquery); nil at the top.
	outer *scope
	// usedOuter records that a name resolved in outer.
	usedOuter bool
	// locking makes the table reads of the SELECT being built locking
	// reads (FOR UPDATE / FOR SHARE; see kvapi.Txn.ScanForUpdate).
	locking bool
	// ctes are the common table expressions (WITH) in scope, innermost
	// last; FROM names resolve to them before tables.
	ctes []cteEntry
}

// cteEntry is one WITH query: where it is named, it is planned as a
// subquery in FROM would be (once per reference; PostgreSQL computes it
// once, which differs only for volatile functions), seeing the WITH
// queries before it.
type cteEntry struct {
	name    string
	cols    tree.ColumnDefList
	sel     *tree.Select
	visible []cteEntry
	// recursive: sel is anchor UNION [ALL] term, and term names the
	// query itself (see recursiveNode).
	recursive bool
	// bound: the name stands for rows, the working table of a recursive
	// query's iteration, of columns boundCols.
	bound     bool
	rows      []tree.Datums
	boundCols []resultColumn
}

func newBuilder(ctx context.Context, txn kvapi.Txn, numPlaceholders int, hints []*types.T) *builder {
	b := &builder{ctx: ctx, txn: txn, sema: tree.MakeSemaContext(typeResolver{}), subqueries: map[*tree.Subquery]*subquery{}}
	b.sema.Placeholders.Init(numPlaceholders, hints)
	return b
}

// outerBase offsets the column references of a correlated subquery into
// the enclosing query's row: IndexedVar outerBase+i is that row's column
// i (see evalCtx.outer).
const outerBase = 1 << 20

// scope is the set of columns an expression may name: a table's, or the
// concatenated columns of joined tables, each with its table's name.
type scope struct {
	cols []resultColumn
}

// ivarTypes gives the type checker the types of column references: the
// scope's own columns and, at outerBase and above, the enclosing query's.
type ivarTypes struct {
	cols, outer []resultColumn
}

func (s ivarTypes) IndexedVarResolvedType(i int) *types.T {
	if i >= outerBase {
		return s.outer[i-outerBase].typ
	}
	return s.cols[i].typ
}

func (s *scope) resolve(n *tree.UnresolvedName) (int, error) {
	if n.Star {
		return 0, pgerror.New(pgerror.CodeSyntaxError, "* is not allowed here")
	}
	col := n.Parts[0]
	if n.NumParts > 1 {
		table, known := n.Parts[1], false
		for i, c := range s.cols {
			if c.table == table {
				known = true
				if c.name == col {
					return i, nil
				}
			}
		}
		if !known {
			return 0, pgerror.Newf("42P01", "missing FROM-clause entry for table %q", table)
		}
		return 0, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %s.%s does not exist", table, col)
	}
	found := -1
	for i, c := range s.cols {
		if c.name == col {
			if found >= 0 {
				return 0, pgerror.Newf("42702", "column reference %q is ambiguous", col)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", col)
	}
	return found, nil
}

// isAggregate reports whether a function name is an aggregate.
func isAggregate(f *tree.FuncExpr) bool {
	name, ok := f.Func.FunctionReference.(*tree.UnresolvedName)
	if !ok || name.NumParts != 1 {
		return false
	}
	ovs := builtins[strings.ToLower(name.Parts[0])]
	return len(ovs) > 0 && ovs[0].Class == tree.AggregateClass
}

// rewriteCountStar turns count(*) into count_rows().
func rewriteCountStar(f *tree.FuncExpr) *tree.FuncExpr {
	name, ok := f.Func.FunctionReference.(*tree.UnresolvedName)
	if !ok || name.NumParts != 1 || strings.ToLower(name.Parts[0]) != "count" || len(f.Exprs) != 1 {
		return f
	}
	star := false
	switch a := f.Exprs[0].(type) {
	case tree.UnqualifiedStar:
		star = true
	case *tree.UnresolvedName:
		star = a.Star
	}
	if !star {
		return f
	}
	return &tree.FuncExpr{Func: tree.WrapFunction("count_rows")}
}

// resolveNames replaces column names with typed references into sc.
func (b *builder) resolveNames(expr tree.Expr, sc *scope) (tree.Expr, error) {
	return tree.SimpleVisit(expr, func(e tree.Expr) (bool, tree.Expr, error) {
		switch n := e.(type) {
		case *tree.CastExpr:
			// 'name'::regclass looks the name up when it runs: the type
			// checker would parse the literal as a number.
			if _, ok := n.Expr.(*tree.StrVal); ok {
				if t, err := tree.ResolveType(b.ctx, n.Type, typeResolver{}); err == nil && t.Oid() == oid.T_regclass {
					return true, &tree.CastExpr{Expr: &tree.CastExpr{Expr: n.Expr, Type: types.String, SyntaxMode: tree.CastShort}, Type: n.Type, SyntaxMode: n.SyntaxMode}, nil
				}
			}
		case *tree.UnresolvedName:
			i, err := sc.resolve(n)
			if err != nil {
				if b.outer != nil && !n.Star {
					if oi, oerr := b.outer.resolve(n); oerr == nil {
						b.usedOuter = true
						return false, tree.NewTypedOrdinalReference(outerBase+oi, b.outer.cols[oi].typ), nil
					}
				}
				return false, nil, err
			}
			return false, tree.NewTypedOrdinalReference(i, sc.cols[i].typ), nil
		case *tree.Subquery:
			if err := b.planSubquery(n, sc); err != nil {
				return false, nil, err
			}
			return false, n, nil
		case *tree.FuncExpr:
			if isAggregate(n) {
				return false, nil, pgerror.New("42803", "aggregate functions are not allowed here")
			}
			if err := checkFunctionExists(n); err != nil {
				return false, nil, err
			}
		}
		return true, e, nil
	})
}

// checkFunctionExists refuses a call of a function there is no
// definition of, before the type checker (which expects every name it
// meets to be defined) sees it.
func checkFunctionExists(f *tree.FuncExpr) error {
	var name string
	switch n := f.Func.FunctionReference.(type) {
	case *tree.UnresolvedName:
		name = strings.ToLower(n.Parts[0])
		if n.NumParts > 2 || (n.NumParts == 2 && n.Parts[1] != "pg_catalog") {
			return pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", tree.AsString(n))
		}
	case *tree.FunctionDefinition:
		// The grammar names some functions itself (GREATEST, TRIM,
		// OVERLAPS, ...): a definition without overloads is one we lack.
		if len(n.Definition) > 0 {
			return nil
		}
		if _, ok := builtins[n.Name]; !ok {
			return unsupported("%s (the function behind this syntax) is not supported yet", n.Name)
		}
		return nil
	default:
		return nil
	}
	if _, ok := builtins[name]; !ok {
		return pgerror.WithHint(pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", name),
			"No function matches the given name. Meridian supports a subset of PostgreSQL's functions so far.")
	}
	return nil
}

// subquery is a planned subquery: a scalar (one column, at most one
// row), an EXISTS, or the right side of IN.
type subquery struct {
	exists bool
	typ    *types.T
	// correlated subqueries name the enclosing row's columns and run for
	// every row; the others run once per statement and keep their result.
	correlated bool
	build      func() (planNode, error)

	done   bool
	cached tree.Datum
	all    *tree.DTuple
}

// planSubquery plans sq with outer as the scope it may reach into, and
// types it for the type checker.
func (b *builder) planSubquery(sq *tree.Subquery, outer *scope) error {
	sel := &tree.Select{Select: sq.Select}
	// The WITH queries in scope now: the subquery may be planned again
	// later (per row), after the WITH's scope has ended.
	ctes := b.ctes
	child := func() (*builder, planNode, error) {
		cb := &builder{ctx: b.ctx, txn: b.txn, sema: b.sema, subqueries: b.subqueries, outer: outer, ctes: ctes}
		p, err := cb.buildSelect(sel)
		return cb, p, err
	}
	cb, p, err := child()
	if err != nil {
		return err
	}
	cols := visibleCols(p)
	info := &subquery{exists: sq.Exists, correlated: cb.usedOuter}
	info.build = func() (planNode, error) {
		_, p, err := child()
		return p, err
	}
	if sq.Exists {
		info.typ = types.Bool
	} else {
		if len(cols) != 1 {
			return pgerror.New(pgerror.CodeSyntaxError, "subquery must return only one column")
		}
		info.typ = cols[0].typ
	}
	sq.SetType(info.typ)
	b.subqueries[sq] = info
	return nil
}

// runSubquery evaluates a subquery for the enclosing row outerRow: its
// value (all: the DTuple of every first-column value, for IN).
func (b *builder) runSubquery(r *runner, sq *tree.Subquery, outerRow tree.Datums, all bool) (tree.Datum, error) {
	info := b.subqueries[sq]
	if info == nil {
		return nil, errors.AssertionFailedf("subquery %s was not planned", sq)
	}
	if info.done && !info.correlated {
		if all {
			return info.all, nil
		}
		if info.cached != nil {
			return info.cached, nil
		}
	}
	p, err := info.build()
	if err != nil {
		return nil, err
	}
	ev := *r.eval
	ev.outer = outerRow
	sub := &runner{ctx: r.ctx, txn: r.txn, eval: &ev}
	var rows []tree.Datum
	for {
		row, err := p.next(sub)
		if err != nil {
			return nil, err
		}
		if row == nil {
			break
		}
		if info.exists {
			rows = append(rows, tree.DBoolTrue)
			break
		}
		rows = append(rows, row[0])
		if !all && len(rows) > 1 {
			return nil, pgerror.New("21000", "more than one row returned by a subquery used as an expression")
		}
	}
	info.done = true
	if all {
		t := tree.NewDTupleWithLen(types.MakeTuple([]*types.T{info.typ}), len(rows))
		copy(t.D, rows)
		info.all = t
		return t, nil
	}
	var d tree.Datum = tree.DNull
	switch {
	case info.exists:
		d = tree.MakeDBool(len(rows) > 0)
	case len(rows) == 1:
		d = rows[0]
	}
	info.cached = d
	return d, nil
}

// typeCheck resolves names in expr against sc and type-checks it.
func (b *builder) typeCheck(expr tree.Expr, sc *scope, desired *types.T) (tree.TypedExpr, error) {
	resolved, err := b.resolveNames(expr, sc)
	if err != nil {
		return nil, err
	}
	return b.typeCheckResolved(resolved, sc.cols, desired)
}

func (b *builder) typeCheckResolved(expr tree.Expr, cols []resultColumn, desired *types.T) (tree.TypedExpr, error) {
	it := ivarTypes{cols: cols}
	if b.outer != nil {
		it.outer = b.outer.cols
	}
	b.sema.IVarContainer = it
	te, err := tree.TypeCheck(b.ctx, expr, &b.sema, desired)
	if err != nil {
		if sv, ok := expr.(*tree.StrVal); ok && desired.Family() != types.AnyFamily {
			// A literal that does not fit the type it was given (an
			// INSERT's column, say): PostgreSQL's message, with that type.
			switch crdbpgerror.GetPGCode(err).String() {
			case string(pgerror.CodeInvalidTextRepresentation):
				return nil, sem.InvalidInput(desired, sv.RawString())
			case string(pgerror.CodeNumericValueOutOfRange):
				return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "value %q is out of range for type %s", sv.RawString(), desired.SQLStandardName())
			}
		}
		return nil, sem.WithParserCode(err)
	}
	out, _ := tree.WalkExpr(pgSemantics{}, te)
	return out.(tree.TypedExpr), nil
}

// pgSemantics rewrites what CockroachDB's type checker resolves unlike
// PostgreSQL: integer / integer is an integer (truncated toward zero) in
// PostgreSQL, a decimal in CockroachDB.
type pgSemantics struct{}

func (pgSemantics) VisitPre(e tree.Expr) (bool, tree.Expr) {
	// A subquery's expressions were rewritten when it was planned; its
	// AST holds unresolved names.
	_, sub := e.(*tree.Subquery)
	return !sub, e
}

func (pgSemantics) VisitPost(e tree.Expr) tree.Expr {
	x, ok := e.(*tree.BinaryExpr)
	if !ok {
		return e
	}
	l, r := x.TypedLeft(), x.TypedRight()
	if l.ResolvedType().Family() != types.IntFamily || r.ResolvedType().Family() != types.IntFamily {
		return e
	}
	switch x.Operator.Symbol {
	case treebin.Plus, treebin.Minus, treebin.Mult, treebin.Div, treebin.Mod:
	default:
		return e
	}
	// Integer arithmetic keeps the wider operand's width, as in
	// PostgreSQL (int4 * int4 is an int4 that can overflow), where an
	// integer literal is an int4 if it fits.
	typ := types.Int
	switch max(pgIntWidth(l), pgIntWidth(r)) {
	case 16:
		typ = types.Int2
	case 32:
		typ = types.Int4
	}
	op := x.Operator
	if op.Symbol == treebin.Div {
		op = treebin.MakeBinaryOperator(treebin.FloorDiv)
	}
	if op == x.Operator && typ == x.ResolvedType() {
		return e
	}
	return tree.NewTypedBinaryExpr(op, l, r, typ)
}

// pgIntWidth is the width PostgreSQL gives an integer expression: its
// type's, with a literal that fits in 32 bits counting as an int4.
func pgIntWidth(e tree.TypedExpr) int32 {
	if d, ok := e.(*tree.DInt); ok {
		if int64(*d) >= math.MinInt32 && int64(*d) <= math.MaxInt32 {
			return 32
		}
		return 64
	}
	if w := e.ResolvedType().Width(); w != 0 {
		return w
	}
	return 64
}

// typeCheckBool type-checks a predicate (WHERE, HAVING).
func (b *builder) typeCheckBool(expr tree.Expr, sc *scope, clause string) (tree.TypedExpr, error) {
	te, err := b.typeCheck(expr, sc, types.Bool)
	if err != nil {
		return nil, err
	}
	if f := te.ResolvedType().Family(); f != types.BoolFamily && f != types.UnknownFamily {
		return nil, pgerror.Newf("42804", "argument of %s must be type boolean, not type %s", clause, te.ResolvedType().SQLString())
	}
	return te, nil
}

// tableScope returns the table's descriptor, its scan and its scope.
func (b *builder) table(expr tree.TableExpr) (*catalog.TableDescriptor, *scope, error) {
	alias := ""
	if a, ok := expr.(*tree.AliasedTableExpr); ok {
		if a.As.Alias != "" {
			alias = string(a.As.Alias)
		}
		expr = a.Expr
	}
	tn, ok := expr.(*tree.TableName)
	if !ok {
		return nil, nil, unsupported("only plain table names are supported in FROM yet")
	}
	if tn.ExplicitSchema && tn.SchemaName != "public" {
		return nil, nil, pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", tn.String())
	}
	desc, err := catalog.MustGetTable(b.ctx, b.txn, string(tn.ObjectName))
	if err != nil {
		return nil, nil, err
	}
	if alias == "" {
		alias = desc.Name
	}
	cols := resultColumns(desc)
	for i := range cols {
		cols[i].table = alias
	}
	return desc, &scope{cols: cols}, nil
}

func resultColumns(d *catalog.TableDescriptor) []resultColumn {
	cols := make([]resultColumn, len(d.Columns))
	for i, c := range d.Columns {
		cols[i] = resultColumn{name: c.Name, typ: c.Type(), tableID: d.ID, attr: uint16(i + 1), hidden: c.Hidden}
	}
	return cols
}

// scan builds the scan of desc filtered by where (nil: none).
func (b *builder) scan(desc *catalog.TableDescriptor, sc *scope, where *tree.Where) (*scanNode, error) {
	n := &scanNode{desc: desc, cols: sc.cols, locking: b.locking}
	if where == nil {
		return n, nil
	}
	filter, err := b.typeCheckBool(where.Expr, sc, "WHERE")
	if err != nil {
		return nil, err
	}
	n.filter = filter
	chooseIndex(n)
	return n, nil
}

// pkSpan narrows a scan to the primary-key prefix that equality
// conjuncts of filter fix (col = constant or parameter), or returns nil
// when they fix none. The filter is still applied to every row read.
func pkSpan(desc *catalog.TableDescriptor, filter tree.TypedExpr) func(r *runner) ([]byte, []byte, error) {
	f, _ := keySpan(desc, desc.IndexPrefix(), desc.PrimaryKey, filter)
	return f
}

// keySpan narrows a scan of the index whose keys start with prefix and
// then hold the values of cols to the prefix of cols that equality
// conjuncts of filter fix; it returns how many columns that is (0: no
// narrowing, and a nil function).
func keySpan(desc *catalog.TableDescriptor, prefix []byte, cols []int, filter tree.TypedExpr) (func(r *runner) ([]byte, []byte, error), int) {
	eq := map[int]tree.TypedExpr{}
	for _, c := range conjuncts(filter) {
		x, ok := c.(*tree.ComparisonExpr)
		if !ok || x.Operator.Symbol != treecmp.EQ {
			continue
		}
		l, r := x.TypedLeft(), x.TypedRight()
		if v, ok := l.(*tree.IndexedVar); ok && !hasVars(r) {
			eq[v.Idx] = r
		} else if v, ok := r.(*tree.IndexedVar); ok && !hasVars(l) {
			eq[v.Idx] = l
		}
	}
	var fixed []tree.TypedExpr
	for _, c := range cols {
		e, ok := eq[c]
		if !ok {
			break
		}
		fixed = append(fixed, e)
	}
	if len(fixed) == 0 {
		return nil, 0
	}
	return func(r *runner) ([]byte, []byte, error) {
		key := append([]byte(nil), prefix...)
		for i, e := range fixed {
			d, err := r.evalIn(e, nil)
			if err != nil {
				return nil, nil, err
			}
			if d == tree.DNull {
				return nil, nil, nil // = NULL matches nothing
			}
			col := desc.Columns[cols[i]]
			if d, err = castDatum(r.eval, d, col.Type()); err != nil {
				// A value the column cannot hold matches no row; the
				// filter would say the same.
				return nil, nil, nil //nolint:nilerr
			}
			if key, err = rowenc.EncodeDatum(key, d); err != nil {
				return nil, nil, err
			}
		}
		return key, catalog.PrefixEnd(key), nil
	}, len(fixed)
}

// chooseIndex points a scan with a filter at the access path that reads
// the fewest rows it can tell: a primary-key prefix if the filter fixes
// one, else the secondary index whose leading columns it fixes most.
func chooseIndex(n *scanNode) {
	n.span, n.index = nil, nil
	if n.filter == nil {
		return
	}
	if f, k := keySpan(n.desc, n.desc.IndexPrefix(), n.desc.PrimaryKey, n.filter); k > 0 {
		n.span = f
		if k == len(n.desc.PrimaryKey) {
			return // a point read: nothing beats it
		}
	}
	best := 0
	if n.span != nil {
		best = 1 // a primary-key prefix wins ties
	}
	for i := range n.desc.Indexes {
		idx := &n.desc.Indexes[i]
		if f, k := keySpan(n.desc, n.desc.IndexPrefixOf(idx.ID), idx.Columns, n.filter); k > best {
			n.span, n.index, best = f, idx, k
		}
	}
}

func hasVars(e tree.Expr) bool {
	found := false
	tree.WalkExprConst(varFinder{&found}, e)
	return found
}

type varFinder struct{ found *bool }

func (v varFinder) VisitPre(e tree.Expr) (bool, tree.Expr) {
	if _, ok := e.(*tree.IndexedVar); ok {
		*v.found = true
		return false, e
	}
	return !*v.found, e
}
func (v varFinder) VisitPost(e tree.Expr) tree.Expr { return e }

// buildSelect plans a SELECT (or VALUES) statement.
func (b *builder) buildSelect(sel *tree.Select) (planNode, error) {
	if sel.With != nil {
		prev := b.ctes
		defer func() { b.ctes = prev }()
		seen := map[string]bool{}
		for _, cte := range sel.With.CTEList {
			name := string(cte.Name.Alias)
			if seen[name] {
				return nil, pgerror.Newf("42712", "WITH query name %q specified more than once", name)
			}
			seen[name] = true
			q, ok := cte.Stmt.(*tree.Select)
			if !ok {
				return nil, unsupported("data-modifying statements in WITH are not supported yet")
			}
			visible := append([]cteEntry(nil), b.ctes...)
			e := cteEntry{name: name, cols: cte.Name.Cols, sel: q, visible: visible}
			if sel.With.Recursive {
				if u, ok := q.Select.(*tree.UnionClause); ok && u.Type == tree.UnionOp && selectNames(u.Right.Select, name) {
					e.recursive = true
				}
			}
			b.ctes = append(b.ctes, e)
		}
		inner := *sel
		inner.With = nil
		return b.buildSelect(&inner)
	}
	if len(sel.Locking) > 0 {
		// FOR UPDATE and friends: the rows are read with locking reads,
		// the latest committed values (PostgreSQL's row locks are not
		// taken yet: a concurrent writer is caught at commit instead).
		prev := b.locking
		b.locking = true
		defer func() { b.locking = prev }()
	}
	switch s := sel.Select.(type) {
	case *tree.SelectClause:
		return b.buildSelectClause(s, sel.OrderBy, sel.Limit)
	case *tree.ParenSelect:
		inner, err := b.buildSelect(s.Select)
		if err != nil {
			return nil, err
		}
		return b.orderAndLimit(inner, nil, sel.OrderBy, sel.Limit)
	case *tree.ValuesClause:
		v, err := b.buildValues(s, nil)
		if err != nil {
			return nil, err
		}
		return b.orderAndLimit(v, nil, sel.OrderBy, sel.Limit)
	case *tree.UnionClause:
		u, err := b.buildSetOp(s)
		if err != nil {
			return nil, err
		}
		return b.orderAndLimit(u, nil, sel.OrderBy, sel.Limit)
	}
	return nil, unsupported("%T is not supported yet", sel.Select)
}

// buildValues plans a VALUES list; desired gives the column types
// expected (an INSERT's target columns), or nil.
func (b *builder) buildValues(v *tree.ValuesClause, desired []*types.T) (*valuesNode, error) {
	n := &valuesNode{}
	for ri, row := range v.Rows {
		if ri > 0 && len(row) != len(n.rows[0]) {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "VALUES lists must all be the same length")
		}
		var exprs []tree.TypedExpr
		for i, e := range row {
			want := types.AnyElement
			if i < len(desired) {
				want = desired[i]
			}
			te, err := b.typeCheck(e, &scope{}, want)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, te)
			if ri == 0 {
				n.cols = append(n.cols, resultColumn{name: fmt.Sprintf("column%d", i+1), typ: te.ResolvedType()})
			} else if n.cols[i].typ.Family() == types.UnknownFamily {
				n.cols[i].typ = te.ResolvedType()
			}
		}
		n.rows = append(n.rows, exprs)
	}
	return n, nil
}

// aggBuilder collects the aggregates of a grouped SELECT.
type aggBuilder struct {
	src      *scope
	groupIdx map[int]int // source column → group output position
	nGroup   int
	aggs     []aggSpec
	aggCols  []resultColumn
	byText   map[string]int
	// order holds the ORDER BY items rewritten above the aggregation, or
	// the error rewriting them gave.
	order    []tree.Expr
	orderErr []error
}

// rewrite replaces the aggregates in expr with references to the group
// node's output and the grouped columns with theirs.
func (b *builder) rewriteGrouped(expr tree.Expr, g *aggBuilder) (tree.Expr, error) {
	return tree.SimpleVisit(expr, func(e tree.Expr) (bool, tree.Expr, error) {
		switch n := e.(type) {
		case *tree.FuncExpr:
			if !isAggregate(n) && !isCountStar(n) {
				return true, e, nil
			}
			f := rewriteCountStar(n)
			if f.Filter != nil || f.WindowDef != nil || len(f.OrderBy) > 0 {
				return false, nil, unsupported("FILTER, OVER and ORDER BY in aggregates are not supported yet")
			}
			text := tree.AsString(f)
			if i, ok := g.byText[text]; ok {
				return false, tree.NewTypedOrdinalReference(g.nGroup+i, g.aggs[i].typ), nil
			}
			call := &tree.FuncExpr{Func: f.Func, Exprs: make(tree.Exprs, len(f.Exprs))}
			for i, a := range f.Exprs {
				// Aggregates of aggregates are refused here.
				ra, err := b.resolveNames(a, g.src)
				if err != nil {
					return false, nil, err
				}
				call.Exprs[i] = ra
			}
			te, err := b.typeCheckResolved(call, g.src.cols, types.AnyElement)
			if err != nil {
				return false, nil, err
			}
			fe := te.(*tree.FuncExpr)
			spec := aggSpec{kind: fe.ResolvedOverload().Fn.(aggKind), typ: fe.ResolvedType(), distinct: f.Type == tree.DistinctFuncType}
			if len(fe.Exprs) > 0 {
				spec.arg = fe.Exprs[0].(tree.TypedExpr)
				if len(fe.Exprs) > 1 {
					spec.arg2 = fe.Exprs[1].(tree.TypedExpr)
				}
				// PostgreSQL sums int2 and int4 into an int8.
				if at := spec.arg.ResolvedType(); spec.kind == "sum" && at.Family() == types.IntFamily && at.Width() < 64 {
					spec.typ = types.Int
				}
			}
			g.byText[text] = len(g.aggs)
			g.aggs = append(g.aggs, spec)
			name := strings.ToLower(fe.Func.String())
			if spec.kind == "count_rows" {
				name = "count"
			}
			g.aggCols = append(g.aggCols, resultColumn{name: name, typ: spec.typ})
			return false, tree.NewTypedOrdinalReference(g.nGroup+len(g.aggs)-1, spec.typ), nil
		case *tree.UnresolvedName:
			i, err := g.src.resolve(n)
			if err != nil {
				return false, nil, err
			}
			gi, ok := g.groupIdx[i]
			if !ok {
				return false, nil, pgerror.Newf("42803",
					"column %q must appear in the GROUP BY clause or be used in an aggregate function", g.src.cols[i].name)
			}
			return false, tree.NewTypedOrdinalReference(gi, g.src.cols[i].typ), nil
		case *tree.Subquery:
			if err := b.planSubquery(n, nil); err != nil {
				return false, nil, err
			}
			return false, n, nil
		}
		return true, e, nil
	})
}

func isCountStar(f *tree.FuncExpr) bool { return rewriteCountStar(f) != f }

// selectExprsOf lists a SELECT's select-list expressions.
func selectExprsOf(s *tree.SelectClause) []tree.Expr {
	out := make([]tree.Expr, len(s.Exprs))
	for i, se := range s.Exprs {
		out[i] = se.Expr
	}
	return out
}

func hasAggregate(exprs ...tree.Expr) bool {
	found := false
	for _, e := range exprs {
		if e == nil {
			continue
		}
		_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
			if _, ok := x.(*tree.Subquery); ok {
				return false, x, nil // its aggregates are its own
			}
			if f, ok := x.(*tree.FuncExpr); ok && f.WindowDef != nil {
				return false, x, nil // a window function, not a grouping aggregate
			}
			if f, ok := x.(*tree.FuncExpr); ok && (isAggregate(f) || isCountStar(f)) {
				found = true
				return false, x, nil
			}
			return !found, x, nil
		})
	}
	return found
}

func (b *builder) buildSelectClause(s *tree.SelectClause, orderBy tree.OrderBy, limit *tree.Limit) (planNode, error) {
	var src planNode
	sc := &scope{}
	switch len(s.From.Tables) {
	case 0:
		if s.Where != nil {
			src = &valuesNode{rows: [][]tree.TypedExpr{{}}}
			filter, err := b.typeCheckBool(s.Where.Expr, sc, "WHERE")
			if err != nil {
				return nil, err
			}
			src = &filterNode{src: src, filter: filter}
		} else {
			src = &valuesNode{rows: [][]tree.TypedExpr{{}}}
		}
	default:
		var err error
		if src, sc, err = b.buildFrom(s.From.Tables, s.Where); err != nil {
			return nil, err
		}
	}
	if s.From.AsOf.Expr != nil {
		return nil, unsupported("AS OF SYSTEM TIME is not supported yet")
	}
	var orderExprsW []tree.Expr
	for _, o := range orderBy {
		orderExprsW = append(orderExprsW, o.Expr)
	}
	if hasWindow(append(selectExprsOf(s), orderExprsW...)...) {
		if len(s.GroupBy) > 0 || s.Having != nil || hasAggregate(selectExprsOf(s)...) {
			return nil, unsupported("window functions in a grouped query are not supported yet")
		}
		wsrc, wsc, exprs, ob, err := b.planWindows(src, sc, s.Exprs, orderBy)
		if err != nil {
			return nil, err
		}
		c := *s
		c.Exprs = exprs
		s, src, sc, orderBy = &c, wsrc, wsc, ob
	}

	// Aggregation: the expressions above it see the grouped columns and
	// the aggregates' results.
	var selectExprs []tree.Expr
	for _, se := range s.Exprs {
		selectExprs = append(selectExprs, se.Expr)
	}
	var having tree.Expr
	if s.Having != nil {
		having = s.Having.Expr
	}
	var orderExprs []tree.Expr
	for _, o := range orderBy {
		orderExprs = append(orderExprs, o.Expr)
	}
	grouped := len(s.GroupBy) > 0 || hasAggregate(append(append(selectExprs, having), orderExprs...)...)
	renderScope := sc
	var g *aggBuilder
	if grouped {
		g = &aggBuilder{src: sc, groupIdx: map[int]int{}, byText: map[string]int{}}
		var groupExprs []tree.TypedExpr
		var groupCols []resultColumn
		for _, ge := range s.GroupBy {
			if n, ok := ge.(*tree.NumVal); ok {
				i, err := n.AsInt64()
				if err != nil || i < 1 || int(i) > len(s.Exprs) {
					return nil, pgerror.Newf("42P10", "GROUP BY position %s is not in select list", n)
				}
				ge = s.Exprs[i-1].Expr
			}
			te, err := b.typeCheck(ge, sc, types.AnyElement)
			if err != nil {
				return nil, err
			}
			v, ok := te.(*tree.IndexedVar)
			if !ok {
				return nil, unsupported("GROUP BY supports only columns yet")
			}
			if _, dup := g.groupIdx[v.Idx]; dup {
				continue
			}
			g.groupIdx[v.Idx] = len(groupExprs)
			groupExprs = append(groupExprs, te)
			groupCols = append(groupCols, sc.cols[v.Idx])
		}
		g.nGroup = len(groupExprs)
		// Rewrite everything above the aggregation first: that collects
		// the aggregates.
		var err error
		for i := range selectExprs {
			if star(selectExprs[i]) {
				return nil, pgerror.New("42803", "SELECT * is not allowed with GROUP BY or aggregates")
			}
			if selectExprs[i], err = b.rewriteGrouped(selectExprs[i], g); err != nil {
				return nil, err
			}
		}
		if having != nil {
			if having, err = b.rewriteGrouped(having, g); err != nil {
				return nil, err
			}
		}
		// ORDER BY may name aggregates too: collect them now (an item
		// that is an output column's name fails here and is resolved
		// later by name).
		g.order = make([]tree.Expr, len(orderBy))
		g.orderErr = make([]error, len(orderBy))
		for i, o := range orderBy {
			g.order[i], g.orderErr[i] = b.rewriteGrouped(o.Expr, g)
		}
		gn := &groupNode{src: src, groupBy: groupExprs, aggs: g.aggs, cols: append(groupCols, g.aggCols...)}
		src = gn
		renderScope = &scope{cols: gn.cols}
		if having != nil {
			te, err := b.typeCheckResolved(having, gn.cols, types.Bool)
			if err != nil {
				return nil, err
			}
			src = &filterNode{src: src, filter: te}
		}
	} else if having != nil {
		return nil, pgerror.New("42803", "HAVING needs GROUP BY or an aggregate")
	}

	// The select list.
	rn := &renderNode{src: src}
	for i, se := range s.Exprs {
		if !grouped && star(se.Expr) {
			for j, c := range renderScope.cols {
				if c.hidden {
					continue
				}
				rn.exprs = append(rn.exprs, tree.NewTypedOrdinalReference(j, c.typ))
				rn.cols = append(rn.cols, c)
			}
			continue
		}
		var te tree.TypedExpr
		var err error
		if grouped {
			te, err = b.typeCheckResolved(selectExprs[i], renderScope.cols, types.AnyElement)
		} else {
			te, err = b.typeCheck(se.Expr, renderScope, types.AnyElement)
		}
		if err != nil {
			return nil, err
		}
		col := resultColumn{name: columnName(se, renderScope, te), typ: te.ResolvedType()}
		if v, ok := te.(*tree.IndexedVar); ok {
			col.tableID, col.attr = renderScope.cols[v.Idx].tableID, renderScope.cols[v.Idx].attr
		}
		rn.exprs = append(rn.exprs, te)
		rn.cols = append(rn.cols, col)
	}
	var plan planNode = rn
	if s.DistinctOn != nil {
		return b.distinctOn(rn, renderScope, g, s.DistinctOn, orderBy, limit)
	}
	if s.Distinct {
		d := &groupNode{src: rn, cols: rn.cols}
		for i, c := range rn.cols {
			d.groupBy = append(d.groupBy, tree.NewTypedOrdinalReference(i, c.typ))
		}
		plan = d
	}
	return b.orderAndLimit(plan, &orderSource{render: rn, scope: renderScope, grouped: g, distinct: s.Distinct}, orderBy, limit)
}

// distinctOn plans SELECT DISTINCT ON (exprs) ... ORDER BY ... LIMIT:
// the rows sorted by ORDER BY, then the first row of each distinct value
// of exprs (output columns by name or position, or expressions over the
// input, computed as hidden columns), then LIMIT.
func (b *builder) distinctOn(rn *renderNode, sc *scope, g *aggBuilder, on tree.DistinctOn, orderBy tree.OrderBy, limit *tree.Limit) (planNode, error) {
	visible := len(rn.cols)
	var keys []int
	for _, e := range on {
		idx := -1
		switch x := e.(type) {
		case *tree.NumVal:
			i, err := x.AsInt64()
			if err != nil || i < 1 || int(i) > visible {
				return nil, pgerror.Newf("42P10", "SELECT DISTINCT ON position %s is not in select list", x)
			}
			idx = int(i - 1)
		case *tree.UnresolvedName:
			if x.NumParts == 1 && !x.Star {
				for i := 0; i < visible; i++ {
					if rn.cols[i].name == x.Parts[0] {
						idx = i
						break
					}
				}
			}
		}
		if idx < 0 {
			if g != nil {
				return nil, unsupported("DISTINCT ON expressions outside the select list of a grouped query are not supported yet")
			}
			te, err := b.typeCheck(e, sc, types.AnyElement)
			if err != nil {
				return nil, err
			}
			rn.exprs = append(rn.exprs, te)
			rn.cols = append(rn.cols, resultColumn{name: "?distinct?", typ: te.ResolvedType(), hidden: true})
			idx = len(rn.cols) - 1
		}
		keys = append(keys, idx)
	}
	plan, err := b.orderAndLimit(rn, &orderSource{render: rn, scope: sc, grouped: g}, orderBy, nil)
	if err != nil {
		return nil, err
	}
	plan = &distinctOnNode{src: plan, keys: keys}
	if len(plan.columns()) > visible {
		trim := &renderNode{src: plan, cols: plan.columns()[:visible]}
		for i, c := range trim.cols {
			trim.exprs = append(trim.exprs, tree.NewTypedOrdinalReference(i, c.typ))
		}
		plan = trim
	}
	return b.orderAndLimit(plan, nil, nil, limit)
}

// distinctOnNode passes the first row of each distinct value of the key
// columns.
type distinctOnNode struct {
	src  planNode
	keys []int
	seen map[string]bool
}

func (n *distinctOnNode) columns() []resultColumn { return n.src.columns() }

func (n *distinctOnNode) explain() (string, []*planNode) {
	var keys []string
	for _, k := range n.keys {
		keys = append(keys, fmt.Sprintf("@%d", k+1))
	}
	return "distinct on " + strings.Join(keys, ", "), []*planNode{&n.src}
}

func (n *distinctOnNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		key := make(tree.Datums, len(n.keys))
		for i, k := range n.keys {
			key[i] = row[k]
		}
		// NULLs are equal here, as for DISTINCT.
		k := tree.AsString(&tree.DTuple{D: key})
		if n.seen == nil {
			n.seen = map[string]bool{}
		}
		if n.seen[k] {
			continue
		}
		n.seen[k] = true
		return row, nil
	}
}

// orderSource lets ORDER BY name expressions of the SELECT's input, which
// are then computed as extra, hidden output columns.
type orderSource struct {
	render   *renderNode
	scope    *scope
	grouped  *aggBuilder
	distinct bool
}

func star(e tree.Expr) bool {
	switch x := e.(type) {
	case tree.UnqualifiedStar:
		return true
	case *tree.UnresolvedName:
		return x.Star
	}
	return false
}

// columnName is the name PostgreSQL gives a select-list column
// (FigureColname in its parser).
func columnName(se tree.SelectExpr, sc *scope, te tree.TypedExpr) string {
	if se.As != "" {
		return string(se.As)
	}
	if n := figureColname(se.Expr); n != "" {
		return n
	}
	return "?column?"
}

func figureColname(e tree.Expr) string {
	switch x := e.(type) {
	case *tree.UnresolvedName:
		if x.Star {
			return ""
		}
		return x.Parts[0]
	case *tree.FuncExpr:
		if isCountStar(x) {
			return "count"
		}
		// Type checking may already have resolved the name in place.
		switch n := x.Func.FunctionReference.(type) {
		case *tree.UnresolvedName:
			return strings.ToLower(n.Parts[0])
		case *tree.ResolvedFunctionDefinition:
			return n.Name
		case *tree.FunctionDefinition:
			return n.Name
		}
	case *tree.CastExpr:
		if n := figureColname(x.Expr); n != "" {
			return n
		}
		if t, err := tree.ResolveType(context.Background(), x.Type, nil); err == nil {
			return t.PGName()
		}
	case *tree.ParenExpr:
		return figureColname(x.Expr)
	case *tree.IndirectionExpr:
		return figureColname(x.Expr)
	case *tree.Array, *tree.ArrayFlatten:
		return "array"
	case *tree.Subquery:
		if x.Exists {
			return "exists"
		}
		sel := x.Select
		for {
			p, ok := sel.(*tree.ParenSelect)
			if !ok {
				break
			}
			sel = p.Select.Select
		}
		if sc, ok := sel.(*tree.SelectClause); ok && len(sc.Exprs) == 1 {
			if sc.Exprs[0].As != "" {
				return string(sc.Exprs[0].As)
			}
			return figureColname(sc.Exprs[0].Expr)
		}
	case *tree.CaseExpr:
		return "case"
	case *tree.CoalesceExpr:
		return strings.ToLower(x.Name)
	case *tree.NullIfExpr:
		return "nullif"
	}
	return ""
}

// orderAndLimit adds ORDER BY and LIMIT/OFFSET above plan.
func (b *builder) orderAndLimit(plan planNode, os *orderSource, orderBy tree.OrderBy, limit *tree.Limit) (planNode, error) {
	if len(orderBy) > 0 {
		cols := plan.columns()
		visible := len(cols)
		var order []orderCol
		for oi, o := range orderBy {
			if o.OrderType != tree.OrderByColumn {
				return nil, unsupported("ORDER BY INDEX is not supported")
			}
			idx := -1
			switch x := o.Expr.(type) {
			case *tree.NumVal:
				i, err := x.AsInt64()
				if err != nil || i < 1 || int(i) > visible {
					return nil, pgerror.Newf("42P10", "ORDER BY position %s is not in select list", x)
				}
				idx = int(i - 1)
			case *tree.UnresolvedName:
				if x.NumParts == 1 && !x.Star {
					for i := 0; i < visible; i++ {
						if cols[i].name == x.Parts[0] {
							idx = i
							break
						}
					}
				}
			}
			if idx < 0 {
				if os == nil || os.distinct {
					return nil, unsupported("ORDER BY expressions not in the select list are not supported here")
				}
				var te tree.TypedExpr
				var err error
				if os.grouped != nil {
					if err = os.grouped.orderErr[oi]; err == nil {
						te, err = b.typeCheckResolved(os.grouped.order[oi], os.scope.cols, types.AnyElement)
					}
				} else {
					te, err = b.typeCheck(o.Expr, os.scope, types.AnyElement)
				}
				if err != nil {
					return nil, err
				}
				os.render.exprs = append(os.render.exprs, te)
				os.render.cols = append(os.render.cols, resultColumn{name: "?order?", typ: te.ResolvedType(), hidden: true})
				idx = len(os.render.cols) - 1
			}
			order = append(order, orderCol{idx: idx, desc: o.Direction == tree.Descending})
			if o.NullsOrder != tree.DefaultNullsOrder {
				return nil, unsupported("NULLS FIRST/LAST is not supported yet")
			}
		}
		plan = &sortNode{src: plan, order: order}
		if len(plan.columns()) > visible {
			// Drop the hidden sort columns.
			trim := &renderNode{src: plan, cols: plan.columns()[:visible]}
			for i, c := range trim.cols {
				trim.exprs = append(trim.exprs, tree.NewTypedOrdinalReference(i, c.typ))
			}
			plan = trim
		}
	}
	if limit != nil && (limit.Count != nil || limit.Offset != nil) {
		if limit.LimitAll {
			limit.Count = nil
		}
		ln := &limitNode{src: plan}
		var err error
		if limit.Count != nil {
			if ln.count, err = b.typeCheck(limit.Count, &scope{}, types.Int); err != nil {
				return nil, err
			}
		}
		if limit.Offset != nil {
			if ln.offset, err = b.typeCheck(limit.Offset, &scope{}, types.Int); err != nil {
				return nil, err
			}
		}
		plan = ln
	}
	return plan, nil
}

// returning plans a RETURNING clause over a write node's full rows; it
// reports false when there is none.
func (b *builder) returning(rc tree.ReturningClause, desc *catalog.TableDescriptor, sc *scope) (*renderNode, bool, error) {
	exprs, ok := rc.(*tree.ReturningExprs)
	if !ok {
		return nil, false, nil
	}
	rn := &renderNode{}
	for _, se := range *exprs {
		if star(se.Expr) {
			for j, c := range sc.cols {
				if !c.hidden {
					rn.exprs = append(rn.exprs, tree.NewTypedOrdinalReference(j, c.typ))
					rn.cols = append(rn.cols, c)
				}
			}
			continue
		}
		te, err := b.typeCheck(se.Expr, sc, types.AnyElement)
		if err != nil {
			return nil, false, err
		}
		rn.exprs = append(rn.exprs, te)
		rn.cols = append(rn.cols, resultColumn{name: columnName(se, sc, te), typ: te.ResolvedType()})
	}
	return rn, true, nil
}

// buildOnConflict plans ON CONFLICT [(cols) | ON CONSTRAINT name] DO
// NOTHING | DO UPDATE SET ... [WHERE ...]: SET and WHERE see the existing
// row under the table's name and the proposed one as EXCLUDED.
func (b *builder) buildOnConflict(oc *tree.OnConflict, desc *catalog.TableDescriptor, sc *scope) (*onConflict, error) {
	if oc.IsUpsertAlias() {
		return nil, unsupported("UPSERT is not supported yet; use INSERT ... ON CONFLICT ... DO UPDATE")
	}
	if oc.ArbiterPredicate != nil {
		return nil, unsupported("ON CONFLICT ... WHERE is not supported yet")
	}
	out := &onConflict{doNothing: oc.DoNothing}
	switch {
	case len(oc.Columns) > 0:
		var cols []int
		for _, c := range oc.Columns {
			i := desc.ColumnIndex(string(c))
			if i < 0 {
				return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", c)
			}
			cols = append(cols, i)
		}
		arb, ok := uniqueOn(desc, cols)
		if !ok {
			return nil, pgerror.New("42P10", "there is no unique or exclusion constraint matching the ON CONFLICT specification")
		}
		out.arbiter = arb
	case oc.Constraint != "":
		name := string(oc.Constraint)
		if name == desc.Name+"_pkey" {
			out.arbiter = &arbiter{}
		} else if i := desc.FindIndex(name); i >= 0 && desc.Indexes[i].Unique {
			out.arbiter = &arbiter{index: &desc.Indexes[i]}
		} else {
			return nil, pgerror.Newf("42704", "constraint %q for table %q does not exist", name, desc.Name)
		}
	case !oc.DoNothing:
		return nil, pgerror.WithHint(pgerror.New("42601", "ON CONFLICT DO UPDATE requires inference specification or constraint name"),
			"For example, ON CONFLICT (column_name).")
	}
	if oc.DoNothing {
		return out, nil
	}
	// Existing row, then EXCLUDED.
	both := &scope{cols: append([]resultColumn{}, sc.cols...)}
	for _, c := range sc.cols {
		c.table = "excluded"
		both.cols = append(both.cols, c)
	}
	seen := map[int]bool{}
	for _, ue := range oc.Exprs {
		if ue.Tuple || len(ue.Names) != 1 {
			return nil, unsupported("UPDATE of a tuple of columns is not supported yet")
		}
		i := desc.ColumnIndex(string(ue.Names[0]))
		if i < 0 || desc.Columns[i].Hidden {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", ue.Names[0], desc.Name)
		}
		if seen[i] {
			return nil, pgerror.Newf("42601", "multiple assignments to same column %q", ue.Names[0])
		}
		seen[i] = true
		te, err := b.typeCheck(ue.Expr, both, desc.Columns[i].Type())
		if err != nil {
			return nil, err
		}
		out.setCols = append(out.setCols, i)
		out.setExprs = append(out.setExprs, te)
	}
	if oc.Where != nil {
		te, err := b.typeCheckBool(oc.Where.Expr, both, "WHERE")
		if err != nil {
			return nil, err
		}
		out.where = te
	}
	return out, nil
}

// uniqueOn returns the unique constraint on exactly the columns cols, in
// any order.
func uniqueOn(d *catalog.TableDescriptor, cols []int) (*arbiter, bool) {
	same := func(a []int) bool {
		if len(a) != len(cols) {
			return false
		}
		set := map[int]bool{}
		for _, c := range a {
			set[c] = true
		}
		for _, c := range cols {
			if !set[c] {
				return false
			}
		}
		return true
	}
	if same(d.PrimaryKey) {
		return &arbiter{}, true
	}
	for i := range d.Indexes {
		if d.Indexes[i].Unique && same(d.Indexes[i].Columns) {
			return &arbiter{index: &d.Indexes[i]}, true
		}
	}
	return nil, false
}

// withReturning puts a RETURNING clause's projection above write node n,
// which then returns the rows it writes; without one, n alone.
func (b *builder) withReturning(n planNode, wr *writeReturn, rc tree.ReturningClause, desc *catalog.TableDescriptor, sc *scope) (planNode, error) {
	rn, ok, err := b.returning(rc, desc, sc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return n, nil
	}
	wr.returning, wr.returnCols = true, sc.cols
	rn.src = n
	return rn, nil
}

// fullRowNode turns its source's rows (values for some columns of a
// table) into full rows: defaults for the others, every value cast to its
// column's type.
type fullRowNode struct {
	desc     *catalog.TableDescriptor
	src      planNode
	srcIdx   []int // per table column: its position in the source, or -1
	defaults []tree.TypedExpr
}

func (n *fullRowNode) columns() []resultColumn { return resultColumns(n.desc) }

func (n *fullRowNode) explain() (string, []*planNode) {
	return "fill defaults and casts for " + n.desc.Name, []*planNode{&n.src}
}

func (n *fullRowNode) next(r *runner) (tree.Datums, error) {
	in, err := n.src.next(r)
	if err != nil || in == nil {
		return nil, err
	}
	row := make(tree.Datums, len(n.desc.Columns))
	for i := range row {
		var d tree.Datum = tree.DNull
		if j := n.srcIdx[i]; j >= 0 && in[j] != nil {
			d = in[j]
		} else if n.defaults[i] != nil {
			if d, err = r.evalIn(n.defaults[i], nil); err != nil {
				return nil, err
			}
		}
		if row[i], err = castDatum(r.eval, d, n.desc.Columns[i].Type()); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// defaultExprs type-checks the default expressions of desc's columns.
func (b *builder) defaultExprs(desc *catalog.TableDescriptor) ([]tree.TypedExpr, error) {
	out := make([]tree.TypedExpr, len(desc.Columns))
	for i, c := range desc.Columns {
		if c.Default == "" {
			continue
		}
		e, err := sem.ParseExpr(c.Default)
		if err != nil {
			return nil, err
		}
		if out[i], err = b.typeCheck(e, &scope{}, c.Type()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writableTable is table for the target of a write: a view is refused.
func (b *builder) writableTable(te tree.TableExpr, verb string) (*catalog.TableDescriptor, *scope, error) {
	desc, sc, err := b.table(te)
	if err == nil && desc.ViewQuery != "" {
		err = pgerror.Newf("55000", "cannot %s view %q", verb, desc.Name)
	}
	if err == nil && desc.Sequence != nil {
		err = pgerror.Newf("42809", "cannot change sequence %q", desc.Name)
	}
	return desc, sc, err
}

func (b *builder) buildInsert(ins *tree.Insert) (planNode, error) {
	if ins.With != nil {
		return nil, unsupported("WITH is not supported yet")
	}
	desc, sc, err := b.writableTable(ins.Table, "insert into")
	if err != nil {
		return nil, err
	}
	n := &insertNode{desc: desc}
	if oc := ins.OnConflict; oc != nil {
		if n.onConflict, err = b.buildOnConflict(oc, desc, sc); err != nil {
			return nil, err
		}
	}
	// Target columns: the named ones, else every visible column in order.
	var targets []int
	if len(ins.Columns) > 0 {
		seen := map[int]bool{}
		for _, name := range ins.Columns {
			i := desc.ColumnIndex(string(name))
			if i < 0 {
				return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", name, desc.Name)
			}
			if seen[i] {
				return nil, pgerror.Newf("42701", "column %q specified more than once", name)
			}
			seen[i] = true
			targets = append(targets, i)
		}
	} else {
		for i, c := range desc.Columns {
			if !c.Hidden {
				targets = append(targets, i)
			}
		}
	}
	defaults, err := b.defaultExprs(desc)
	if err != nil {
		return nil, err
	}
	if err := checkIdentityAlways(desc, targets, ins); err != nil {
		return nil, err
	}
	var src planNode
	if ins.DefaultValues() {
		src = &valuesNode{rows: [][]tree.TypedExpr{{}}}
		targets = nil
	} else if v, ok := ins.Rows.Select.(*tree.ValuesClause); ok && ins.Rows.OrderBy == nil && ins.Rows.Limit == nil {
		want := make([]*types.T, len(targets))
		for i, t := range targets {
			want[i] = desc.Columns[t].Type()
		}
		// DEFAULT in a VALUES row: the column's default.
		for _, row := range v.Rows {
			for i, e := range row {
				if _, ok := e.(tree.DefaultVal); ok && i < len(targets) {
					if defaults[targets[i]] != nil {
						row[i] = defaults[targets[i]]
					} else {
						row[i] = tree.DNull
					}
				}
			}
		}
		vn, err := b.buildValues(v, want)
		if err != nil {
			return nil, err
		}
		src = vn
	} else {
		if src, err = b.buildSelect(ins.Rows); err != nil {
			return nil, err
		}
	}
	if got := len(src.columns()); len(ins.Columns) == 0 && targets != nil && got < len(targets) {
		// INSERT INTO t VALUES (...) with fewer values than columns:
		// the leading columns, the rest take their defaults.
		targets = targets[:got]
	}
	if got := len(src.columns()); targets != nil && got != len(targets) {
		if got > len(targets) {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "INSERT has more expressions than target columns")
		}
		return nil, pgerror.New(pgerror.CodeSyntaxError, "INSERT has more target columns than expressions")
	}
	fr := &fullRowNode{desc: desc, src: src, srcIdx: make([]int, len(desc.Columns)), defaults: defaults}
	for i := range fr.srcIdx {
		fr.srcIdx[i] = -1
	}
	for j, t := range targets {
		fr.srcIdx[t] = j
	}
	n.src = fr
	return b.withReturning(n, &n.writeReturn, ins.Returning, desc, sc)
}

// checkIdentityAlways refuses a value for a GENERATED ALWAYS identity
// column other than DEFAULT, as PostgreSQL does (there is no OVERRIDING
// SYSTEM VALUE yet).
func checkIdentityAlways(desc *catalog.TableDescriptor, targets []int, ins *tree.Insert) error {
	if ins.DefaultValues() {
		return nil
	}
	for j, t := range targets {
		c := &desc.Columns[t]
		if c.Identity != "a" {
			continue
		}
		given := true
		if v, ok := ins.Rows.Select.(*tree.ValuesClause); ok {
			given = false
			for _, row := range v.Rows {
				if j < len(row) {
					if _, isDefault := row[j].(tree.DefaultVal); !isDefault {
						given = true
					}
				}
			}
		}
		if given {
			return pgerror.WithHint(pgerror.WithDetail(
				pgerror.Newf("428C9", "cannot insert a non-DEFAULT value into column %q", c.Name),
				fmt.Sprintf("Column %q is an identity column defined as GENERATED ALWAYS.", c.Name)),
				"Use OVERRIDING SYSTEM VALUE to override.")
		}
	}
	return nil
}

func (b *builder) buildUpdate(upd *tree.Update) (planNode, error) {
	if upd.With != nil || upd.OrderBy != nil || upd.Limit != nil {
		return nil, unsupported("UPDATE with WITH, ORDER BY or LIMIT is not supported yet")
	}
	desc, targetScope, err := b.writableTable(upd.Table, "update")
	if err != nil {
		return nil, err
	}
	n := &updateNode{desc: desc}
	// sc is what SET and WHERE see: the target's columns, then those of
	// FROM's tables (the rows joined to each target row).
	sc := targetScope
	if len(upd.From) > 0 {
		if n.src, sc, err = b.buildFrom(append(tree.TableExprs{upd.Table}, upd.From...), upd.Where); err != nil {
			return nil, err
		}
		n.joined = true
	} else {
		scan, err := b.scan(desc, sc, upd.Where)
		if err != nil {
			return nil, err
		}
		scan.locking = true
		n.src = scan
	}
	seen := map[int]bool{}
	for _, ue := range upd.Exprs {
		if ue.Tuple || len(ue.Names) != 1 {
			return nil, unsupported("UPDATE of a tuple of columns is not supported yet")
		}
		i := desc.ColumnIndex(string(ue.Names[0]))
		if i < 0 || desc.Columns[i].Hidden {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", ue.Names[0], desc.Name)
		}
		if seen[i] {
			return nil, pgerror.Newf("42601", "multiple assignments to same column %q", ue.Names[0])
		}
		seen[i] = true
		var te tree.TypedExpr
		if _, ok := ue.Expr.(tree.DefaultVal); ok {
			defaults, err := b.defaultExprs(desc)
			if err != nil {
				return nil, err
			}
			te = defaults[i]
			if te == nil {
				te = tree.DNull
			}
		} else if desc.Columns[i].Identity == "a" {
			return nil, pgerror.WithDetail(pgerror.Newf("428C9", "column %q can only be updated to DEFAULT", desc.Columns[i].Name),
				fmt.Sprintf("Column %q is an identity column defined as GENERATED ALWAYS.", desc.Columns[i].Name))
		} else if te, err = b.typeCheck(ue.Expr, sc, desc.Columns[i].Type()); err != nil {
			return nil, err
		}
		n.setCols = append(n.setCols, i)
		n.setExprs = append(n.setExprs, te)
	}
	return b.withReturning(n, &n.writeReturn, upd.Returning, desc, targetScope)
}

func (b *builder) buildDelete(del *tree.Delete) (planNode, error) {
	if del.With != nil || del.OrderBy != nil || del.Limit != nil {
		return nil, unsupported("DELETE with WITH, ORDER BY or LIMIT is not supported yet")
	}
	desc, sc, err := b.writableTable(del.Table, "delete from")
	if err != nil {
		return nil, err
	}
	n := &deleteNode{desc: desc}
	if len(del.Using) > 0 {
		// The target's rows joined to USING's: each target row that
		// joins at least once is deleted.
		if n.src, _, err = b.buildFrom(append(tree.TableExprs{del.Table}, del.Using...), del.Where); err != nil {
			return nil, err
		}
		n.joined = true
	} else {
		scan, err := b.scan(desc, sc, del.Where)
		if err != nil {
			return nil, err
		}
		scan.locking = true
		n.src = scan
	}
	return b.withReturning(n, &n.writeReturn, del.Returning, desc, sc)
}
