package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Planning SELECT: the select clause with its grouping, DISTINCT (ON),
// ORDER BY and LIMIT, and VALUES.

// underWith plans, with build, the statement a WITH clause heads
// (SELECT, INSERT, UPDATE or DELETE, without its WITH), the clause's
// common table expressions in scope, and puts the data-modifying ones, if
// any, before it (with_dml.go).
func (b *builder) underWith(with *tree.With, build func() (planNode, error)) (planNode, error) {
	prevCTEs, prevWritten := b.ctes, b.names.written
	defer func() { b.ctes, b.names.written = prevCTEs, prevWritten }()
	seen := map[string]bool{}
	var dmls []*dmlCTE
	for _, cte := range with.CTEList {
		name := string(cte.Name.Alias)
		if seen[name] {
			return nil, pgerror.Newf("42712", "WITH query name %q specified more than once", name)
		}
		seen[name] = true
		visible := append([]cteEntry(nil), b.ctes...)
		q, ok := cte.Stmt.(*tree.Select)
		if !ok {
			if with != b.topWith {
				return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "WITH clause containing a data-modifying statement must be at the top level")
			}
			d, err := b.planDMLCTE(name, cte.Stmt)
			if err != nil {
				return nil, err
			}
			dmls = append(dmls, d)
			b.ctes = append(b.ctes, cteEntry{name: name, cols: cte.Name.Cols, visible: visible, dml: d})
			continue
		}
		e := cteEntry{name: name, cols: cte.Name.Cols, sel: q, visible: visible}
		if with.Recursive {
			if u, ok := q.Select.(*tree.UnionClause); ok && u.Type == tree.UnionOp && selectNames(u.Right.Select, name) {
				e.recursive = true
			}
		}
		b.ctes = append(b.ctes, e)
	}
	if len(dmls) == 0 {
		return build()
	}
	// The rest of the statement is planned from here: what it writes is
	// checked against what the WITH queries write.
	b.names.written = 0
	p, err := build()
	if err != nil {
		return nil, err
	}
	return finishWith(p, b.names.written, dmls), nil
}

