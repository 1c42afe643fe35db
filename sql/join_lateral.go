package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// LATERAL: a subquery or function in FROM that names columns of the FROM
// items before it (through INNER and LEFT joins only, as in PostgreSQL)
// is planned for each of their rows (PostgreSQL's nested
// loop with parameters). The right side is planned as a correlated
// subquery is (the left side's columns are its outer columns) and built
// anew for every left row; a LATERAL item that names nothing of the left
// side is an ordinary join. Functions in FROM are implicitly LATERAL, as
// in PostgreSQL.

// lateralRight reports whether te is a FROM item that may see the items
// before it, and returns it.
func (b *builder) lateralRight(te tree.TableExpr) (*tree.AliasedTableExpr, bool) {
	t, ok := te.(*tree.AliasedTableExpr)
	if !ok {
		return nil, false
	}
	if t.Lateral {
		return t, true
	}
	_, fn := t.Expr.(*tree.RowsFromExpr)
	return t, fn
}

// lateralChild returns how the LATERAL item t is planned with the
// columns of lsc, the FROM items before it, as its outer columns:
// correlated reports whether it names them.
func (b *builder) lateralChild(lsc *scope, t *tree.AliasedTableExpr) func() (p planNode, sc *scope, correlated bool, err error) {
	ctes := b.ctes
	// Inside a subquery, the scopes above this one can be named too (see
	// builder.outer): the left side's columns come first.
	outer, parent, width := lsc, (*builder)(nil), 0
	if b.outer != nil {
		parent, width = b, len(lsc.cols)
		outer = &scope{cols: append(append([]resultColumn{}, lsc.cols...), b.outer.cols...)}
	}
	return func() (p planNode, sc *scope, correlated bool, err error) {
		cb := &builder{ctx: b.ctx, txn: b.txn, names: b.names, sema: b.sema, subqueries: b.subqueries, outer: outer, ctes: ctes, deps: b.deps, priv: b.priv, privAs: b.privAs, stats: b.stats,
			parent: parent, parentWidth: width}
		switch x := t.Expr.(type) {
		case *tree.Subquery:
			if t.As.Alias == "" {
				return nil, nil, false, pgerror.New(pgerror.CodeSyntaxError, "subquery in FROM must have an alias")
			}
			return cb.buildDerivedSeeing(&tree.Select{Select: x.Select}, t.As, outer)
		case *tree.RowsFromExpr:
			p, sc, err = cb.buildSeries(x, t.As, t.Ordinality)
			return p, sc, cb.usedOuter, err
		}
		return nil, nil, false, pgerror.Unsupported("LATERAL %s is not supported yet", tree.AsString(t.Expr))
	}
}

// checkNoLateralRef plans the LATERAL item t on the right of a RIGHT or
// FULL join, whose left side has the scope lsc, to find whether it names
// the left side, which PostgreSQL refuses: the left side's rows are not
// there for each of its rows when it keeps its unmatched ones.
func (b *builder) checkNoLateralRef(lsc *scope, t *tree.AliasedTableExpr) error {
	seen := &scope{cols: append([]resultColumn{}, lsc.cols...)}
	for i := range seen.cols {
		seen.cols[i].noLateral = true
	}
	_, _, _, err := b.lateralChild(seen, t)()
	return err
}

// lateralRefError is PostgreSQL's error for a LATERAL reference to a
// FROM item through a RIGHT or FULL join.
func lateralRefError(table string) error {
	return pgerror.WithDetail(pgerror.Newf("42P10", "invalid reference to FROM-clause entry for table %q", table),
		"The combining JOIN type must be INNER or LEFT for a LATERAL reference.")
}

