package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Window functions in a grouped query. PostgreSQL evaluates the windows
// after the grouping: their arguments, PARTITION BY and ORDER BY see the
// groups (grouped columns and aggregates), not the input rows. So a
// grouped SELECT with windows is planned as a window SELECT over the
// grouped one:
//
//	SELECT a, sum(b), rank() OVER (ORDER BY sum(b) DESC) FROM t GROUP BY a
//
// becomes
//
//	SELECT "_g1" AS a, "_g2" AS sum, rank() OVER (ORDER BY "_g2" DESC)
//	FROM (SELECT a AS "_g1", sum(b) AS "_g2" FROM t GROUP BY a) AS "_g"
//
// Every aggregate call outside a window call's own name, every GROUP BY
// expression and every column reference moves into the inner SELECT (a
// column that is neither grouped nor aggregated fails there with
// PostgreSQL's 42803); the window calls, DISTINCT, ORDER BY and LIMIT stay
// outside.

// windowsOverGroups reports whether s is a grouped SELECT with window
// calls: GROUP BY, HAVING, or an aggregate anywhere in the select list or
// ORDER BY (a window's arguments and clauses included).
func windowsOverGroups(s *tree.SelectClause, orderBy tree.OrderBy) bool {
	exprs := selectExprsOf(s)
	for _, o := range orderBy {
		exprs = append(exprs, o.Expr)
	}
	if !hasWindow(exprs...) {
		return false
	}
	if len(s.GroupBy) > 0 || s.Having != nil || hasAggregate(exprs...) {
		return true
	}
	found := false
	for _, e := range exprs {
		tree.WalkExprConst(visitFuncs(func(f *tree.FuncExpr) {
			if f.WindowDef != nil && hasAggregate(windowParts(f)...) {
				found = true
			}
		}), e)
	}
	for _, w := range s.Window {
		found = found || hasAggregate(windowDefParts(w)...)
	}
	return found
}

// visitFuncs calls fn for every function call an expression holds.
type visitFuncs func(*tree.FuncExpr)

func (v visitFuncs) VisitPre(e tree.Expr) (bool, tree.Expr) {
	if f, ok := e.(*tree.FuncExpr); ok {
		v(f)
	}
	return true, e
}

func (v visitFuncs) VisitPost(e tree.Expr) tree.Expr { return e }

// windowParts are the expressions of a window call evaluated on its input
// rows: arguments, FILTER, PARTITION BY and ORDER BY.
func windowParts(f *tree.FuncExpr) []tree.Expr {
	out := append([]tree.Expr{}, f.Exprs...)
	if f.Filter != nil {
		out = append(out, f.Filter)
	}
	return append(out, windowDefParts(f.WindowDef)...)
}

func windowDefParts(w *tree.WindowDef) []tree.Expr {
	if w == nil {
		return nil
	}
	out := append([]tree.Expr{}, w.Partitions...)
	for _, o := range w.OrderBy {
		out = append(out, o.Expr)
	}
	return out
}

