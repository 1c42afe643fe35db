package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// funcScanNode is a function call in FROM that has no node of its own
// (series.go has generate_series, unnest and the jsonb ones'): a
// set-returning function (srfFn) gives its rows, any other function one
// row with its value, as in PostgreSQL (SELECT * FROM upper('a')). A
// function returning records (information_schema._pg_expandarray) gives a
// column per field. Its arguments are evaluated when it starts, so they
// may name the enclosing query's columns (a correlated subquery's FROM).
type funcScanNode struct {
	call *tree.FuncExpr
	cols []resultColumn
	// fields: the call returns records, spread over the columns.
	fields bool

	started bool
	it      srfIter
}

// buildFuncScan plans a function call in FROM.
func (b *builder) buildFuncScan(f *tree.FuncExpr, name string, as tree.AliasClause) (planNode, *scope, error) {
	te, err := b.typeCheck(f, &scope{}, types.AnyElement)
	if err != nil {
		return nil, nil, err
	}
	alias := name
	if as.Alias != "" {
		alias = string(as.Alias)
	}
	call, ok := te.(*tree.FuncExpr)
	if !ok {
		// Folded to a constant (upper(NULL)): its one row.
		col := alias
		if len(as.Cols) > 0 {
			col = string(as.Cols[0].Name)
		}
		cols := []resultColumn{{name: col, typ: te.ResolvedType(), table: alias}}
		return &valuesNode{rows: [][]tree.TypedExpr{{te}}, cols: cols}, &scope{cols: cols}, nil
	}
	if call.ResolvedOverload() == nil || call.ResolvedOverload().Class != tree.NormalClass {
		return nil, nil, pgerror.Unsupported("function %s in FROM is not supported yet", name)
	}
	n := &funcScanNode{call: call}
	typ := call.ResolvedType()
	if typ.Family() == types.TupleFamily && len(typ.TupleLabels()) == len(typ.TupleContents()) {
		n.fields = true
		for i, ft := range typ.TupleContents() {
			col := typ.TupleLabels()[i]
			if i < len(as.Cols) {
				col = string(as.Cols[i].Name)
			}
			n.cols = append(n.cols, resultColumn{name: col, typ: ft, table: alias})
		}
	} else {
		col := alias
		if len(as.Cols) > 0 {
			col = string(as.Cols[0].Name)
		}
		n.cols = []resultColumn{{name: col, typ: typ, table: alias}}
	}
	return n, &scope{cols: n.cols}, nil
}

func (n *funcScanNode) columns() []resultColumn { return n.cols }

func (n *funcScanNode) explain() (string, []*planNode) {
	return "function " + tree.AsString(n.call), nil
}

func (n *funcScanNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		it, err := n.start(r)
		if err != nil {
			return nil, err
		}
		n.it = it
	}
	if n.it == nil {
		return nil, nil
	}
	if err := r.checkCancel(); err != nil {
		return nil, err
	}
	d, ok, err := n.it()
	if err != nil || !ok {
		n.it = nil
		return nil, err
	}
	if !n.fields {
		return tree.Datums{d}, nil
	}
	if t, ok := d.(*tree.DTuple); ok {
		return append(tree.Datums(nil), t.D...), nil
	}
	out := make(tree.Datums, len(n.cols)) // a NULL record: NULL fields
	for i := range out {
		out[i] = tree.DNull
	}
	return out, nil
}

// start runs the call: a set-returning one's iterator (nil when an
// argument is NULL: no rows), or one row with a scalar function's value.
func (n *funcScanNode) start(r *runner) (srfIter, error) {
	fn, srf := n.call.ResolvedOverload().Fn.(srfFn)
	if !srf {
		d, err := r.evalIn(n.call, nil)
		if err != nil {
			return nil, err
		}
		return sliceIter([]tree.Datum{d}), nil
	}
	args := make([]tree.TypedExpr, len(n.call.Exprs))
	for i, a := range n.call.Exprs {
		args[i] = a.(tree.TypedExpr)
	}
	return startSRF(r, args, n.call.ResolvedType(), func(vals tree.Datums, ret *types.T) (srfIter, error) {
		return fn.begin(r, vals, ret)
	})
}

// startSRF evaluates a set-returning function's arguments (in no row: a
// function in FROM sees only the enclosing query's) and starts it; a nil
// iterator when an argument is NULL (the functions are strict).
func startSRF(r *runner, args []tree.TypedExpr, ret *types.T, start func(tree.Datums, *types.T) (srfIter, error)) (srfIter, error) {
	vals := make(tree.Datums, len(args))
	for i, a := range args {
		d, err := r.evalIn(a, nil)
		if err != nil || d == tree.DNull {
			return nil, err
		}
		vals[i] = d
	}
	return start(vals, ret)
}

// nextFrom is the next one-column row of a started function in FROM; nil
// at the end (it is nil once the function is done).
func nextFrom(r *runner, it *srfIter) (tree.Datums, error) {
	if *it == nil {
		return nil, nil
	}
	if err := r.checkCancel(); err != nil {
		return nil, err
	}
	d, ok, err := (*it)()
	if err != nil || !ok {
		*it = nil
		return nil, err
	}
	return tree.Datums{d}, nil
}

// ordinalityNode is a function in FROM WITH ORDINALITY: its rows numbered
// from 1 in a last column.
type ordinalityNode struct {
	src  planNode
	cols []resultColumn
	n    int64
}

// withOrdinality adds the ordinality column to a function in FROM,
// named by the alias's next column name if it has one.
func withOrdinality(src planNode, sc *scope, as tree.AliasClause) (planNode, *scope, error) {
	name, table := "ordinality", ""
	if cols := src.columns(); len(cols) > 0 {
		table = cols[0].table
		if len(as.Cols) > len(cols) {
			name = string(as.Cols[len(cols)].Name)
		}
	}
	n := &ordinalityNode{src: src, cols: append(append([]resultColumn{}, sc.cols...), resultColumn{name: name, typ: types.Int, table: table})}
	return n, &scope{cols: n.cols}, nil
}

func (n *ordinalityNode) columns() []resultColumn { return n.cols }

func (n *ordinalityNode) explain() (string, []*planNode) {
	return "ordinality", []*planNode{&n.src}
}

func (n *ordinalityNode) next(r *runner) (tree.Datums, error) {
	row, err := n.src.next(r)
	if err != nil || row == nil {
		return nil, err
	}
	n.n++
	return append(append(make(tree.Datums, 0, len(row)+1), row...), tree.NewDInt(tree.DInt(n.n))), nil
}
