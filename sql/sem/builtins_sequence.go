package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
)

// Sequence functions; the sequences are package sql's (EvalCtx.Sequences).
var _ = RegisterFamily(map[string][]tree.Overload{
	"nextval": seqFn(func(e *EvalCtx, seq tree.Datum, _ tree.Datums) (tree.Datum, error) {
		v, err := e.Sequences.Nextval(e, seq)
		return tree.NewDInt(tree.DInt(v)), err
	}),
	"currval": seqFn(func(e *EvalCtx, seq tree.Datum, _ tree.Datums) (tree.Datum, error) {
		v, err := e.Sequences.Currval(e, seq)
		return tree.NewDInt(tree.DInt(v)), err
	}),
	"setval": append(
		seqFn(func(e *EvalCtx, seq tree.Datum, a tree.Datums) (tree.Datum, error) {
			return a[1], e.Sequences.Setval(e, seq, int64(tree.MustBeDInt(a[1])), true)
		}, tree.ParamType{Name: "value", Typ: types.Int}),
		seqFn(func(e *EvalCtx, seq tree.Datum, a tree.Datums) (tree.Datum, error) {
			return a[1], e.Sequences.Setval(e, seq, int64(tree.MustBeDInt(a[1])), bool(tree.MustBeDBool(a[2])))
		}, tree.ParamType{Name: "value", Typ: types.Int}, tree.ParamType{Name: "is_called", Typ: types.Bool})...),
	"lastval": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Int),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, _ tree.Datums) (tree.Datum, error) {
			if e.Sequences == nil {
				return nil, errors.AssertionFailedf("lastval outside a statement")
			}
			v, err := e.Sequences.Lastval(e)
			if err != nil {
				return nil, err
			}
			return tree.NewDInt(tree.DInt(v)), nil
		}),
	}},
})

// seqFn declares a sequence function: its first argument names the
// sequence, as text or as a regclass; more follow.
func seqFn(f func(e *EvalCtx, seq tree.Datum, args tree.Datums) (tree.Datum, error), more ...tree.ParamType) []tree.Overload {
	var out []tree.Overload
	for _, t := range []*types.T{types.String, types.RegClass} {
		out = append(out, tree.Overload{
			Types:      append(tree.ParamTypes{{Name: "sequence", Typ: t}}, more...),
			ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Volatile, Class: tree.NormalClass,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				if e.Sequences == nil {
					return nil, errors.AssertionFailedf("sequence function outside a statement")
				}
				return f(e, a[0], a)
			}),
		})
	}
	return out
}
