package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The enum support functions. They read the enum's members from the type
// the argument has (its metadata), so a NULL of the type is enough, as in
// PostgreSQL's enum_first(NULL::mood).
var _ = RegisterFamily(map[string][]tree.Overload{
	"enum_first": {enumEndFn(true)},
	"enum_last":  {enumEndFn(false)},
	"enum_range": {
		{
			Types: tree.ParamTypes{{Name: "e", Typ: types.AnyEnum}}, ReturnType: tree.ArrayOfFirstNonNullReturnType(),
			Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
			Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
				return enumRange(argTypes[0], 0, -1)
			}),
		},
		{
			Types:      tree.ParamTypes{{Name: "lower", Typ: types.AnyEnum}, {Name: "upper", Typ: types.AnyEnum}},
			ReturnType: tree.ArrayOfFirstNonNullReturnType(),
			Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
			Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
				t := argTypes[0]
				if t.Family() != types.EnumFamily || t.TypeMeta.EnumData == nil {
					t = argTypes[1]
				}
				lo, hi := 0, -1
				if a[0] != tree.DNull {
					lo = enumIndex(t, a[0].(*tree.DEnum))
				}
				if a[1] != tree.DNull {
					hi = enumIndex(t, a[1].(*tree.DEnum))
				}
				return enumRange(t, lo, hi)
			}),
		},
	},
})

func enumEndFn(first bool) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "e", Typ: types.AnyEnum}}, ReturnType: tree.IdentityReturnType(0),
		Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			all, err := enumMembers(argTypes[0])
			if err != nil || len(all) == 0 {
				return tree.DNull, err
			}
			if first {
				return all[0], nil
			}
			return all[len(all)-1], nil
		}),
	}
}

// enumMembers are the values of enum type t in order.
func enumMembers(t *types.T) ([]tree.Datum, error) {
	if t.Family() != types.EnumFamily || t.TypeMeta.EnumData == nil {
		return nil, pgerror.New("22023", "could not determine actual enum type")
	}
	return tree.MakeAllDEnumsInType(t), nil
}

func enumIndex(t *types.T, d *tree.DEnum) int {
	for i, r := range t.TypeMeta.EnumData.LogicalRepresentations {
		if r == d.LogicalRep {
			return i
		}
	}
	return -1
}

// enumRange is the array of t's members lo to hi (hi -1: the last).
func enumRange(t *types.T, lo, hi int) (tree.Datum, error) {
	all, err := enumMembers(t)
	if err != nil {
		return nil, err
	}
	if hi < 0 {
		hi = len(all) - 1
	}
	arr := tree.NewDArray(t)
	for i := lo; i <= hi && i < len(all); i++ {
		if err := arr.Append(all[i]); err != nil {
			return nil, err
		}
	}
	return arr, nil
}
