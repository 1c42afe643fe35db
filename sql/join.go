package sql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/vtable"
)

// Joins read their right side once and keep it, except when the join
// condition fixes the right table's whole primary key from the left row's
// values: then each left row looks its partners up by key (a lookup
// join). When the condition equates columns of the two sides, the kept
// rows are hashed by those columns and a left row meets only its bucket
// (a hash join, join_hash.go); else every left row meets every right row
// (a nested loop). Conjuncts of WHERE that name one table only are pushed
// into that table's scan, and those that name both sides of an inner join
// into its condition.

// joinKind is the kind of a join.
type joinKind int

const (
	innerJoin joinKind = iota
	leftJoin
	rightJoin
	fullJoin
)

// String is the kind as EXPLAIN shows it.
func (k joinKind) String() string {
	return [...]string{"inner", "left", "right", "full"}[k]
}

// keepsLeft and keepsRight report whether the join keeps its left
// (right) side's unmatched rows, NULLs beside them.
func (k joinKind) keepsLeft() bool  { return k == leftJoin || k == fullJoin }
func (k joinKind) keepsRight() bool { return k == rightJoin || k == fullJoin }

// fromItem is one table of a FROM clause, planned: its scan and scope.
type fromItem struct {
	desc  *catalog.TableDescriptor
	scope *scope
	scan  *scanNode
}

// buildFrom plans the FROM clause's tables (comma lists and JOIN ...
// ON/USING, inner and left outer) and the WHERE clause over them.
func (b *builder) buildFrom(tables tree.TableExprs, where *tree.Where) (planNode, *scope, error) {
	var plan planNode
	var sc *scope
	var leftItems []*fromItem
	for i, te := range tables {
		if t, ok := b.lateralRight(te); ok && i > 0 {
			var err error
			if plan, sc, err = b.buildLateral(plan, sc, t, innerJoin, nil); err != nil {
				return nil, nil, err
			}
			continue
		}
		if t, ok := te.(*tree.AliasedTableExpr); ok && t.Lateral {
			// Nothing before it to see: LATERAL changes nothing.
			c := *t
			c.Lateral = false
			te = &c
		}
		p, s, items, err := b.buildTableExpr(te)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			plan, sc, leftItems = p, s, items
			continue
		}
		plan = &joinNode{left: plan, right: p, kind: innerJoin, leftCols: len(sc.cols), cols: joinColumns(sc.cols, s.cols, false)}
		sc = &scope{cols: plan.columns()}
		leftItems = append(leftItems, items...)
	}
	if where == nil {
		return b.reorderJoins(plan), sc, nil
	}
	if len(leftItems) == 1 && plan == leftItems[0].scan {
		// One table: the scan takes the filter and its key span.
		n, err := b.scan(leftItems[0].desc, sc, where)
		return n, sc, err
	}
	filter, err := b.typeCheckBool(where.Expr, sc, "WHERE")
	if err != nil {
		return nil, nil, err
	}
	rest := pushDown(plan, filter)
	plan = b.reorderJoins(plan)
	if rest != nil {
		plan = &filterNode{src: plan, filter: rest}
	}
	return plan, sc, nil
}