// buildLateral joins left (of scope lsc) to the LATERAL item t, of kind
// inner or left, with the join condition jc (nil for none, ON, USING or
// NATURAL). It returns the join and the joined scope.
func (b *builder) buildLateral(left planNode, lsc *scope, t *tree.AliasedTableExpr, kind joinKind, jc tree.JoinCond) (planNode, *scope, error) {
	child := b.lateralChild(lsc, t)
	right, rsc, correlated, err := child()
	if err != nil {
		return nil, nil, err
	}
	if _, ok := jc.(tree.NaturalJoinCond); ok {
		jc = naturalUsing(lsc.cols, rsc.cols)
	}
	using, _ := jc.(*tree.UsingJoinCond)
	cols := joinColumns(lsc.cols, rsc.cols, using != nil)
	sc := &scope{cols: cols}
	var on tree.TypedExpr
	switch c := jc.(type) {
	case nil:
	case *tree.OnJoinCond:
		if on, err = b.typeCheckBool(c.Expr, sc, "JOIN/ON"); err != nil {
			return nil, nil, err
		}
	case *tree.UsingJoinCond:
		// An inner or left join: no node of a full join's.
		if on, _, err = b.usingCond(kind, lsc, rsc, cols, c); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, pgerror.Newf(pgerror.CodeInternalError, "join condition %T", jc)
	}
	if !correlated {
		// Names nothing of the left side: an ordinary join.
		return &joinNode{left: left, right: right, kind: kind, leftCols: len(lsc.cols), on: on, cols: cols}, sc, nil
	}
	build := func() (planNode, error) {
		p, _, _, err := child()
		return p, err
	}
	return &lateralJoinNode{left: left, build: build, kind: kind, on: on, cols: cols, leftCols: len(lsc.cols), shape: right,
		chained: b.outer != nil, runSubquery: b.runSubquery}, sc, nil
}

// lateralJoinNode joins each left row to the rows of the right side
// planned for it (see buildLateral).
type lateralJoinNode struct {
	left     planNode
	build    func() (planNode, error)
	kind     joinKind // inner or left
	on       tree.TypedExpr
	cols     []resultColumn
	leftCols int
	// shape is the right side as planned once, for EXPLAIN.
	shape planNode
	// chained: inside a subquery, the right side's outer row continues
	// with the enclosing query's; runSubquery runs the right side's own
	// subqueries from its rows.
	chained     bool
	runSubquery func(r *runner, sq *tree.Subquery, row tree.Datums, all bool) (tree.Datum, error)

	cur     tree.Datums
	right   planNode
	sub     *runner
	matched bool
}

func (n *lateralJoinNode) columns() []resultColumn { return n.cols }

func (n *lateralJoinNode) explain() (string, []*planNode) {
	return fmt.Sprintf("lateral join (%s)", n.kind), []*planNode{&n.left, &n.shape}
}

func (n *lateralJoinNode) next(r *runner) (tree.Datums, error) {
	for {
		if n.right == nil {
			row, err := n.left.next(r)
			if err != nil || row == nil {
				return nil, err
			}
			n.cur = append(tree.Datums(nil), row...)
			if n.right, err = n.build(); err != nil {
				return nil, err
			}
			ev := *r.eval
			ev.Outer = n.cur
			if n.chained {
				ev.Outer = append(append(tree.Datums(nil), n.cur...), r.eval.Outer...)
			}
			sub := *r
			sub.eval = &ev
			ev.Subquery = func(sq *tree.Subquery, row tree.Datums, all bool) (tree.Datum, error) {
				return n.runSubquery(&sub, sq, row, all)
			}
			n.sub, n.matched = &sub, false
		}
		rr, err := n.right.next(n.sub)
		if err != nil {
			return nil, err
		}
		if rr == nil {
			n.right = nil
			if n.kind == leftJoin && !n.matched {
				out := append(make(tree.Datums, 0, len(n.cols)), n.cur...)
				for range n.cols[n.leftCols:] {
					out = append(out, tree.DNull)
				}
				return out, nil
			}
			continue
		}
		out, ok, err := joinedRow(r, n.on, len(n.cols), n.cur, rr)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		n.matched = true
		return out, nil
	}
}
