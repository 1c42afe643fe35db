package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// timeSeriesNode is generate_series(start, stop, step) over timestamps:
// start, start+step, ... while not past stop, each step added to the
// previous value (so month steps clamp as timestamp + interval does).
// A date start makes a timestamptz series, as PostgreSQL's cast of date
// to its preferred timestamptz does.
type timeSeriesNode struct {
	args []tree.TypedExpr
	cols []resultColumn
	tz   bool

	started bool
	it      srfIter
}

// buildTimeSeries plans generate_series over timestamps; ok is false when
// the first argument is not a date or timestamp.
func (b *builder) buildTimeSeries(f *tree.FuncExpr, as tree.AliasClause) (planNode, *scope, bool, error) {
	if len(f.Exprs) == 0 {
		return nil, nil, false, nil
	}
	first, err := b.typeCheck(f.Exprs[0], &scope{}, types.Any)
	if err != nil {
		return nil, nil, false, nil // the integer series reports it
	}
	t := first.ResolvedType()
	switch t.Family() {
	case types.TimestampFamily, types.TimestampTZFamily, types.DateFamily:
	default:
		return nil, nil, false, nil
	}
	if t.Family() != types.TimestampFamily {
		t = types.TimestampTZ
	}
	if len(f.Exprs) != 3 {
		return nil, nil, true, pgerror.Newf(pgerror.CodeUndefinedFunction, "function generate_series(%s, %s) does not exist", sqlTypeName(t), sqlTypeName(t))
	}
	n := &timeSeriesNode{tz: t.Family() == types.TimestampTZFamily}
	for i, a := range f.Exprs {
		want := t
		if i == 2 {
			want = types.Interval
		}
		te, err := b.typeCheck(&tree.CastExpr{Expr: a, Type: want, SyntaxMode: tree.CastShort}, &scope{}, want)
		if err != nil {
			return nil, nil, true, err
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
	n.cols = []resultColumn{{name: col, typ: t, table: alias}}
	return n, &scope{cols: n.cols}, true, nil
}

func sqlTypeName(t *types.T) string {
	if t.Family() == types.TimestampTZFamily {
		return "timestamp with time zone"
	}
	return "timestamp without time zone"
}

func (n *timeSeriesNode) columns() []resultColumn { return n.cols }

func (n *timeSeriesNode) explain() (string, []*planNode) {
	s := "generate_series("
	for i, a := range n.args {
		if i > 0 {
			s += ", "
		}
		s += tree.AsString(a)
	}
	return s + ")", nil
}

func (n *timeSeriesNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		it, err := startSRF(r, n.args, n.cols[0].typ, startTimeSeries(n.tz))
		if err != nil {
			return nil, err
		}
		n.it = it
	}
	return nextFrom(r, &n.it)
}