// buildTableExpr plans one FROM item: a table or a join of two.
func (b *builder) buildTableExpr(te tree.TableExpr) (planNode, *scope, []*fromItem, error) {
	switch t := te.(type) {
	case *tree.JoinTableExpr:
		return b.buildJoin(t)
	case *tree.ParenTableExpr:
		return b.buildTableExpr(t.Expr)
	case *tree.AliasedTableExpr:
		if j, ok := t.Expr.(*tree.JoinTableExpr); ok && t.As.Alias == "" {
			return b.buildJoin(j)
		}
		if sq, ok := t.Expr.(*tree.Subquery); ok {
			if t.As.Alias == "" {
				return nil, nil, nil, pgerror.New(pgerror.CodeSyntaxError, "subquery in FROM must have an alias")
			}
			if b.outer != nil {
				return b.buildDerivedInSubquery(&tree.Select{Select: sq.Select}, t.As)
			}
			return b.buildDerived(&tree.Select{Select: sq.Select}, t.As)
		}
		if t.Lateral {
			return nil, nil, nil, pgerror.Unsupported("LATERAL is not supported yet")
		}
		if rf, ok := t.Expr.(*tree.RowsFromExpr); ok {
			n, sc, err := b.buildSeries(rf, t.As, t.Ordinality)
			return n, sc, nil, err
		}
		if cte := b.findCTE(t.Expr); cte != nil {
			as := t.As
			if as.Alias == "" {
				as.Alias = tree.Name(cte.name)
			}
			if len(as.Cols) == 0 {
				as.Cols = cte.cols
			}
			cb := *b
			cb.ctes = cte.visible
			switch {
			case cte.dml != nil:
				if len(cte.dml.cols) == 0 {
					return nil, nil, nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "WITH query %q does not have a RETURNING clause", cte.name)
				}
				cols := renamedCols(cte.dml.cols, as)
				return &dmlCTEScanNode{d: cte.dml, cols: cols}, &scope{cols: cols}, nil, nil
			case cte.bound:
				cols := renamedCols(cte.boundCols, as)
				rows := make([][]tree.TypedExpr, len(cte.rows))
				for i, r := range cte.rows {
					rows[i] = make([]tree.TypedExpr, len(r))
					for j, d := range r {
						rows[i][j] = d
					}
				}
				n := &valuesNode{rows: rows, cols: cols}
				return n, &scope{cols: cols}, nil, nil
			case cte.recursive:
				n, err := cb.buildRecursive(cte, as)
				if err != nil {
					return nil, nil, nil, err
				}
				return n, &scope{cols: n.cols}, nil, nil
			}
			return cb.buildDerived(cte.sel, as)
		}
	}
	if n, sc, ok, err := b.virtual(te); ok || err != nil {
		return n, sc, nil, err
	}
	desc, sc, err := b.table(te)
	if err != nil {
		return nil, nil, nil, err
	}
	b.priv.require(desc, catalog.PrivSelect, b.privAs)
	if b.locking {
		// FOR UPDATE / FOR SHARE lock rows: PostgreSQL asks UPDATE too.
		b.priv.require(desc, catalog.PrivUpdate, b.privAs)
	}
	if desc.ViewQuery != "" {
		alias := tree.AliasClause{Alias: tree.Name(desc.Name)}
		if a, ok := te.(*tree.AliasedTableExpr); ok && a.As.Alias != "" {
			alias = a.As
		}
		sel, err := parseSQL(desc.ViewQuery)
		if err != nil {
			return nil, nil, nil, err
		}
		q, ok := sel[0].AST.(*tree.Select)
		if !ok || len(sel) != 1 {
			return nil, nil, nil, errors.AssertionFailedf("view %q has a query that is not a SELECT", desc.Name)
		}
		// A view depends on the relations it names, not on theirs.
		deps, as := b.deps, b.privAs
		// The view reads its relations with its owner's privileges.
		b.deps, b.privAs = nil, desc.OwnerID()
		p, vsc, items, err := b.buildDerived(q, alias)
		b.deps, b.privAs = deps, as
		if err != nil {
			return nil, nil, nil, err
		}
		// The view's own column names. Its columns are the view's, as
		// PostgreSQL's RowDescription and a view over it see them.
		for i := range vsc.cols {
			if i < len(desc.Columns) && len(alias.Cols) == 0 {
				vsc.cols[i].name = desc.Columns[i].Name
			}
			if i < len(desc.Columns) {
				vsc.cols[i].tableID, vsc.cols[i].attr = desc.ID, uint16(i+1)
			}
		}
		return p, vsc, items, nil
	}
	n := &scanNode{desc: desc, cols: sc.cols, locking: b.locking, noWait: b.lockNoWait}
	return n, sc, []*fromItem{{desc: desc, scope: sc, scan: n}}, nil
}

// findCTE returns the WITH query an unqualified table name in FROM names,
// the innermost one of that name.
func (b *builder) findCTE(e tree.TableExpr) *cteEntry {
	tn, ok := e.(*tree.TableName)
	if !ok || tn.ExplicitSchema || tn.ExplicitCatalog {
		return nil
	}
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if b.ctes[i].name == string(tn.ObjectName) {
			return &b.ctes[i]
		}
	}
	return nil
}

// buildDerived plans a subquery in FROM (or a view): its rows under the
// alias's table name, its columns renamed by the alias's column list.
func (b *builder) buildDerived(sel *tree.Select, as tree.AliasClause) (planNode, *scope, []*fromItem, error) {
	// A derived table sees no enclosing query (unless LATERAL, see
	// buildDerivedSeeing).
	p, sc, _, err := b.buildDerivedSeeing(sel, as, nil)
	return p, sc, nil, err
}

