package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// recursiveNode is a WITH RECURSIVE query, anchor UNION [ALL] term, run
// as PostgreSQL runs it: the anchor's rows are the first working table;
// the term runs with the query's name standing for the working table,
// and its rows (without those seen before, for UNION) are the next one,
// until an iteration yields none. The result is every working table's
// rows, in that order. The term is planned anew for each iteration, with
// the working table's rows as constants.
type recursiveNode struct {
	b     builder // with the WITH queries the recursive one sees
	cte   *cteEntry
	as    tree.AliasClause
	cols  []resultColumn
	all   bool
	first planNode // the anchor, planned to learn the columns
	bufferedRows
}

// maxRecursiveRows bounds a recursive query's result: a term that never
// stops (UNION ALL of a counter without a bound) fails instead of taking
// the node's memory.
const maxRecursiveRows = 1_000_000

func (b *builder) buildRecursive(cte *cteEntry, as tree.AliasClause) (*recursiveNode, error) {
	u := cte.sel.Select.(*tree.UnionClause)
	if cte.sel.OrderBy != nil || cte.sel.Limit != nil {
		return nil, pgerror.Unsupported("ORDER BY or LIMIT in a recursive query is not supported yet")
	}
	cb := &builder{ctx: b.ctx, txn: b.txn, names: b.names, sema: b.sema, subqueries: b.subqueries, ctes: b.ctes, deps: b.deps, priv: b.priv, privAs: b.privAs, stats: b.stats}
	anchor, err := cb.buildSelect(u.Left)
	if err != nil {
		return nil, err
	}
	src := visibleCols(anchor)
	if len(as.Cols) > len(src) {
		return nil, pgerror.Newf("42P10", "table %q has %d columns available but %d columns specified", as.Alias, len(src), len(as.Cols))
	}
	n := &recursiveNode{b: *cb, cte: cte, as: as, cols: renamedCols(src, as), all: u.All, first: anchor}
	return n, nil
}

func (n *recursiveNode) columns() []resultColumn { return n.cols }

// explain shows the anchor as the input: the recursive term is planned
// anew for each working table, while the query runs.
func (n *recursiveNode) explain() (string, []*planNode) {
	s := "recursive " + n.cte.name
	if n.all {
		s += " (UNION ALL)"
	}
	return s, []*planNode{&n.first}
}

func (n *recursiveNode) next(r *runner) (tree.Datums, error) {
	return n.nextFilled(func() error { return n.run(r) })
}

func (n *recursiveNode) run(r *runner) error {
	u := n.cte.sel.Select.(*tree.UnionClause)
	seen := map[string]bool{}
	// keep adds the rows not seen before (all of them for UNION ALL) to
	// the result and returns them: the next working table.
	// The result's rows and seen's keys are charged to the statement;
	// each iteration's own buffers to an account of the iteration's.
	keep := func(rows []tree.Datums) ([]tree.Datums, error) {
		var fresh []tree.Datums
		for _, row := range rows {
			if !n.all {
				k := tree.AsString(&tree.DTuple{D: row})
				if seen[k] {
					continue
				}
				if err := r.grow(rowenc.KeySize(k)); err != nil {
					return nil, err
				}
				seen[k] = true
			}
			if err := r.growRow(row); err != nil {
				return nil, err
			}
			fresh = append(fresh, row)
		}
		n.rows = append(n.rows, fresh...)
		return fresh, nil
	}
	var rows []tree.Datums
	err := r.scoped(func(it *runner) (err error) {
		rows, err = drain(it, n.first, len(n.cols))
		return err
	})
	if err != nil {
		return err
	}
	working, err := keep(rows)
	if err != nil {
		return err
	}
	for len(working) > 0 {
		if len(n.rows) > maxRecursiveRows {
			return pgerror.Newf("54000", "recursive query %q produced more than %d rows", n.cte.name, maxRecursiveRows)
		}
		cb := n.b
		bound := *n.cte
		bound.bound, bound.rows, bound.boundCols = true, working, n.cols
		cb.ctes = append(append([]cteEntry(nil), n.b.ctes...), bound)
		term, err := cb.buildSelect(u.Right)
		if err != nil {
			return err
		}
		if len(visibleCols(term)) != len(n.cols) {
			return pgerror.New(pgerror.CodeSyntaxError, "each UNION query must have the same number of columns")
		}
		err = r.scoped(func(it *runner) (err error) {
			rows, err = drain(it, term, len(n.cols))
			return err
		})
		if err != nil {
			return err
		}
		if working, err = keep(rows); err != nil {
			return err
		}
	}
	return nil
}

// drain runs p to the end and returns its rows, each cut to width
// columns (hidden ordering columns dropped), charged to r's account.
func drain(r *runner, p planNode, width int) ([]tree.Datums, error) {
	var out []tree.Datums
	for {
		row, err := p.next(r)
		if err != nil {
			return nil, err
		}
		if row == nil {
			return out, nil
		}
		row = append(tree.Datums(nil), row[:width]...)
		if err := r.growRow(row); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
}

// selectNames reports whether a SELECT names table name in a FROM clause,
// at any depth of set operations, parentheses and joins.
func selectNames(s tree.SelectStatement, name string) bool {
	switch x := s.(type) {
	case *tree.SelectClause:
		for _, te := range x.From.Tables {
			if tableExprNames(te, name) {
				return true
			}
		}
	case *tree.ParenSelect:
		return selectNames(x.Select.Select, name)
	case *tree.UnionClause:
		return selectNames(x.Left.Select, name) || selectNames(x.Right.Select, name)
	}
	return false
}

func tableExprNames(te tree.TableExpr, name string) bool {
	switch x := te.(type) {
	case *tree.TableName:
		return !x.ExplicitSchema && string(x.ObjectName) == name
	case *tree.AliasedTableExpr:
		return tableExprNames(x.Expr, name)
	case *tree.JoinTableExpr:
		return tableExprNames(x.Left, name) || tableExprNames(x.Right, name)
	case *tree.ParenTableExpr:
		return tableExprNames(x.Expr, name)
	case *tree.Subquery:
		return selectNames(x.Select, name)
	}
	return false
}
