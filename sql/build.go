package sql

import (
	"context"
	"sort"
	"strings"

	crdbpgerror "github.com/cockroachdb/cockroachdb-parser/pkg/sql/pgwire/pgerror"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
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
	ctx context.Context
	txn kvapi.Txn
	// names resolves the relations the statement names.
	names *names
	sema  tree.SemaContext
	// subqueries holds the statement's planned subqueries (shared by the
	// builders of nested subqueries).
	subqueries map[*tree.Subquery]*subquery
	// outer is the scope of the query a subquery is nested in: its
	// columns can be named inside (a correlated subquery); nil at the top.
	// In a subquery of a subquery it is the enclosing query's scope
	// followed by that query's own outer scope, so that every level
	// above can be named (at run time the outer row is built the same
	// way: runSubquery).
	outer *scope
	// usedOuter records that a name resolved in outer; outerCols which
	// of outer's columns (subquery_memo.go).
	usedOuter bool
	outerCols map[int]bool
	// parent is the builder of the query whose own outer columns follow
	// the first parentWidth columns of outer (nil if none): naming one of
	// them makes that query correlated too.
	parent      *builder
	parentWidth int
	// locking makes the table reads of the SELECT being built locking
	// reads (FOR UPDATE / FOR SHARE; see kvapi.Txn.ScanForUpdate).
	locking bool
	// lockNoWait: the locking reads fail at once on a row another
	// transaction holds (FOR UPDATE NOWAIT).
	lockNoWait bool
	// ctes are the common table expressions (WITH) in scope, innermost
	// last; FROM names resolve to them before tables.
	ctes []cteEntry
	// topWith is the WITH clause of the statement buildPlan plans, the
	// only one that may hold data-modifying statements.
	topWith *tree.With
	// stats give the join order search its estimates (nil: none, the
	// joins run in the order written).
	stats *statsCache
	// record, when set, notes what a plan kept for later executions
	// depends on (plan_cache.go).
	record *planRecord
	// deps, when set, collects the relations and columns the query reads
	// (CREATE VIEW records them); shared with subqueries' builders.
	deps *viewDeps
	// priv collects the privileges the query needs (nil: none are
	// checked); privAs is the role its relations are read as, a view's
	// owner inside the view (0: the statement's role). See
	// privilege_check.go.
	priv   *privChecker
	privAs uint32
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
	// dml: a data-modifying statement, its rows those of its RETURNING.
	dml *dmlCTE
}

func newBuilder(ctx context.Context, txn kvapi.Txn, nm *names, numPlaceholders int, hints []*types.T) *builder {
	b := &builder{ctx: ctx, txn: txn, names: nm, subqueries: map[*tree.Subquery]*subquery{}}
	b.sema = tree.MakeSemaContext(typeResolver{b})
	b.sema.Placeholders.Init(numPlaceholders, hints)
	return b
}

// scope is the set of columns an expression may name: a table's, or the
// concatenated columns of joined tables, each with its table's name.
type scope struct {
	cols []resultColumn
}

// ivarTypes gives the type checker the types of column references: the
// scope's own columns and, at OuterBase and above, the enclosing query's.
type ivarTypes struct {
	cols, outer []resultColumn
}