// buildDerivedSeeing plans a derived table that may name the columns of
// outer (a LATERAL subquery's view of the FROM items before it), and
// reports whether it did.
func (b *builder) buildDerivedSeeing(sel *tree.Select, as tree.AliasClause, outer *scope) (planNode, *scope, bool, error) {
	cb := &builder{ctx: b.ctx, txn: b.txn, names: b.names, sema: b.sema, subqueries: b.subqueries, outer: outer, ctes: b.ctes, deps: b.deps, priv: b.priv, privAs: b.privAs, stats: b.stats}
	if outer != nil {
		// A LATERAL subquery: it sees what b, the builder made for it,
		// sees (and is correlated with b's parents alike).
		cb.parent, cb.parentWidth = b.parent, b.parentWidth
	}
	return cb.buildDerivedBy(sel, as)
}

// buildDerivedInSubquery plans a subquery in FROM of a subquery: as in
// PostgreSQL it may name the columns of the enclosing queries (b.outer,
// whose rows its rows are read in), not of the FROM items beside it;
// naming one makes b correlated too.
func (b *builder) buildDerivedInSubquery(sel *tree.Select, as tree.AliasClause) (planNode, *scope, []*fromItem, error) {
	cb := &builder{ctx: b.ctx, txn: b.txn, names: b.names, sema: b.sema, subqueries: b.subqueries, outer: b.outer, ctes: b.ctes, deps: b.deps, priv: b.priv, privAs: b.privAs, stats: b.stats,
		parent: b, parentWidth: 0}
	p, sc, _, err := cb.buildDerivedBy(sel, as)
	return p, sc, nil, err
}

// buildDerivedBy plans the derived table sel as cb, its own builder, and
// reports whether it named cb's outer columns.
func (cb *builder) buildDerivedBy(sel *tree.Select, as tree.AliasClause) (planNode, *scope, bool, error) {
	p, err := cb.buildSelect(sel)
	if err != nil {
		return nil, nil, false, err
	}
	src := visibleCols(p)
	if len(as.Cols) > len(src) {
		return nil, nil, false, pgerror.Newf("42P10", "table %q has %d columns available but %d columns specified", as.Alias, len(src), len(as.Cols))
	}
	cols := renamedCols(src, as)
	return &renameNode{src: p, cols: cols}, &scope{cols: cols}, cb.usedOuter, nil
}

// renamedCols are cols under the alias's table name, renamed by its
// column list.
func renamedCols(src []resultColumn, as tree.AliasClause) []resultColumn {
	cols := append([]resultColumn{}, src...)
	for i := range cols {
		cols[i].table = string(as.Alias)
		cols[i].tableID, cols[i].attr = 0, 0
		if i < len(as.Cols) {
			cols[i].name = string(as.Cols[i].Name)
		}
	}
	return cols
}

// renameNode passes its source's rows under other column names.
type renameNode struct {
	src  planNode
	cols []resultColumn
}

func (n *renameNode) columns() []resultColumn { return n.cols }

func (n *renameNode) explain() (string, []*planNode) { return "subquery", []*planNode{&n.src} }

func (n *renameNode) next(r *runner) (tree.Datums, error) {
	row, err := n.src.next(r)
	if err != nil || row == nil {
		return nil, err
	}
	return row[:len(n.cols)], nil
}

