package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Sequence functions (see sequence.go).
var _ = addBuiltins(map[string][]tree.Overload{
	"nextval": seqFn(func(e *evalCtx, d *catalog.TableDescriptor, _ tree.Datums) (tree.Datum, error) {
		v, err := e.nextval(d)
		return tree.NewDInt(tree.DInt(v)), err
	}),
	"currval": seqFn(func(e *evalCtx, d *catalog.TableDescriptor, _ tree.Datums) (tree.Datum, error) {
		v, err := e.currval(d)
		return tree.NewDInt(tree.DInt(v)), err
	}),
	"setval": append(
		seqFn(func(e *evalCtx, d *catalog.TableDescriptor, a tree.Datums) (tree.Datum, error) {
			return a[1], e.setval(d, int64(tree.MustBeDInt(a[1])), true)
		}, tree.ParamType{Name: "value", Typ: types.Int}),
		seqFn(func(e *evalCtx, d *catalog.TableDescriptor, a tree.Datums) (tree.Datum, error) {
			return a[1], e.setval(d, int64(tree.MustBeDInt(a[1])), bool(tree.MustBeDBool(a[2])))
		}, tree.ParamType{Name: "value", Typ: types.Int}, tree.ParamType{Name: "is_called", Typ: types.Bool})...),
	"lastval": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Int),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, _ tree.Datums) (tree.Datum, error) {
			if e.sess == nil || e.sess.lastSequence == 0 {
				return nil, pgerror.New("55000", "lastval is not yet defined in this session")
			}
			d, err := catalog.GetTableByID(e.ctx, e.txn, e.sess.lastSequence)
			if err != nil {
				return nil, err
			}
			if d == nil {
				return nil, pgerror.New("55000", "lastval is not yet defined in this session")
			}
			v, err := e.currval(d)
			return tree.NewDInt(tree.DInt(v)), err
		}),
	}},
})

// seqFn declares a sequence function: its first argument names the
// sequence, as text or as a regclass; more follow.
func seqFn(f func(e *evalCtx, d *catalog.TableDescriptor, args tree.Datums) (tree.Datum, error), more ...tree.ParamType) []tree.Overload {
	var out []tree.Overload
	for _, t := range []*types.T{types.String, types.RegClass} {
		out = append(out, tree.Overload{
			Types:      append(tree.ParamTypes{{Name: "sequence", Typ: t}}, more...),
			ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Volatile, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				d, err := e.sequenceByArg(a[0])
				if err != nil {
					return nil, err
				}
				return f(e, d, a)
			}),
		})
	}
	return out
}