// splitGroupedWindows rewrites s (see the file comment) into the outer
// window SELECT and its ORDER BY.
func splitGroupedWindows(s *tree.SelectClause, orderBy tree.OrderBy) (*tree.SelectClause, tree.OrderBy, error) {
	if hasGroupingSets(s.GroupBy) {
		return nil, nil, pgerror.Unsupported("window functions over GROUPING SETS, ROLLUP or CUBE are not supported yet")
	}
	for _, se := range s.Exprs {
		if star(se.Expr) {
			return nil, nil, pgerror.Unsupported("* in a grouped query with window functions is not supported yet")
		}
	}
	inner := &tree.SelectClause{From: s.From, Where: s.Where, Having: s.Having}
	// lifted maps an expression's text to the inner column computing it;
	// groupText holds the GROUP BY expressions' texts.
	lifted := map[string]string{}
	groupText := map[string]bool{}
	lift := func(e tree.Expr) *tree.UnresolvedName {
		text := tree.AsString(e)
		name, ok := lifted[text]
		if !ok {
			name = fmt.Sprintf("_g%d", len(lifted)+1)
			lifted[text] = name
			inner.Exprs = append(inner.Exprs, tree.SelectExpr{Expr: e, As: tree.UnrestrictedName(name)})
		}
		return &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{name}}
	}
	for _, ge := range s.GroupBy {
		if n, ok := ge.(*tree.NumVal); ok {
			// A select-list position: the inner SELECT groups by the
			// expression itself.
			i, err := n.AsInt64()
			if err != nil || i < 1 || int(i) > len(s.Exprs) {
				return nil, nil, pgerror.Newf("42P10", "GROUP BY position %s is not in select list", n)
			}
			ge = s.Exprs[i-1].Expr
		} else if n, ok := ge.(*tree.UnresolvedName); ok && n.NumParts == 1 && !n.Star {
			// Perhaps an output column's name: the inner SELECT carries
			// that expression under the name, and its GROUP BY resolves
			// the name as PostgreSQL does (an input column first).
			for _, se := range s.Exprs {
				if string(se.As) == n.Parts[0] && !hasWindow(se.Expr) {
					text := tree.AsString(se.Expr)
					if _, ok := lifted[text]; !ok {
						lifted[text] = n.Parts[0]
						inner.Exprs = append(inner.Exprs, se)
					}
					groupText[text] = true
					break
				}
			}
		}
		if hasWindow(ge) {
			return nil, nil, pgerror.New("42P20", "window functions are not allowed in GROUP BY")
		}
		inner.GroupBy = append(inner.GroupBy, ge)
		groupText[tree.AsString(ge)] = true
	}
	var rewrite func(e tree.Expr) (tree.Expr, error)
	rewriteDef := func(w *tree.WindowDef) (*tree.WindowDef, error) {
		if w == nil {
			return nil, nil
		}
		c := *w
		c.Partitions = make(tree.Exprs, len(w.Partitions))
		for i, p := range w.Partitions {
			var err error
			if c.Partitions[i], err = rewrite(p); err != nil {
				return nil, err
			}
		}
		c.OrderBy = make(tree.OrderBy, len(w.OrderBy))
		for i, o := range w.OrderBy {
			oc := *o
			var err error
			if oc.Expr, err = rewrite(o.Expr); err != nil {
				return nil, err
			}
			c.OrderBy[i] = &oc
		}
		return &c, nil
	}
	rewrite = func(e tree.Expr) (tree.Expr, error) {
		return tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
			if groupText[tree.AsString(x)] {
				return false, lift(x), nil
			}
			switch n := x.(type) {
			case *tree.Subquery:
				return false, x, nil
			case *tree.UnresolvedName:
				return false, lift(n), nil
			case *tree.FuncExpr:
				if n.WindowDef != nil {
					c := *n
					c.Exprs = make(tree.Exprs, len(n.Exprs))
					for i, a := range n.Exprs {
						var err error
						if c.Exprs[i], err = rewrite(a); err != nil {
							return false, nil, err
						}
					}
					if n.Filter != nil {
						var err error
						if c.Filter, err = rewrite(n.Filter); err != nil {
							return false, nil, err
						}
					}
					var err error
					if c.WindowDef, err = rewriteDef(n.WindowDef); err != nil {
						return false, nil, err
					}
					return false, &c, nil
				}
				if isAggregate(n) || isCountStar(n) || isGroupingFn(n) {
					return false, lift(n), nil
				}
			}
			return true, x, nil
		})
	}
	outer := &tree.SelectClause{Distinct: s.Distinct}
	for _, se := range s.Exprs {
		e, err := rewrite(se.Expr)
		if err != nil {
			return nil, nil, err
		}
		as := se.As
		if as == "" {
			// The name the column would have had (FigureColname), not
			// the inner column's.
			name := figureColname(se.Expr)
			if name == "" {
				name = "?column?"
			}
			as = tree.UnrestrictedName(name)
		}
		outer.Exprs = append(outer.Exprs, tree.SelectExpr{Expr: e, As: as})
	}
	for _, d := range s.DistinctOn {
		e, err := rewrite(d)
		if err != nil {
			return nil, nil, err
		}
		outer.DistinctOn = append(outer.DistinctOn, e)
	}
	for _, w := range s.Window {
		c, err := rewriteDef(w)
		if err != nil {
			return nil, nil, err
		}
		outer.Window = append(outer.Window, c)
	}
	var outerOrder tree.OrderBy
	for _, o := range orderBy {
		oc := *o
		// A position or an output column's name stays: it names the
		// outer select list.
		if !isOutputRef(o.Expr, s.Exprs) {
			var err error
			if oc.Expr, err = rewrite(o.Expr); err != nil {
				return nil, nil, err
			}
		}
		outerOrder = append(outerOrder, &oc)
	}
	if len(inner.Exprs) == 0 {
		// Nothing of the groups is used above (SELECT count(*) OVER ()
		// FROM t GROUP BY a): the inner SELECT still yields one row per
		// group.
		inner.Exprs = tree.SelectExprs{{Expr: tree.NewDInt(0), As: "_g0"}}
	}
	outer.From = tree.From{Tables: tree.TableExprs{&tree.AliasedTableExpr{
		Expr: &tree.Subquery{Select: &tree.ParenSelect{Select: &tree.Select{Select: inner}}},
		As:   tree.AliasClause{Alias: "_g"},
	}}}
	return outer, outerOrder, nil
}

// isOutputRef reports whether an ORDER BY item names an output column: a
// position, or a bare name one of exprs carries.
func isOutputRef(e tree.Expr, exprs tree.SelectExprs) bool {
	switch n := e.(type) {
	case *tree.NumVal:
		return true
	case *tree.UnresolvedName:
		if n.NumParts != 1 || n.Star {
			return false
		}
		for _, se := range exprs {
			if string(se.As) == n.Parts[0] || (se.As == "" && figureColname(se.Expr) == n.Parts[0]) {
				return true
			}
		}
	}
	return false
}