func (b *builder) buildJoin(j *tree.JoinTableExpr) (planNode, *scope, []*fromItem, error) {
	left, lsc, litems, err := b.buildTableExpr(j.Left)
	if err != nil {
		return nil, nil, nil, err
	}
	if t, ok := b.lateralRight(j.Right); ok {
		switch j.JoinType {
		case "", tree.AstInner, tree.AstCross, tree.AstLeft:
			kind := innerJoin
			if j.JoinType == tree.AstLeft {
				kind = leftJoin
			}
			n, sc, err := b.buildLateral(left, lsc, t, kind, j.Cond)
			if err != nil {
				return nil, nil, nil, err
			}
			return n, sc, litems, nil
		case tree.AstRight, tree.AstFull:
			// The right side may not name the left: then it is an
			// ordinary join, planned below.
			if err := b.checkNoLateralRef(lsc, t); err != nil {
				return nil, nil, nil, err
			}
			if t.Lateral {
				c := *t
				c.Lateral = false
				j = &tree.JoinTableExpr{JoinType: j.JoinType, Left: j.Left, Right: &c, Cond: j.Cond, Hint: j.Hint}
			}
		}
	}
	right, rsc, ritems, err := b.buildTableExpr(j.Right)
	if err != nil {
		return nil, nil, nil, err
	}
	cond := j.Cond
	if _, ok := cond.(tree.NaturalJoinCond); ok {
		cond = naturalUsing(lsc.cols, rsc.cols)
	}
	_, using := cond.(*tree.UsingJoinCond)
	n := &joinNode{left: left, right: right, leftCols: len(lsc.cols), cols: joinColumns(lsc.cols, rsc.cols, using)}
	switch j.JoinType {
	case "", tree.AstInner, tree.AstCross:
		n.kind = innerJoin
	case tree.AstLeft:
		n.kind = leftJoin
	case tree.AstRight:
		n.kind = rightJoin
	case tree.AstFull:
		n.kind = fullJoin
	default:
		return nil, nil, nil, pgerror.Unsupported("%s JOIN is not supported yet", j.JoinType)
	}
	sc := &scope{cols: n.cols}
	var plan planNode = n
	switch c := cond.(type) {
	case nil:
	case *tree.OnJoinCond:
		if n.on, err = b.typeCheckBool(c.Expr, sc, "JOIN/ON"); err != nil {
			return nil, nil, nil, err
		}
	case *tree.UsingJoinCond:
		var full *usingFullNode
		if n.on, full, err = b.usingCond(n.kind, lsc, rsc, n.cols, c); err != nil {
			return nil, nil, nil, err
		}
		if full != nil {
			full.src = n
			plan, sc = full, &scope{cols: full.columns()}
		}
	default:
		return nil, nil, nil, errors.AssertionFailedf("join condition %T", cond)
	}
	n.chooseMethod()
	return plan, sc, append(litems, ritems...), nil
}

// usingCond is the condition of JOIN ... USING c of kind between the
// sides of scopes lsc and rsc, typed over cols (the join's: the left
// side's, then the right side's), which it marks: each USING column
// shows once, first (the USING columns in their order, then the rest of
// the left side's and the right side's): the left copy, which an inner
// or left join always has; a right join's right copy; a full join's
// first copy that is not NULL, which the node full (its src left to the
// caller) gives. The copies stay nameable qualified.
func (b *builder) usingCond(kind joinKind, lsc, rsc *scope, cols []resultColumn, c *tree.UsingJoinCond) (tree.TypedExpr, *usingFullNode, error) {
	var conds tree.Expr
	var full *usingFullNode
	for k, col := range c.Cols {
		li, err := lsc.resolve(&tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{string(col)}})
		if err != nil {
			return nil, nil, err
		}
		ri, err := rsc.resolve(&tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{string(col)}})
		if err != nil {
			return nil, nil, err
		}
		b.deps.noteColumn(lsc.cols[li])
		b.deps.noteColumn(rsc.cols[ri])
		eq := tree.NewTypedComparisonExpr(treecmp.MakeComparisonOperator(treecmp.EQ),
			tree.NewTypedOrdinalReference(li, lsc.cols[li].typ), tree.NewTypedOrdinalReference(len(lsc.cols)+ri, rsc.cols[ri].typ))
		first := []int{0, k}
		switch kind {
		case innerJoin, leftJoin:
			cols[len(lsc.cols)+ri].merged = true
			cols[li].starKey = first
		case rightJoin:
			cols[li].merged = true
			cols[len(lsc.cols)+ri].starKey = first
		case fullJoin:
			cols[li].merged, cols[len(lsc.cols)+ri].merged = true, true
			if full == nil {
				full = &usingFullNode{}
			}
			full.pairs = append(full.pairs, [2]int{li, len(lsc.cols) + ri})
			typ := lsc.cols[li].typ
			if typ.Family() == types.UnknownFamily {
				typ = rsc.cols[ri].typ
			}
			full.extra = append(full.extra, resultColumn{name: string(col), typ: typ, starKey: first})
		}
		if conds == nil {
			conds = eq
		} else {
			conds = tree.NewTypedAndExpr(conds.(tree.TypedExpr), eq)
		}
	}
	if conds == nil {
		return nil, full, nil
	}
	on, err := b.typeCheckResolved(conds, cols, types.Bool)
	return on, full, err
}