// buildSelect plans a SELECT (or VALUES) statement.
func (b *builder) buildSelect(sel *tree.Select) (planNode, error) {
	if sel.With != nil {
		inner := *sel
		inner.With = nil
		return b.underWith(sel.With, func() (planNode, error) { return b.buildSelect(&inner) })
	}
	if len(sel.Locking) > 0 {
		// FOR UPDATE and friends: the rows are read with locking reads,
		// the latest committed values (PostgreSQL's row locks are not
		// taken yet: a concurrent writer is caught at commit instead).
		prev, prevNoWait := b.locking, b.lockNoWait
		b.locking = true
		for _, li := range sel.Locking {
			switch li.WaitPolicy {
			case tree.LockWaitSkipLocked:
				return nil, pgerror.Unsupported("SKIP LOCKED is not supported yet")
			case tree.LockWaitError:
				b.lockNoWait = true
			}
		}
		defer func() { b.locking, b.lockNoWait = prev, prevNoWait }()
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
	return nil, pgerror.Unsupported("%T is not supported yet", sel.Select)
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
	return n, b.retypeValuesLiterals(v, n, desired)
}

// pgAggType is the type PostgreSQL gives aggregate kind of an argument
// of type arg, where the checker typed the call typ: sum of int2 and
// int4 is an int8, of float4 a float4 (the overloads take int8 and
// float8); min, max and array_agg keep their argument's type as
// PGSemantics narrowed it (max(-f4) is a real, max(i4 * 1) an int4).
func pgAggType(kind sem.AggKind, arg, typ *types.T) *types.T {
	switch {
	case kind == "sum" && arg.Family() == types.IntFamily && arg.Width() < 64:
		return types.Int
	case kind == "sum" && arg.Oid() == oid.T_float4:
		return types.Float4
	case (kind == "min" || kind == "max") && arg.Family() == typ.Family() && numericFamily(arg):
		return arg
	case kind == "array_agg" && typ.Family() == types.ArrayFamily && typ.ArrayContents().Family() == arg.Family() && numericFamily(arg):
		return types.MakeArray(arg)
	}
	return typ
}

func numericFamily(t *types.T) bool {
	return t.Family() == types.IntFamily || t.Family() == types.FloatFamily
}

// retypeValuesLiterals gives a VALUES column the common type of its
// values, as PostgreSQL resolves a VALUES column over all its rows (its
// UNION rules: VALUES (1::int4), (5000000000) is an int8 column, (1),
// (2.5) a numeric one), and its quoted literals that type: VALUES
// ('[]'::jsonb), ('0.10') is a jsonb column whose second value is jsonb
// too (compared and grouped as jsonb), and VALUES ('1.0'), (2.5) a
// numeric one. A value of another family (an integer in a numeric
// column, a date in a timestamp one) is cast to it.
func (b *builder) retypeValuesLiterals(v *tree.ValuesClause, n *valuesNode, desired []*types.T) error {
	for i := range n.cols {
		if i < len(desired) && desired[i].Family() != types.AnyFamily {
			continue // every row was typed as the target wants
		}
		var typ *types.T
		for ri, row := range v.Rows {
			if _, lit := row[i].(*tree.StrVal); lit || row[i] == tree.DNull {
				continue
			}
			t := sem.OutputType(n.rows[ri][i])
			if t.Family() == types.UnknownFamily {
				continue
			}
			if typ == nil {
				typ = t
				continue
			}
			common, ok := sem.SetOpColumnType(typ, t)
			if !ok {
				return pgerror.Newf("42804", "VALUES types %s and %s cannot be matched", sem.FormatTypeOf(typ, -1), sem.FormatTypeOf(t, -1))
			}
			typ = common
		}
		if typ == nil {
			continue
		}
		n.cols[i].typ = typ
		for ri, row := range v.Rows {
			te := n.rows[ri][i]
			rt := te.ResolvedType()
			if _, lit := row[i].(*tree.StrVal); lit && !rt.Equivalent(typ) {
				te, err := b.typeCheck(row[i], &scope{}, typ)
				if err != nil {
					return err
				}
				n.rows[ri][i] = te
				continue
			}
			if sem.ImplicitlyCastable(rt, typ) && rt.Family() != typ.Family() {
				n.rows[ri][i] = tree.NewTypedCastExpr(te, typ)
			}
		}
	}
	return nil
}

// aggBuilder collects the aggregates of a grouped SELECT.
type aggBuilder struct {
	src      *scope
	groupIdx map[int]int // source column → group output position
	// exprIdx: a GROUP BY expression that is not a column, by its text →
	// group output position; groupTypes are the positions' types.
	exprIdx    map[string]int
	groupTypes []*types.T
	nGroup     int
	aggs       []aggSpec
	aggCols    []resultColumn
	byText     map[string]int
	// sets are the grouping sets (positions among the grouped values),
	// nil for a plain GROUP BY (grouping_sets.go).
	sets [][]int
	// order holds the ORDER BY items rewritten above the aggregation, or
	// the error rewriting them gave.
	order    []tree.Expr
	orderErr []error
}

// groupingRef is GROUPING(args): an aggregate whose value is the mask
// of the arguments the row's grouping set leaves out (first argument
// highest).
func (g *aggBuilder) groupingRef(f *tree.FuncExpr) (tree.Expr, error) {
	spec := aggSpec{kind: "grouping", typ: types.Int4}
	for _, a := range f.Exprs {
		pos, ok := g.exprIdx[tree.AsString(a)]
		if !ok {
			if n, isName := a.(*tree.UnresolvedName); isName {
				if i, err := g.src.resolve(n); err == nil {
					pos, ok = g.groupIdx[i]
				}
			}
		}
		if !ok {
			return nil, pgerror.New("42803", "arguments to GROUPING must be grouping expressions of the associated query level")
		}
		spec.grouping = append(spec.grouping, pos)
	}
	text := tree.AsString(f)
	if i, ok := g.byText[text]; ok {
		return tree.NewTypedOrdinalReference(g.nGroup+i, g.aggs[i].typ), nil
	}
	g.byText[text] = len(g.aggs)
	g.aggs = append(g.aggs, spec)
	g.aggCols = append(g.aggCols, resultColumn{name: "grouping", typ: spec.typ})
	return tree.NewTypedOrdinalReference(g.nGroup+len(g.aggs)-1, spec.typ), nil
}

// rewrite replaces the aggregates in expr with references to the group
// node's output and the grouped columns with theirs.
func (b *builder) rewriteGrouped(expr tree.Expr, g *aggBuilder) (tree.Expr, error) {
	return tree.SimpleVisit(expr, func(e tree.Expr) (bool, tree.Expr, error) {
		if gi, ok := g.exprIdx[tree.AsString(e)]; ok && len(g.exprIdx) > 0 {
			return false, tree.NewTypedOrdinalReference(gi, g.exprTypes(gi)), nil
		}
		switch n := e.(type) {
		case *tree.FuncExpr:
			if kind, _ := groupingCall(n); kind == "grouping" {
				ref, err := g.groupingRef(n)
				return false, ref, err
			}
			if !isAggregate(n) && !isCountStar(n) {
				if call, ok, err := b.variadicCall(n, g.src); err != nil || ok {
					return err == nil, call, err
				}
				if d, ov, args, err := b.userFunction(n, g.src); err != nil || d != nil {
					if err != nil {
						return false, nil, err
					}
					call, err := b.inlineCall(d, ov, args, true)
					return true, call, err
				}
				return true, e, nil
			}
			f := rewriteCountStar(stripVariadic(n))
			if f.WindowDef != nil {
				return false, nil, pgerror.Unsupported("window functions in a grouped query are not supported yet")
			}
			text := tree.AsString(f)
			if i, ok := g.byText[text]; ok {
				return false, tree.NewTypedOrdinalReference(g.nGroup+i, g.aggs[i].typ), nil
			}
			if name := strings.ToLower(f.Func.String()); orderedSetAggs[name] || f.AggType == tree.OrderedSetAgg {
				if !orderedSetAggs[name] {
					// PostgreSQL looks for an aggregate of the direct and
					// the ordered arguments, and finds none.
					return false, nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", tree.AsString(f))
				}
				spec, err := b.orderedSetAgg(f, name, g)
				if err != nil {
					return false, nil, err
				}
				if spec.filter == nil && f.Filter != nil {
					if spec.filter, err = b.typeCheckBool(f.Filter, g.src, "FILTER"); err != nil {
						return false, nil, err
					}
				}
				g.byText[text] = len(g.aggs)
				g.aggs = append(g.aggs, spec)
				g.aggCols = append(g.aggCols, resultColumn{name: name, typ: spec.typ})
				return false, tree.NewTypedOrdinalReference(g.nGroup+len(g.aggs)-1, spec.typ), nil
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
			spec := aggSpec{kind: fe.ResolvedOverload().Fn.(sem.AggKind), typ: fe.ResolvedType(), distinct: f.Type == tree.DistinctFuncType}
			if len(fe.Exprs) > 0 {
				spec.arg = fe.Exprs[0].(tree.TypedExpr)
				if spec.distinct {
					if err := sem.NoJSONEquality(spec.arg.ResolvedType()); err != nil {
						return false, nil, err
					}
				}
				if len(fe.Exprs) > 1 {
					spec.arg2 = fe.Exprs[1].(tree.TypedExpr)
				}
				spec.typ = pgAggType(spec.kind, spec.arg.ResolvedType(), spec.typ)
			}
			if f.Filter != nil {
				if spec.filter, err = b.typeCheckBool(f.Filter, g.src, "FILTER"); err != nil {
					return false, nil, err
				}
			}
			for _, o := range f.OrderBy {
				te, err := b.typeCheck(o.Expr, g.src, types.AnyElement)
				if err != nil {
					return false, nil, err
				}
				desc, nullsFirst := orderDirection(o)
				spec.order = append(spec.order, aggOrder{expr: te, desc: desc, nullsFirst: nullsFirst})
			}
			if spec.distinct && len(spec.order) == 0 && orderSensitiveAggs[spec.kind] {
				// PostgreSQL sorts a DISTINCT aggregate's input: its
				// values come out in order.
				spec.order = []aggOrder{{expr: spec.arg}}
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
				// An outer query's column: one value for every group.
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

// exprTypes is the type of group output position gi.
func (g *aggBuilder) exprTypes(gi int) *types.T { return g.groupTypes[gi] }

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
			if f, ok := x.(*tree.FuncExpr); ok && (isAggregate(f) || isCountStar(f) || isGroupingFn(f)) {
				found = true
				return false, x, nil
			}
			return !found, x, nil
		})
	}
	return found
}

func (b *builder) buildSelectClause(s *tree.SelectClause, orderBy tree.OrderBy, limit *tree.Limit) (planNode, error) {
	if windowsOverGroups(s, orderBy) {
		outer, ob, err := splitGroupedWindows(s, orderBy)
		if err != nil {
			return nil, err
		}
		return b.buildSelectClause(outer, ob, limit)
	}
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
		if scan, ok := src.(*scanNode); ok && scan.index != nil && len(s.From.Tables) == 1 && len(s.Window) == 0 {
			clauses := append(selectExprsOf(s), s.GroupBy...)
			if s.Where != nil {
				clauses = append(clauses, s.Where.Expr)
			}
			if s.Having != nil {
				clauses = append(clauses, s.Having.Expr)
			}
			for _, o := range orderBy {
				clauses = append(clauses, o.Expr)
			}
			for _, e := range s.DistinctOn {
				clauses = append(clauses, e)
			}
			useIndexOnly(src, sc, clauses...)
		}
	}
	if s.From.AsOf.Expr != nil {
		// The session gave a top-level SELECT's clause its transaction
		// (txn_modes.go); anywhere else it would be ignored.
		if _, ok := b.txn.(kvapi.Historical); !ok || b.outer != nil {
			return nil, pgerror.Unsupported("AS OF SYSTEM TIME must be given on a top-level SELECT (or to BEGIN)")
		}
	}
	var orderExprsW []tree.Expr
	for _, o := range orderBy {
		orderExprsW = append(orderExprsW, o.Expr)
	}
	if hasWindow(append(selectExprsOf(s), orderExprsW...)...) {
		wsrc, wsc, exprs, ob, err := b.planWindows(src, sc, s.Exprs, orderBy, s.Window)
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
		// addGroup adds a GROUP BY expression; it returns its position
		// among the grouped values.
		addGroup := func(ge tree.Expr) (int, error) {
			if n, ok := ge.(*tree.NumVal); ok {
				i, err := n.AsInt64()
				if err != nil || i < 1 || int(i) > len(s.Exprs) {
					return 0, pgerror.Newf("42P10", "GROUP BY position %s is not in select list", n)
				}
				ge = s.Exprs[i-1].Expr
			}
			if n, ok := ge.(*tree.UnresolvedName); ok && n.NumParts == 1 && !n.Star {
				// A name that is no input column may be an output
				// column's (PostgreSQL looks at the input first).
				if _, err := sc.resolve(n); err != nil {
					for _, se := range s.Exprs {
						if string(se.As) == n.Parts[0] {
							ge = se.Expr
							break
						}
					}
				}
			}
			te, err := b.typeCheck(ge, sc, types.AnyElement)
			if err != nil {
				return 0, err
			}
			v, ok := te.(*tree.IndexedVar)
			if !ok || v.Idx >= len(sc.cols) {
				// An expression (or an outer query's column): the select
				// list, HAVING and ORDER BY may use it (as written) above
				// the aggregation.
				key := tree.AsString(ge)
				if pos, dup := g.exprIdx[key]; dup {
					return pos, nil
				}
				if g.exprIdx == nil {
					g.exprIdx = map[string]int{}
				}
				g.exprIdx[key] = len(groupExprs)
				groupExprs = append(groupExprs, te)
				groupCols = append(groupCols, resultColumn{name: "?column?", typ: te.ResolvedType()})
				return len(groupExprs) - 1, nil
			}
			if pos, dup := g.groupIdx[v.Idx]; dup {
				return pos, nil
			}
			g.groupIdx[v.Idx] = len(groupExprs)
			groupExprs = append(groupExprs, te)
			groupCols = append(groupCols, sc.cols[v.Idx])
			return len(groupExprs) - 1, nil
		}
		if hasGroupingSets(s.GroupBy) {
			sets, err := groupingSets(s.GroupBy)
			if err != nil {
				return nil, err
			}
			for _, set := range sets {
				var pos []int
				for _, ge := range set {
					p, err := addGroup(ge)
					if err != nil {
						return nil, err
					}
					pos = append(pos, p)
				}
				g.sets = append(g.sets, pos)
			}
		} else {
			for _, ge := range s.GroupBy {
				if _, err := addGroup(ge); err != nil {
					return nil, err
				}
			}
		}
		g.nGroup = len(groupExprs)
		for _, c := range groupCols {
			if err := sem.NoJSONEquality(c.typ); err != nil {
				return nil, err
			}
			g.groupTypes = append(g.groupTypes, c.typ)
		}
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
		gn := &groupNode{src: src, groupBy: groupExprs, sets: g.sets, aggs: g.aggs, cols: append(groupCols, g.aggCols...)}
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
			order := starOrder(renderScope.cols)
			if n, ok := se.Expr.(*tree.UnresolvedName); ok && n.NumParts > 1 {
				// t.*: that FROM item's columns, in its order (USING's
				// merged copies too, as PostgreSQL has them).
				var err error
				if order, err = qualifiedStar(renderScope.cols, n); err != nil {
					return nil, err
				}
			}
			for _, j := range order {
				c := renderScope.cols[j]
				b.deps.noteColumn(c)
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
		col := resultColumn{name: columnName(se, renderScope, te), typ: sem.OutputType(te)}
		if v, ok := te.(*tree.IndexedVar); ok && v.Idx < len(renderScope.cols) {
			// (Not an outer query's column: those are numbered from
			// sem.OuterBase.)
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
			if err := sem.NoJSONEquality(c.typ); err != nil {
				return nil, err
			}
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
				return nil, pgerror.Unsupported("DISTINCT ON expressions outside the select list of a grouped query are not supported yet")
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

// orderSource lets ORDER BY name expressions of the SELECT's input, which
// are then computed as extra, hidden output columns.
type orderSource struct {
	render   *renderNode
	scope    *scope
	grouped  *aggBuilder
	distinct bool
}

// qualifiedStar returns the indexes of the columns t.* expands to.
func qualifiedStar(cols []resultColumn, n *tree.UnresolvedName) ([]int, error) {
	table := n.Parts[1]
	var out []int
	for i, c := range cols {
		if c.table == table && !c.hidden {
			out = append(out, i)
		}
	}
	if out == nil {
		return nil, pgerror.Newf("42P01", "missing FROM-clause entry for table %q", table)
	}
	return out, nil
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
		if sem.IsJSONOperatorCall(x) {
			return ""
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
		// A name of the operand's own wins; one the operand has from a
		// cast of its own gives way to this cast's type, as in
		// PostgreSQL (CAST(1::int8 AS int4) is int4).
		if strongColname(x.Expr) {
			return figureColname(x.Expr)
		}
		if t, err := tree.ResolveType(context.Background(), x.Type, nil); err == nil {
			return castColname(t)
		}
	case *tree.ParenExpr:
		return figureColname(x.Expr)
	case *tree.IndirectionExpr:
		return figureColname(x.Expr)
	case *tree.Array, *tree.ArrayFlatten:
		return "array"
	case *tree.Tuple:
		return "row" // ROW(a, b) and (a, b) alike
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
		return caseColname(x)
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
				return nil, pgerror.Unsupported("ORDER BY INDEX is not supported")
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
					return nil, pgerror.Unsupported("ORDER BY expressions not in the select list are not supported here")
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
			if err := sem.NoJSONOrdering(plan.columns()[idx].typ); err != nil {
				return nil, err
			}
			desc, nullsFirst := orderDirection(o)
			order = append(order, orderCol{idx: idx, desc: desc, nullsFirst: nullsFirst})
		}
		if !defaultNulls(order) || !scanOrdered(plan, order) {
			// (Rows a primary-key scan yields in the order asked for need
			// no sort: the LIMIT above then stops the scan early.)
			plan = &sortNode{src: plan, order: order}
		}
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

// defaultNulls reports whether every column of order puts NULLs where an
// index scan yields them (PostgreSQL's default: last ascending, first
// descending).
func defaultNulls(order []orderCol) bool {
	for _, o := range order {
		if o.nullsFirst != o.desc {
			return false
		}
	}
	return true
}

// caseColname names a CASE's output column as PostgreSQL does: after its
// ELSE branch when that names a column (a column, a function; not a
// literal or a type), else "case".
func caseColname(x *tree.CaseExpr) string {
	if x.Else != nil && strongColname(x.Else) {
		return figureColname(x.Else)
	}
	return "case"
}

// strongColname: e's column name is one PostgreSQL prefers over "case"
// (FigureColnameInternal's strength 2).
func strongColname(e tree.Expr) bool {
	switch x := e.(type) {
	case *tree.ParenExpr:
		return strongColname(x.Expr)
	case *tree.CastExpr:
		return strongColname(x.Expr)
	case *tree.CaseExpr:
		return x.Else != nil && strongColname(x.Else)
	}
	return figureColname(e) != ""
}

// castColname names the column of a cast to t (when its operand names
// none): t's name, an array's element type's (PostgreSQL's
// FigureColname takes the type name without the brackets).
func castColname(t *types.T) string {
	if t.Family() == types.ArrayFamily {
		return t.ArrayContents().PGName()
	}
	return t.PGName()
}
