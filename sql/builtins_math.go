package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// Numeric functions.
var _ = addBuiltins(map[string][]tree.Overload{
	"abs": {
		numFn(types.Int, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			v := tree.MustBeDInt(a[0])
			if v < 0 {
				if v == -v {
					return nil, errIntOutOfRange
				}
				v = -v
			}
			return tree.NewDInt(v), nil
		}),
		numFn(types.Float, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			v := *a[0].(*tree.DFloat)
			if v < 0 {
				v = -v
			}
			return tree.NewDFloat(v), nil
		}),
		numFn(types.Decimal, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			r := &tree.DDecimal{}
			r.Decimal.Abs(&a[0].(*tree.DDecimal).Decimal)
			return r, nil
		}),
	},
	// GREATEST and LEAST take arguments of one common type and, unlike
	// other functions, ignore NULLs: NULL only when every argument is.
	"greatest": {extremumFn(1)},
	"least":    {extremumFn(-1)},
})

// extremumFn is GREATEST (sign 1) or LEAST (-1).
func extremumFn(sign int) tree.Overload {
	return tree.Overload{
		Types: tree.HomogeneousType{}, ReturnType: tree.IdentityReturnType(0),
		Volatility: volatility.Immutable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			best := tree.Datum(tree.DNull)
			for _, d := range a {
				if d == tree.DNull {
					continue
				}
				if best == tree.DNull {
					best = d
					continue
				}
				c, err := e.compare(d, best)
				if err != nil {
					return nil, err
				}
				if c*sign > 0 {
					best = d
				}
			}
			return best, nil
		}),
	}
}

func numFn(t *types.T, f builtinFn) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "x", Typ: t}}, ReturnType: tree.FixedReturnType(t),
		Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: f,
	}
}