// naturalUsing is NATURAL JOIN's condition: USING the columns both sides
// have by name (visible ones, in the left side's order); none makes it a
// cross join.
func naturalUsing(left, right []resultColumn) tree.JoinCond {
	var using tree.NameList
	for _, l := range left {
		if l.hidden || l.merged {
			continue
		}
		for _, r := range right {
			if !r.hidden && !r.merged && r.name == l.name {
				using = append(using, tree.Name(l.name))
				break
			}
		}
	}
	if len(using) == 0 {
		return nil
	}
	return &tree.UsingJoinCond{Cols: using}
}

// joinColumns are a join's columns: the left side's, then the right
// side's. When either side's * order differs from its column order (a
// USING join below), or this join's will (using), each column's starKey
// keeps its place within its side, the left side's before the right
// side's (and after the merged columns, keyed 0).
func joinColumns(left, right []resultColumn, using bool) []resultColumn {
	cols := append(append(make([]resultColumn, 0, len(left)+len(right)), left...), right...)
	keyed := using
	for _, c := range cols {
		keyed = keyed || c.starKey != nil
	}
	if !keyed {
		return cols
	}
	for i := range cols {
		side := 1
		if i >= len(left) {
			side = 2
		}
		cols[i].starKey = append([]int{side}, cols[i].starKey...)
	}
	return cols
}

// starOrder returns the indexes of the columns * expands to, in order:
// the visible ones, by starKey when a join has set one.
func starOrder(cols []resultColumn) []int {
	var out []int
	keyed := false
	for i, c := range cols {
		if !c.hidden && !c.merged {
			out = append(out, i)
			keyed = keyed || c.starKey != nil
		}
	}
	if keyed {
		slices.SortStableFunc(out, func(a, b int) int { return slices.Compare(cols[a].starKey, cols[b].starKey) })
	}
	return out
}

// usingFullNode adds to a FULL JOIN ... USING its merged columns: each
// the left copy, or the right one where the left is NULL.
type usingFullNode struct {
	src   *joinNode
	pairs [][2]int // the two copies' places in src's row
	extra []resultColumn
}

func (n *usingFullNode) columns() []resultColumn {
	return append(append([]resultColumn{}, n.src.cols...), n.extra...)
}

func (n *usingFullNode) explain() (string, []*planNode) {
	var names []string
	for _, c := range n.extra {
		names = append(names, c.name)
	}
	var src planNode = n.src
	return "merge USING columns " + strings.Join(names, ", "), []*planNode{&src}
}

func (n *usingFullNode) next(r *runner) (tree.Datums, error) {
	row, err := n.src.next(r)
	if err != nil || row == nil {
		return nil, err
	}
	out := append(make(tree.Datums, 0, len(row)+len(n.pairs)), row...)
	for _, p := range n.pairs {
		d := row[p[0]]
		if d == tree.DNull {
			d = row[p[1]]
		}
		out = append(out, d)
	}
	return out, nil
}

// joinNode joins its left and right sources' rows; each output row is a
// left row followed by a right row (NULLs for the other side of an outer
// join's unmatched rows: a left or full join's left rows as they go, a
// right or full join's right rows once the left side is done).
type joinNode struct {
	left, right planNode
	kind        joinKind
	leftCols    int
	on          tree.TypedExpr
	cols        []resultColumn
	// lookup, when set, computes from a left row the primary key of the
	// only right row that can match (see lookupKey); byIndex, when set,
	// the span of an index its partners are in (join_index_lookup.go).
	lookup  []tree.TypedExpr
	byIndex *indexLookup
	// hash, when set, are the condition's equalities between the sides
	// that a hash table over the right rows serves.
	hash    *hashKeys
	buckets map[string]*bucket
	// bucketBytes is what the buckets are charged beyond the rows.
	bucketBytes int64
	// depth counts the spills above this join: 0 for a join of the plan,
	// 1 for one of its partitions (join_spill.go); spilled joins the
	// partitions once the join has spilled.
	depth   int
	spilled *joinSpill
	// estimate is the rows the statistics expect (0: unknown).
	estimate float64

	rightRows []tree.Datums
	rightRead bool
	// rightMatched marks the right rows some left row matched (a right
	// or full join); unmatched is the next one to look at for the tail.
	rightMatched []bool
	unmatched    int
	// pending are left rows read ahead with their lookup join partners,
	// fetched in one batch; leftDone: the left side is exhausted.
	pending  []lookupRow
	leftDone bool
	cur      tree.Datums // the left row being joined
	// candidates are the right rows cur may match; candidateAt their
	// positions in rightRows (nil: the same as in candidates).
	candidates  []tree.Datums
	candidateAt []int
	i           int
	matched     bool
}

