package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
)

// Decorrelation of EXISTS. A correlated subquery runs once per outer
// row; an EXISTS whose only tie to the outer row is one equality between
// an expression of its own tables and one of the outer row's,
//
//	EXISTS (SELECT … FROM b WHERE b.x = a.y AND p(b))
//
// is the same as the uncorrelated
//
//	COALESCE(a.y IN (SELECT b.x FROM b WHERE p(b) AND b.x IS NOT NULL), false)
//
// in any context (EXISTS is never NULL; a NULL a.y matches nothing), and
// the IN set is computed once per statement and searched in O(log n)
// (sem inSetOf): a semi-join, and with NOT around it an anti-join. A
// subquery that still names the outer row once rewritten (in FROM, say)
// is planned as written.

// decorrelateExists returns the rewritten form of the EXISTS sq in scope
// sc, planned; ok false if sq is not of that shape.
func (b *builder) decorrelateExists(sq *tree.Subquery, sc *scope) (tree.Expr, bool, error) {
	sel := unparenSelect(sq.Select)
	if sel == nil || sel.With != nil || !limitKeepsARow(sel.Limit) {
		return nil, false, nil
	}
	clause, ok := sel.Select.(*tree.SelectClause)
	if !ok || len(clause.From.Tables) == 0 || clause.Where == nil || clause.GroupBy != nil || clause.Having != nil ||
		clause.Window != nil || hasAggregate(selectExprsOf(clause)...) {
		return nil, false, nil
	}
	// The subquery's own columns, to tell its names from the outer row's.
	cb := &builder{ctx: b.ctx, txn: b.txn, names: b.names, sema: b.sema, subqueries: map[*tree.Subquery]*subquery{}, ctes: b.ctes, stats: b.stats}
	_, inner, err := cb.buildFrom(clause.From.Tables, nil)
	if err != nil {
		return nil, false, nil //nolint:nilerr // planned as written, which reports it
	}
	const (
		none = iota
		innerOnly
		outerOnly
		mixed
	)
	side := func(e tree.Expr) int {
		s := none
		_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
			switch n := x.(type) {
			case *tree.Subquery:
				s = mixed // what it names is not known here
				return false, x, nil
			case *tree.UnresolvedName:
				this := outerOnly
				if n.Star {
					this = mixed
				} else if _, err := inner.resolve(n); err == nil {
					this = innerOnly
				} else if _, err := sc.resolve(n); err != nil {
					this = mixed // neither's (an enclosing query's, or an error)
				}
				if s == none {
					s = this
				} else if s != this {
					s = mixed
				}
				return false, x, nil
			}
			return true, x, nil
		})
		return s
	}
	var innerKey, outerKey tree.Expr
	var rest tree.Expr
	for _, c := range astConjuncts(clause.Where.Expr) {
		if cmp, ok := c.(*tree.ComparisonExpr); ok && cmp.Operator.Symbol == treecmp.EQ && innerKey == nil {
			l, r := side(cmp.Left), side(cmp.Right)
			if l == innerOnly && r == outerOnly {
				innerKey, outerKey = cmp.Left, cmp.Right
				continue
			}
			if l == outerOnly && r == innerOnly {
				innerKey, outerKey = cmp.Right, cmp.Left
				continue
			}
		}
		if s := side(c); s != none && s != innerOnly {
			return nil, false, nil // names the outer row otherwise
		}
		rest = andAST(rest, c)
	}
	if innerKey == nil {
		return nil, false, nil
	}
	rest = andAST(rest, &tree.IsNotNullExpr{Expr: innerKey})
	set := &tree.Subquery{Select: &tree.ParenSelect{Select: &tree.Select{Select: &tree.SelectClause{
		Exprs: tree.SelectExprs{{Expr: innerKey}},
		From:  clause.From,
		Where: tree.NewWhere(tree.AstWhere, rest),
	}}}}
	if err := b.planSubquery(set, sc); err != nil {
		delete(b.subqueries, set)
		return nil, false, nil //nolint:nilerr // planned as written, which reports it
	}
	if b.subqueries[set].correlated {
		delete(b.subqueries, set)
		return nil, false, nil
	}
	left, err := b.resolveNames(outerKey, sc)
	if err != nil {
		return nil, false, err
	}
	in := &tree.ComparisonExpr{Operator: treecmp.MakeComparisonOperator(treecmp.In), Left: left, Right: set}
	return &tree.CoalesceExpr{Name: "COALESCE", Exprs: tree.Exprs{in, tree.DBoolFalse}}, true, nil
}

// unparenSelect is the query of a subquery; nil if it is not a plain one.
func unparenSelect(s tree.SelectStatement) *tree.Select {
	for {
		p, ok := s.(*tree.ParenSelect)
		if !ok {
			return nil
		}
		if inner, ok := p.Select.Select.(*tree.ParenSelect); ok {
			s = inner
			continue
		}
		return p.Select
	}
}

// limitKeepsARow reports whether a LIMIT leaves EXISTS's answer alone:
// none, or a constant count of at least one without OFFSET.
func limitKeepsARow(l *tree.Limit) bool {
	switch {
	case l == nil:
		return true
	case l.Offset != nil:
		return false
	case l.LimitAll || l.Count == nil:
		return true
	}
	switch c := l.Count.(type) {
	case *tree.NumVal:
		v, err := c.AsInt64()
		return err == nil && v >= 1
	case *tree.DInt:
		return *c >= 1
	}
	return false
}

// astConjuncts splits an unresolved condition at its ANDs.
func astConjuncts(e tree.Expr) []tree.Expr {
	switch x := e.(type) {
	case *tree.AndExpr:
		return append(astConjuncts(x.Left), astConjuncts(x.Right)...)
	case *tree.ParenExpr:
		return astConjuncts(x.Expr)
	}
	return []tree.Expr{e}
}

func andAST(a, b tree.Expr) tree.Expr {
	if a == nil {
		return b
	}
	return &tree.AndExpr{Left: a, Right: b}
}