func (s ivarTypes) IndexedVarResolvedType(i int) *types.T {
	if i >= sem.OuterBase {
		return s.outer[i-sem.OuterBase].typ
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
		if c.name == col && !c.merged {
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
	ovs := sem.Overloads(strings.ToLower(name.Parts[0]))
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
	// The clauses stay: a FILTER or OVER is the caller's to handle or
	// refuse, never to drop.
	return &tree.FuncExpr{Func: tree.WrapFunction("count_rows"), Filter: f.Filter, WindowDef: f.WindowDef, OrderBy: f.OrderBy, AggType: f.AggType}
}

// resolveNames replaces column names with typed references into sc.
func (b *builder) resolveNames(expr tree.Expr, sc *scope) (tree.Expr, error) {
	return tree.SimpleVisit(expr, func(e tree.Expr) (bool, tree.Expr, error) {
		switch n := e.(type) {
		case *tree.CastExpr:
			// 'name'::regclass (regtype, regproc, ...) looks the name up
			// when it runs: the type checker would parse the literal as a
			// number. So does 23::regtype, which the checker would make a
			// bare number that prints as one.
			_, str := n.Expr.(*tree.StrVal)
			_, num := n.Expr.(*tree.NumVal)
			if str || num {
				if t, err := tree.ResolveType(b.ctx, n.Type, typeResolver{b}); err == nil && sem.IsRegType(t) {
					if num {
						return true, &tree.CastExpr{Expr: &tree.CastExpr{Expr: n.Expr, Type: types.Oid, SyntaxMode: tree.CastShort}, Type: n.Type, SyntaxMode: n.SyntaxMode}, nil
					}
					return true, &tree.CastExpr{Expr: &tree.CastExpr{Expr: n.Expr, Type: types.String, SyntaxMode: tree.CastShort}, Type: n.Type, SyntaxMode: n.SyntaxMode}, nil
				}
			}
			// A number cast to int8 stays an int8 (2147483647::int8 + 1
			// is 2147483648): the type checker would fold the cast away,
			// leaving a literal that fits in 32 bits and so counts as an
			// int4 (sem.PGIntWidth). As numeric first, the cast is no
			// longer a no-op and stays, typed int8.
			if _, ok := n.Expr.(*tree.NumVal); ok {
				if t, err := tree.ResolveType(b.ctx, n.Type, typeResolver{b}); err == nil && t.Family() == types.IntFamily && t.Width() == 64 {
					return false, &tree.CastExpr{Expr: &tree.CastExpr{Expr: n.Expr, Type: types.Decimal, SyntaxMode: tree.CastShort}, Type: n.Type, SyntaxMode: n.SyntaxMode}, nil
				}
			}
		case *tree.UnresolvedName:
			i, err := sc.resolve(n)
			if err != nil {
				if b.outer != nil && !n.Star {
					if oi, oerr := b.outer.resolve(n); oerr == nil {
						if c := b.outer.cols[oi]; c.noLateral {
							return false, nil, lateralRefError(c.table)
						}
						b.noteOuter(oi)
						b.deps.noteColumn(b.outer.cols[oi])
						return false, tree.NewTypedOrdinalReference(sem.OuterBase+oi, b.outer.cols[oi].typ), nil
					}
				}
				return false, nil, err
			}
			b.deps.noteColumn(sc.cols[i])
			return false, tree.NewTypedOrdinalReference(i, sc.cols[i].typ), nil
		case *tree.IndirectionExpr:
			slice, err := sem.ArraySlice(n)
			return err == nil, slice, err
		case *tree.Subquery:
			if n.Exists && sc != nil {
				if e, ok, err := b.decorrelateExists(n, sc); err != nil || ok {
					return false, e, err
				}
			}
			if err := b.planSubquery(n, sc); err != nil {
				return false, nil, err
			}
			return false, n, nil
		case *tree.FuncExpr:
			if isVariadicMarker(n) {
				// A VARIADIC argument no call took (variadicCall).
				return false, nil, pgerror.Unsupported("VARIADIC is not supported in this call yet")
			}
			if call, ok, err := b.variadicCall(n, sc); err != nil {
				return false, nil, err
			} else if ok {
				n, e = call, call
			}
			if isAggregate(n) {
				return false, nil, pgerror.New("42803", "aggregate functions are not allowed here")
			}
			if c := typeNameCall(n); c != nil {
				return true, c, nil
			}
			if d, ov, args, err := b.userFunction(n, sc); err != nil {
				return false, nil, err
			} else if d != nil {
				if ov.ReturnsSet {
					return false, nil, pgerror.Unsupported("set-returning function %s outside FROM is not supported yet: call it in FROM", d.Name)
				}
				call, err := b.inlineCall(d, ov, args, false)
				if err != nil {
					return false, nil, err
				}
				if sq, ok := call.(*tree.Subquery); ok {
					// Visited no further: planned here, its arguments in
					// sc.
					return false, sq, b.planSubquery(sq, sc)
				}
				return true, call, nil
			}
			if err := checkFunctionExists(n); err != nil {
				return false, nil, err
			}
		}
		return true, e, nil
	})
}

// typeNameCalls are the types PostgreSQL has a function of the same name
// for, a cast of its one argument: float8(x), int4(x), text(x), ...
var typeNameCalls = map[string]*types.T{
	"int2": types.Int2, "int4": types.Int4, "int8": types.Int, "float4": types.Float4, "float8": types.Float,
	"numeric": types.Decimal, "text": types.String, "bool": types.Bool, "date": types.Date, "time": types.Time,
	"timestamp": types.Timestamp, "timestamptz": types.TimestampTZ, "interval": types.Interval, "bytea": types.Bytes,
	"varchar": types.VarChar, "bpchar": types.BPChar, "name": types.Name, "oid": types.Oid,
}

// typeNameCall is f as the cast it stands for when it calls a type's name
// with one argument (and no function of that name exists); nil otherwise.
func typeNameCall(f *tree.FuncExpr) tree.Expr {
	n, ok := f.Func.FunctionReference.(*tree.UnresolvedName)
	if !ok || len(f.Exprs) != 1 || f.WindowDef != nil || f.Type != 0 || n.NumParts > 2 ||
		(n.NumParts == 2 && !strings.EqualFold(n.Parts[1], "pg_catalog")) {
		return nil
	}
	name := strings.ToLower(n.Parts[0])
	t, ok := typeNameCalls[name]
	if !ok || sem.Overloads(name) != nil {
		return nil
	}
	return &tree.CastExpr{Expr: f.Exprs[0], Type: t, SyntaxMode: tree.CastShort}
}

// checkFunctionExists refuses a call of a function there is no
// definition of, before the type checker (which expects every name it
// meets to be defined) sees it.
func checkFunctionExists(f *tree.FuncExpr) error {
	var name string
	switch n := f.Func.FunctionReference.(type) {
	case *tree.UnresolvedName:
		name = strings.ToLower(n.Parts[0])
		if n.NumParts == 2 && n.Parts[1] != "pg_catalog" {
			// Another schema's function is registered under its
			// qualified name (information_schema._pg_expandarray).
			name = strings.ToLower(n.Parts[1]) + "." + name
		}
		if n.NumParts > 2 || sem.Overloads(name) == nil && n.NumParts == 2 && n.Parts[1] != "pg_catalog" {
			return pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", tree.AsString(n))
		}
	case *tree.FunctionDefinition:
		// The grammar names some functions itself (GREATEST, TRIM,
		// OVERLAPS, ...): a definition without overloads is one we lack.
		if len(n.Definition) > 0 {
			return nil
		}
		if sem.Overloads(n.Name) == nil {
			return pgerror.Unsupported("%s (the function behind this syntax) is not supported yet", n.Name)
		}
		return nil
	default:
		return nil
	}
	if sem.Overloads(name) == nil {
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
	// chained: planned inside a subquery, its outer row continues with
	// the enclosing query's outer row.
	chained bool
	build   func() (planNode, error)
	// memo keeps a correlated subquery's answers per outer values, in a
	// statement that writes nothing (nil: it runs for every row).
	memo *subqueryMemo

	done   bool
	cached tree.Datum
	all    *tree.DTuple
}

// correlatedSubquery marks a correlated subquery's node (in its Idx,
// which nothing else here uses), so that hasVars, which sees only the
// expression, knows it reads the row: such an expression is no constant
// to build a key span from.
const correlatedSubquery = -1

// noteOuter records that outer column oi was named: this query is
// correlated, and so is each enclosing one whose own outer columns the
// name reaches.
func (b *builder) noteOuter(oi int) {
	for ; b != nil; b = b.parent {
		b.usedOuter = true
		if b.outerCols == nil {
			b.outerCols = map[int]bool{}
		}
		b.outerCols[oi] = true
		if b.parent == nil || oi < b.parentWidth {
			return
		}
		oi -= b.parentWidth
	}
}

// planSubquery plans sq with outer as the scope it may reach into, and
// types it for the type checker.
func (b *builder) planSubquery(sq *tree.Subquery, outer *scope) error {
	if b.record != nil {
		b.record.uncacheable = true // its plan lives in b.subqueries
	}
	sel := &tree.Select{Select: sq.Select}
	// The WITH queries in scope now: the subquery may be planned again
	// later (per row), after the WITH's scope has ended.
	ctes := b.ctes
	// Inside a subquery, the scopes above this one can be named too.
	var parent *builder
	width := 0
	if outer != nil && b.outer != nil {
		parent, width = b, len(outer.cols)
		outer = &scope{cols: append(append([]resultColumn{}, outer.cols...), b.outer.cols...)}
	}
	child := func() (*builder, planNode, error) {
		cb := &builder{ctx: b.ctx, txn: b.txn, names: b.names, sema: b.sema, subqueries: b.subqueries, outer: outer, ctes: ctes, deps: b.deps, priv: b.priv, privAs: b.privAs, stats: b.stats,
			parent: parent, parentWidth: width}
		p, err := cb.buildSelect(sel)
		return cb, p, err
	}
	cb, p, err := child()
	if err != nil {
		return err
	}
	cols := visibleCols(p)
	info := &subquery{exists: sq.Exists, correlated: cb.usedOuter, chained: parent != nil}
	if info.correlated && memoizable(sq.Select) {
		info.memo = &subqueryMemo{}
		for c := range cb.outerCols {
			info.memo.cols = append(info.memo.cols, c)
		}
		sort.Ints(info.memo.cols)
	}
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
	if info.correlated {
		sq.Idx = correlatedSubquery
	}
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
	ev := *r.eval
	ev.Outer = outerRow
	if info.chained {
		// Its outer columns: this row's, then those of the query around
		// this one (see builder.outer).
		ev.Outer = append(append(tree.Datums(nil), outerRow...), r.eval.Outer...)
	}
	var memo *subqueryMemo
	if r.readOnly {
		memo = info.memo
	}
	d, memoKey, found := memo.lookup(ev.Outer, all)
	if found {
		return d, nil
	}
	d, err := b.evalSubquery(r, info, &ev, all)
	if err == nil {
		memo.keep(r, memoKey, d)
	}
	return d, err
}

// evalSubquery runs a subquery's plan for the outer row in ev.
func (b *builder) evalSubquery(r *runner, info *subquery, ev *sem.EvalCtx, all bool) (tree.Datum, error) {
	p, err := info.build()
	if err != nil {
		return nil, err
	}
	// The subquery's buffers die with this run: they charge an account of
	// their own, closed when it returns. Its result, kept for the rest of
	// the statement when it is not correlated, is charged to r.
	sub := &runner{ctx: r.ctx, txn: r.txn, snap: r.snap, eval: ev, mem: r.mem.Monitor().NewAccount(), spill: r.spill, readOnly: r.readOnly}
	defer sub.mem.Close()
	// Its own subqueries run from its rows, with its outer row after
	// theirs (a chained subquery's).
	ev.Subquery = func(sq *tree.Subquery, row tree.Datums, all bool) (tree.Datum, error) {
		return b.runSubquery(sub, sq, row, all)
	}
	var rows []tree.Datum
	var size int64
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
		sz := rowenc.DatumSize(row[0])
		if err := sub.grow(sz); err != nil {
			return nil, err
		}
		size += sz
		rows = append(rows, row[0])
		if !all && len(rows) > 1 {
			return nil, pgerror.New("21000", "more than one row returned by a subquery used as an expression")
		}
	}
	info.done = true
	if all {
		t := tree.NewDTupleWithLen(types.MakeTuple([]*types.T{info.typ}), len(rows))
		copy(t.D, rows)
		if !info.correlated {
			if err := r.grow(size); err != nil {
				return nil, err
			}
		}
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
	expr, err := sem.ByteaLiteral(sem.ArrayAssignTyped(sem.ArrayLiteral(expr, desired), desired), desired)
	if err != nil {
		return nil, err
	}
	if expr, err = sem.JSONLiterals(expr, desired); err != nil {
		return nil, err
	}
	if expr, err = sem.ImplicitCasts(b.ctx, &b.sema, expr); err != nil {
		return nil, err
	}
	te, err := tree.TypeCheck(b.ctx, expr, &b.sema, sem.ArrayLiteralType(expr, desired))
	if err != nil {
		if sv, ok := expr.(*tree.StrVal); ok && desired.Family() != types.AnyFamily {
			// A literal that does not fit the type it was given (an
			// INSERT's column, say): PostgreSQL's message, with that type.
			switch crdbpgerror.GetPGCode(err).String() {
			case string(pgerror.CodeInvalidTextRepresentation):
				if desired.Family() == types.IntFamily && strings.Contains(err.Error(), "value out of range") {
					return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "value %q is out of range for type %s", sv.RawString(), desired.SQLStandardName())
				}
				return nil, sem.InvalidInput(desired, sv.RawString())
			case string(pgerror.CodeNumericValueOutOfRange):
				return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "value %q is out of range for type %s", sv.RawString(), desired.SQLStandardName())
			}
		}
		if cerr := sem.JSONCastError(b.ctx, &b.sema, expr, err); cerr != nil {
			return nil, cerr
		}
		if cerr := sem.CastInputError(expr, err); cerr != nil {
			return nil, cerr
		}
		return nil, sem.TypeMismatch(sem.CallDoesNotExist(b.ctx, &b.sema, expr, sem.OperatorDoesNotExist(sem.WithParserCode(err))))
	}
	if te, err = sem.JSONSemantics(sem.PGSemantics(te)); err != nil {
		return nil, err
	}
	return sem.FoldStrictNulls(te), nil
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
		return nil, nil, pgerror.Unsupported("only plain table names are supported in FROM yet")
	}
	desc, err := b.names.mustFindLeased(b.ctx, b.txn, tn)
	if err != nil {
		return nil, nil, err
	}
	if b.record != nil {
		b.record.tables = append(b.record.tables, recordedTable{name: *tn, id: desc.ID})
	}
	if b.deps != nil {
		b.deps.rels[desc.ID] = true
		// A view keeps the relation it resolved now, whatever the
		// search path when it is used: its stored query names the schema.
		if !tn.ExplicitSchema {
			tn.SchemaName, tn.ExplicitSchema = tree.Name(desc.Schema), true
		}
	}
	if b.privAs == 0 && b.priv != nil {
		// The schemas a statement names relations in need USAGE (those
		// a view's query names are its owner's business).
		if err := b.priv.checkSchema(desc.ParentID, desc.Schema, catalog.PrivUsage, 0); err != nil {
			return nil, nil, err
		}
	}
	if err := b.prepareIndexes(desc); err != nil {
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