func (n *joinNode) columns() []resultColumn { return n.cols }

// explain shows a lookup join's right side in its line, not as an input:
// it is read a row at a time by key, never run.
func (n *joinNode) explain() (string, []*planNode) {
	kind := n.kind.String()
	if n.looksUp() {
		rs := n.right.(*scanNode)
		s := fmt.Sprintf("lookup join (%s) into %s by primary key", kind, rs.desc.Name)
		if n.byIndex != nil {
			s = fmt.Sprintf("lookup join (%s) %s", kind, n.byIndex.explain(rs))
		}
		if rs.filter != nil {
			s += " filter: " + tree.AsString(rs.filter)
		}
		return s, []*planNode{&n.left}
	}
	s := "nested loop join (" + kind + ")"
	if n.hash != nil {
		s = "hash join (" + kind + ")"
	}
	if n.on != nil {
		s += " on " + tree.AsString(n.on)
	}
	return s, []*planNode{&n.left, &n.right}
}

// joinedRow is a left row joined to a right row (width columns), and
// whether the join condition on (nil: none) lets it through.
func joinedRow(r *runner, on tree.TypedExpr, width int, left, right tree.Datums) (tree.Datums, bool, error) {
	out := append(append(make(tree.Datums, 0, width), left...), right...)
	ok, err := r.passes(on, out)
	return out, ok, err
}

func (n *joinNode) next(r *runner) (tree.Datums, error) {
	if !n.looksUp() && !n.rightRead {
		n.rightRead = true
		if err := n.readRight(r); err != nil {
			return nil, err
		}
	}
	if n.spilled != nil {
		return n.spilled.next(r)
	}
	for {
		if n.cur == nil && n.looksUp() {
			if len(n.pending) == 0 {
				if err := n.lookupAhead(r); err != nil || len(n.pending) == 0 {
					return nil, err
				}
			}
			p := n.pending[0]
			n.pending = n.pending[1:]
			n.cur, n.candidates, n.candidateAt, n.i, n.matched = p.left, p.right, nil, 0, false
		}
		if n.cur == nil {
			row, err := n.left.next(r)
			if err != nil {
				return nil, err
			}
			if row == nil {
				return n.unmatchedRight(), nil
			}
			n.cur, n.i, n.matched = row, 0, false
			if err := n.partners(r, row); err != nil {
				return nil, err
			}
		}
		for n.i < len(n.candidates) {
			rr := n.candidates[n.i]
			n.i++
			out, ok, err := joinedRow(r, n.on, len(n.cols), n.cur, rr)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			n.matched = true
			if n.rightMatched != nil {
				at := n.i - 1
				if n.candidateAt != nil {
					at = n.candidateAt[at]
				}
				n.rightMatched[at] = true
			}
			return out, nil
		}
		left := n.cur
		n.cur = nil
		if n.kind.keepsLeft() && !n.matched {
			out := append(make(tree.Datums, 0, len(n.cols)), left...)
			for range len(n.cols) - n.leftCols {
				out = append(out, tree.DNull)
			}
			return out, nil
		}
	}
}

// readRight reads the right side whole and, for a hash join, hashes it;
// past the memory budget, a hash join spills (join_spill.go).
func (n *joinNode) readRight(r *runner) error {
	var held int64
	for {
		row, err := n.right.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		if err := r.growRow(row); err != nil {
			if n.spillable(r, err) {
				return n.spill(r, held, row)
			}
			return err
		}
		held += rowenc.DatumsSize(row)
		n.rightRows = append(n.rightRows, row)
	}
	if n.hash != nil {
		if err := n.buildBuckets(r); err != nil {
			if n.spillable(r, err) {
				r.mem.Shrink(n.bucketBytes)
				return n.spill(r, held, nil)
			}
			return err
		}
	}
	if n.kind.keepsRight() {
		n.rightMatched = make([]bool, len(n.rightRows))
	}
	return nil
}

// unmatchedRight returns the next right row no left row matched, NULLs
// before it (a right or full join, once the left side is done); nil when
// there is none left.
func (n *joinNode) unmatchedRight() tree.Datums {
	for n.unmatched < len(n.rightMatched) {
		i := n.unmatched
		n.unmatched++
		if !n.rightMatched[i] {
			out := make(tree.Datums, n.leftCols, len(n.cols))
			for j := range out {
				out[j] = tree.DNull
			}
			return append(out, n.rightRows[i]...)
		}
	}
	return nil
}

