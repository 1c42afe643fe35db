package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Planning SELECT: the select clause with its grouping, DISTINCT (ON),
// ORDER BY and LIMIT, and VALUES.

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
		// The session gave a top-level SELECT's clause its transaction
		// (txn_modes.go); anywhere else it would be ignored.
		if _, ok := b.txn.(kvapi.Historical); !ok || b.outer != nil {
			return nil, unsupported("AS OF SYSTEM TIME must be given on a top-level SELECT (or to BEGIN)")
		}
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
		if !scanOrdered(plan, order) {
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
