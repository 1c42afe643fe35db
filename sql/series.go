package sql

import (
	"strings"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// seriesNode is generate_series(start, stop [, step]) in FROM: the
// integers from start to stop, step apart. Its arguments are evaluated
// when it starts, so they may name the enclosing query's columns (a
// correlated subquery's FROM).
type seriesNode struct {
	args []tree.TypedExpr
	cols []resultColumn

	started bool
	it      srfIter
}

// buildSeries plans a function call in FROM: generate_series over
// integers, or unnest, the set-returning functions so far.
func (b *builder) buildSeries(rf *tree.RowsFromExpr, as tree.AliasClause, ordinality bool) (planNode, *scope, error) {
	f, ok := rf.Items[0].(*tree.FuncExpr)
	if len(rf.Items) != 1 || !ok {
		return nil, nil, pgerror.Unsupported("ROWS FROM is not supported yet")
	}
	name := strings.ToLower(tree.AsString(f.Func))
	name = strings.TrimPrefix(name, "pg_catalog.")
	if name == "pg_partition_ancestors" {
		return b.buildPartitionAncestors(f, as, ordinality)
	}
	if ordinality {
		n, sc, err := b.buildSeries(rf, as, false)
		if err != nil {
			return nil, nil, err
		}
		return withOrdinality(n, sc, as)
	}
	if p, sc, err := b.userFunctionTable(f, as); err != nil || p != nil {
		return p, sc, err
	}
	if name == "unnest" {
		return b.buildUnnest(f, as)
	}
	if srf, ok := jsonSRFs[name]; ok {
		return b.buildJSONSRF(f, name, srf, as)
	}
	if name != "generate_series" {
		return b.buildFuncScan(f, name, as)
	}
	if len(f.Exprs) < 2 || len(f.Exprs) > 3 {
		return nil, nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function generate_series with %d arguments does not exist", len(f.Exprs))
	}
	if tn, sc, ok, err := b.buildTimeSeries(f, as); ok {
		return tn, sc, err
	}
	n := &seriesNode{}
	typ := types.Int4
	for _, a := range f.Exprs {
		te, err := b.typeCheck(a, &scope{}, types.Int)
		if err != nil {
			return nil, nil, err
		}
		if te.ResolvedType().Family() != types.IntFamily && te.ResolvedType().Family() != types.UnknownFamily {
			return nil, nil, pgerror.Unsupported("generate_series over %s is not supported yet", te.ResolvedType().SQLString())
		}
		// The result is an int4 when every argument is, as PostgreSQL
		// picks the int4 variant then.
		if sem.PGIntWidth(te) > 32 {
			typ = types.Int
		}
		n.args = append(n.args, te)
	}
	alias, col := "generate_series", "generate_series"
	if as.Alias != "" {
		alias, col = string(as.Alias), string(as.Alias)
	}
	if len(as.Cols) > 0 {
		col = string(as.Cols[0].Name)
	}
	n.cols = []resultColumn{{name: col, typ: typ, table: alias}}
	return n, &scope{cols: n.cols}, nil
}

func (n *seriesNode) columns() []resultColumn { return n.cols }

func (n *seriesNode) explain() (string, []*planNode) {
	var args []string
	for _, a := range n.args {
		args = append(args, tree.AsString(a))
	}
	return "generate_series(" + strings.Join(args, ", ") + ")", nil
}

// buildPartitionAncestors is pg_partition_ancestors(rel) in FROM: no
// table is partitioned, so the one row is rel itself (and 1 WITH
// ORDINALITY), which psql's \d asks for when a table has triggers.
func (b *builder) buildPartitionAncestors(f *tree.FuncExpr, as tree.AliasClause, ordinality bool) (planNode, *scope, error) {
	if len(f.Exprs) != 1 {
		return nil, nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function pg_partition_ancestors with %d arguments does not exist", len(f.Exprs))
	}
	te, err := b.typeCheck(&tree.CastExpr{Expr: f.Exprs[0], Type: types.RegClass}, &scope{}, types.RegClass)
	if err != nil {
		return nil, nil, err
	}
	alias := "pg_partition_ancestors"
	if as.Alias != "" {
		alias = string(as.Alias)
	}
	names := []string{"relid", "ordinality"}
	for i, c := range as.Cols {
		if i < len(names) {
			names[i] = string(c.Name)
		}
	}
	row := []tree.TypedExpr{te}
	cols := []resultColumn{{name: names[0], typ: types.RegClass, table: alias}}
	if ordinality {
		row = append(row, tree.NewDInt(1))
		cols = append(cols, resultColumn{name: names[1], typ: types.Int, table: alias})
	}
	n := &valuesNode{rows: [][]tree.TypedExpr{row}, cols: cols}
	return n, &scope{cols: cols}, nil
}

func (n *seriesNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		it, err := startSRF(r, n.args, n.cols[0].typ, startIntSeries)
		if err != nil {
			return nil, err
		}
		n.it = it
	}
	return nextFrom(r, &n.it)
}

// unnestNode is unnest(array) in FROM: the array's elements, one per row.
// Its argument is evaluated when it starts, like generate_series's.
type unnestNode struct {
	arg     tree.TypedExpr
	cols    []resultColumn
	started bool
	elems   tree.Datums
}

func (b *builder) buildUnnest(f *tree.FuncExpr, as tree.AliasClause) (planNode, *scope, error) {
	if len(f.Exprs) != 1 {
		return nil, nil, pgerror.Unsupported("unnest of several arrays is not supported yet")
	}
	te, err := b.typeCheck(f.Exprs[0], &scope{}, types.AnyArray)
	if err != nil {
		return nil, nil, lateralUnnestError(err)
	}
	if te.ResolvedType().Family() != types.ArrayFamily {
		return nil, nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function unnest(%s) does not exist", te.ResolvedType().SQLString())
	}
	alias, col := "unnest", "unnest"
	if as.Alias != "" {
		alias, col = string(as.Alias), string(as.Alias)
	}
	if len(as.Cols) > 0 {
		col = string(as.Cols[0].Name)
	}
	n := &unnestNode{arg: te, cols: []resultColumn{{name: col, typ: te.ResolvedType().ArrayContents(), table: alias}}}
	return n, &scope{cols: n.cols}, nil
}

func (n *unnestNode) columns() []resultColumn { return n.cols }

func (n *unnestNode) explain() (string, []*planNode) {
	return "unnest(" + tree.AsString(n.arg) + ")", nil
}

func (n *unnestNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		d, err := r.evalIn(n.arg, nil)
		if err != nil {
			return nil, err
		}
		if arr, ok := d.(*tree.DArray); ok {
			n.elems = arr.Array
		}
	}
	if len(n.elems) == 0 {
		return nil, nil
	}
	d := n.elems[0]
	n.elems = n.elems[1:]
	return tree.Datums{d}, nil
}

// lateralUnnestError: unnest in FROM sees no other FROM item's columns
// (it would be LATERAL); its argument's unknown column says so, 0A000.
func lateralUnnestError(err error) error {
	if pgerror.CodeOf(err) == pgerror.CodeUndefinedColumn {
		return pgerror.Unsupported("unnest of a column of another FROM item (LATERAL) is not supported yet: unnest it in the select list")
	}
	return err
}