// partners sets the right rows a left row may match: its bucket (a hash
// join) or all of them (a nested loop).
func (n *joinNode) partners(r *runner, left tree.Datums) error {
	if n.hash == nil {
		n.candidates, n.candidateAt = n.rightRows, nil
		return nil
	}
	n.candidates, n.candidateAt = nil, nil
	key, ok, err := n.hash.key(r, n.hash.left, left)
	if err != nil || !ok {
		return err
	}
	if b := n.buckets[string(key)]; b != nil {
		n.candidates, n.candidateAt = b.rows, b.at
	}
	return nil
}

// lookupRow is a left row of a lookup join and the right row its key
// found (none, or one that passed the right side's filter).
type lookupRow struct {
	left  tree.Datums
	right []tree.Datums
}

// lookupBatch is how many left rows a lookup join reads ahead, so that
// their right rows come in one KV batch rather than a round trip each.
const lookupBatch = 128

// lookupAhead reads up to lookupBatch left rows and fetches their
// partners with one GetMany.
func (n *joinNode) lookupAhead(r *runner) error {
	if n.leftDone {
		return nil
	}
	rs := n.right.(*scanNode)
	var rows []lookupRow
	var keys [][]byte
	var at []int // keys[j] is rows[at[j]]'s
	for len(rows) < lookupBatch {
		left, err := n.left.next(r)
		if err != nil {
			return err
		}
		if left == nil {
			n.leftDone = true
			break
		}
		rows = append(rows, lookupRow{left: left})
		if n.byIndex != nil {
			continue
		}
		key, err := n.lookupKeyOf(r, rs, left)
		if err != nil {
			return err
		}
		if key != nil {
			keys, at = append(keys, key), append(at, len(rows)-1)
		}
	}
	if n.byIndex != nil {
		if err := n.lookupSpans(r, rows); err != nil {
			return err
		}
	}
	if len(keys) > 0 {
		vals, err := r.reader().GetMany(r.ctx, keys)
		if err != nil {
			return err
		}
		for j, v := range vals {
			if v == nil {
				continue
			}
			row, err := rowenc.DecodeRow(rs.desc, keys[j], v)
			if err != nil {
				return err
			}
			if ok, err := r.passes(rs.filter, row); err != nil {
				return err
			} else if ok {
				rows[at[j]].right = []tree.Datums{row}
			}
		}
	}
	n.pending = append(n.pending, rows...)
	return nil
}

// lookupKeyOf is the primary key of the right row left can match; nil if
// none can (a NULL, or a value the key column cannot hold).
func (n *joinNode) lookupKeyOf(r *runner, rs *scanNode, left tree.Datums) ([]byte, error) {
	key := rs.desc.IndexPrefix()
	for i, e := range n.lookup {
		d, err := r.evalIn(e, left)
		if err != nil {
			return nil, err
		}
		if d == tree.DNull {
			return nil, nil
		}
		if d, err = sem.CastDatum(r.eval, d, rs.desc.Columns[rs.desc.PrimaryKey[i]].Type()); err != nil {
			return nil, nil //nolint:nilerr // a value the key column cannot hold matches nothing
		}
		if key, err = rowenc.EncodeDatum(key, d); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// lookupKey returns, for each primary key column of desc (the right side,
// whose columns follow leftCols left columns), an expression over the
// left row that the join condition equates it with; nil if some key
// column has none.
func lookupKey(desc *catalog.TableDescriptor, on tree.TypedExpr, leftCols int) []tree.TypedExpr {
	eq := equalitiesFromLeft(on, leftCols)
	var out []tree.TypedExpr
	for _, c := range desc.PrimaryKey {
		e, ok := eq[c]
		if !ok {
			return nil
		}
		out = append(out, e)
	}
	return out
}

func conjuncts(e tree.TypedExpr) []tree.TypedExpr {
	switch x := e.(type) {
	case *tree.AndExpr:
		return append(conjuncts(x.TypedLeft()), conjuncts(x.TypedRight())...)
	case *tree.ParenExpr:
		return conjuncts(x.TypedInnerExpr())
	}
	return []tree.TypedExpr{e}
}

// varRange returns the lowest and highest column index an expression
// reads, and whether it reads any.
func varRange(e tree.Expr) (lo, hi int, any bool) {
	lo = 1 << 30
	_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		if v, ok := x.(*tree.IndexedVar); ok {
			any = true
			lo, hi = min(lo, v.Idx), max(hi, v.Idx)
		}
		return true, x, nil
	})
	return lo, hi, any
}

func onlyVarsBelow(e tree.Expr, n int) bool {
	_, hi, any := varRange(e)
	return !any || hi < n
}

// pushDown moves the conjuncts of filter that read a single scan's columns
// into that scan (under inner joins only: below a left join's right side a
// filter would change which rows are NULL-extended), and returns what is
// left (nil: nothing).
func pushDown(plan planNode, filter tree.TypedExpr) tree.TypedExpr {
	var rest tree.TypedExpr
	for _, c := range conjuncts(filter) {
		lo, hi, any := varRange(c)
		// A correlated subquery's outer columns are numbered in this
		// row: below, in a scan's or a join's row, they would name
		// others. It stays here.
		if any && !hasCorrelatedSubquery(c) && pushInto(plan, c, lo, hi, 0) {
			continue
		}
		if rest == nil {
			rest = c
		} else {
			rest = tree.NewTypedAndExpr(rest, c)
		}
	}
	return rest
}

// pushInto pushes c (reading columns lo..hi of plan's output, plan's
// columns starting at offset) into a scan under plan if one holds all of
// them, rewriting its column references; it reports whether it did.
func pushInto(plan planNode, c tree.TypedExpr, lo, hi, offset int) bool {
	switch n := plan.(type) {
	case *scanNode:
		if lo < offset || hi >= offset+len(n.cols) {
			return false
		}
		shifted := shiftVars(c, -offset)
		if n.filter == nil {
			n.filter = shifted
		} else {
			n.filter = tree.NewTypedAndExpr(n.filter, shifted)
		}
		chooseIndex(n)
		return true
	case *joinNode:
		// Only a side whose rows the join keeps as they are (not one
		// it pads with NULLs) may filter early.
		switch n.kind {
		case leftJoin:
			return pushInto(n.left, c, lo, hi, offset)
		case rightJoin:
			return pushInto(n.right, c, lo, hi, offset+n.leftCols)
		case fullJoin:
			return false
		}
		if pushInto(n.left, c, lo, hi, offset) || pushInto(n.right, c, lo, hi, offset+n.leftCols) {
			return true
		}
		// Both sides': an inner join's condition, where it can pick
		// the join's partners.
		if lo < offset || hi >= offset+len(n.cols) {
			return false
		}
		shifted := shiftVars(c, -offset)
		if n.on == nil {
			n.on = shifted
		} else {
			n.on = tree.NewTypedAndExpr(n.on, shifted)
		}
		n.chooseMethod()
		return true
	}
	return false
}

// shiftVars returns e with every column reference moved by delta.
func shiftVars(e tree.TypedExpr, delta int) tree.TypedExpr {
	out, _ := tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		if v, ok := x.(*tree.IndexedVar); ok {
			return false, tree.NewTypedOrdinalReference(v.Idx+delta, v.ResolvedType()), nil
		}
		return true, x, nil
	})
	return out.(tree.TypedExpr)
}

// virtual plans a read of a pg_catalog, information_schema or
// crdb_internal table; ok is
// false for a name that is not one (an unqualified name is one only if no
// table of that name exists).
func (b *builder) virtual(te tree.TableExpr) (planNode, *scope, bool, error) {
	alias := ""
	if a, ok := te.(*tree.AliasedTableExpr); ok {
		alias = string(a.As.Alias)
		te = a.Expr
	}
	tn, ok := te.(*tree.TableName)
	if !ok {
		return nil, nil, false, nil
	}
	schema, name := "", string(tn.ObjectName)
	if tn.ExplicitSchema {
		schema = string(tn.SchemaName)
		if !vtable.IsVirtualSchema(schema) {
			return nil, nil, false, nil
		}
	}
	vt, found := vtable.Lookup(schema, name)
	if !found {
		if schema != "" {
			return nil, nil, true, pgerror.Newf(pgerror.CodeUndefinedTable, "relation \"%s.%s\" does not exist", schema, name)
		}
		return nil, nil, false, nil
	}
	if schema == "" {
		if d, err := b.names.findLeased(b.ctx, b.txn, tn); err != nil || d != nil {
			return nil, nil, false, err
		}
	}
	if alias == "" {
		alias = name
	}
	n := &virtualNode{vt: vt, db: b.names.db}
	for _, c := range vt.Cols {
		n.cols = append(n.cols, resultColumn{name: c.Name, typ: c.Typ, table: alias})
	}
	return n, &scope{cols: n.cols}, true, nil
}
