package sem

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
)

// The array functions. Arrays are one-dimensional with lower bound 1
// (the parser's DArray has no other shape), so dimension 1 is the only
// one that exists: PostgreSQL answers NULL for any other, and for an
// empty array, which has no dimensions.
var _ = RegisterFamily(map[string][]tree.Overload{
	"array_length": {arrayDimFn(func(a *tree.DArray) tree.Datum { return tree.NewDInt(tree.DInt(a.Len())) })},
	"array_lower":  {arrayDimFn(func(a *tree.DArray) tree.Datum { return tree.NewDInt(1) })},
	"array_upper":  {arrayDimFn(func(a *tree.DArray) tree.Datum { return tree.NewDInt(tree.DInt(a.Len())) })},
	"cardinality": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}}, tree.FixedReturnType(types.Int4), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(tree.DInt(tree.MustBeDArray(a[0]).Len())), nil
		})},
	"array_ndims": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}}, tree.FixedReturnType(types.Int4), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if tree.MustBeDArray(a[0]).Len() == 0 {
				return tree.DNull, nil
			}
			return tree.NewDInt(1), nil
		})},
	"array_dims": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}}, tree.FixedReturnType(types.String), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			arr := tree.MustBeDArray(a[0])
			if arr.Len() == 0 {
				return tree.DNull, nil
			}
			return tree.NewDString(fmt.Sprintf("[1:%d]", arr.Len())), nil
		})},
	"array_position": {
		arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "elem", Typ: types.AnyElement}}, tree.FixedReturnType(types.Int4), true,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return arrayPosition(e, a[0], a[1], tree.NewDInt(1))
			}),
		arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "elem", Typ: types.AnyElement}, {Name: "start", Typ: types.Int}}, tree.FixedReturnType(types.Int4), true,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return arrayPosition(e, a[0], a[1], a[2]) }),
	},
	"array_positions": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "elem", Typ: types.AnyElement}}, tree.FixedReturnType(types.MakeArray(types.Int4)), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if a[0] == tree.DNull {
				return tree.DNull, nil
			}
			out := tree.NewDArray(types.Int4)
			for i, el := range tree.MustBeDArray(a[0]).Array {
				same, err := notDistinct(e, el, a[1])
				if err != nil {
					return nil, err
				}
				if same {
					if err := out.Append(tree.NewDInt(tree.DInt(i + 1))); err != nil {
						return nil, err
					}
				}
			}
			return out, nil
		})},
	// array_append, array_prepend and array_cat take a NULL array as an
	// empty one, as PostgreSQL does.
	"array_append": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "elem", Typ: types.AnyElement}}, tree.IdentityReturnType(0), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return arrayBuild(e, a[0], a[1], func(out *tree.DArray) error { return out.Append(a[1]) }, nil)
		})},
	"array_prepend": {arrayFn(tree.ParamTypes{{Name: "elem", Typ: types.AnyElement}, {Name: "arr", Typ: types.AnyArray}}, tree.IdentityReturnType(1), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return arrayBuild(e, a[1], a[0], nil, func(out *tree.DArray) error { return out.Append(a[0]) })
		})},
	"array_cat": {arrayFn(tree.ParamTypes{{Name: "a", Typ: types.AnyArray}, {Name: "b", Typ: types.AnyArray}}, tree.FirstNonNullReturnType(), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if a[0] == tree.DNull {
				return a[1], nil
			}
			if a[1] == tree.DNull {
				return a[0], nil
			}
			return arrayBuild(e, a[0], tree.DNull, func(out *tree.DArray) error {
				for _, el := range tree.MustBeDArray(a[1]).Array {
					if err := out.Append(el); err != nil {
						return err
					}
				}
				return nil
			}, nil)
		})},
	"array_remove": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "elem", Typ: types.AnyElement}}, tree.IdentityReturnType(0), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return arrayMap(e, a[0], func(el tree.Datum) (tree.Datum, bool, error) {
				same, err := notDistinct(e, el, a[1])
				return el, !same, err
			})
		})},
	"array_replace": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "from", Typ: types.AnyElement}, {Name: "to", Typ: types.AnyElement}}, tree.IdentityReturnType(0), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return arrayMap(e, a[0], func(el tree.Datum) (tree.Datum, bool, error) {
				same, err := notDistinct(e, el, a[1])
				if same {
					return a[2], true, err
				}
				return el, true, err
			})
		})},
	"array_to_string": {
		arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "sep", Typ: types.String}}, tree.FixedReturnType(types.String), false,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return arrayToString(a[0], a[1], tree.DNull), nil }),
		arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "sep", Typ: types.String}, {Name: "null", Typ: types.String}}, tree.FixedReturnType(types.String), true,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				if a[0] == tree.DNull || a[1] == tree.DNull {
					return tree.DNull, nil
				}
				return arrayToString(a[0], a[1], a[2]), nil
			}),
	},
	"string_to_array": {
		arrayFn(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "sep", Typ: types.String}}, tree.FixedReturnType(types.StringArray), true,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return stringToArray(a[0], a[1], tree.DNull) }),
		arrayFn(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "sep", Typ: types.String}, {Name: "null", Typ: types.String}}, tree.FixedReturnType(types.StringArray), true,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return stringToArray(a[0], a[1], a[2]) }),
	},
})

func arrayFn(params tree.ParamTypes, ret tree.ReturnTyper, calledOnNull bool, fn BuiltinFn) tree.Overload {
	return tree.Overload{
		Types: params, ReturnType: ret, Volatility: volatility.Immutable, Class: tree.NormalClass,
		CalledOnNullInput: calledOnNull, Fn: fn,
	}
}

// arrayDimFn is a function of (array, dimension): f's answer for
// dimension 1 of a non-empty array, else NULL.
func arrayDimFn(f func(*tree.DArray) tree.Datum) tree.Overload {
	return arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "dim", Typ: types.Int}}, tree.FixedReturnType(types.Int4), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			arr, ok := a[0].(*tree.DArray)
			if !ok || tree.MustBeDInt(a[1]) != 1 || arr.Len() == 0 {
				return tree.DNull, nil
			}
			return f(arr), nil
		})
}

// notDistinct is a IS NOT DISTINCT FROM b, the equality array_position
// and array_remove search by (NULL finds NULL).
func notDistinct(e *EvalCtx, a, b tree.Datum) (bool, error) {
	if a == tree.DNull || b == tree.DNull {
		return a == b, nil
	}
	c, err := e.Compare(a, b)
	return c == 0, err
}

func arrayPosition(e *EvalCtx, arr, elem, start tree.Datum) (tree.Datum, error) {
	if arr == tree.DNull {
		return tree.DNull, nil
	}
	if start == tree.DNull {
		return nil, errorf("22004", "initial position must not be null")
	}
	from := int(tree.MustBeDInt(start))
	for i, el := range tree.MustBeDArray(arr).Array {
		if i+1 < from {
			continue
		}
		same, err := notDistinct(e, el, elem)
		if err != nil {
			return nil, err
		}
		if same {
			return tree.NewDInt(tree.DInt(i + 1)), nil
		}
	}
	return tree.DNull, nil
}

// arrayBuild copies arr (NULL: none) into a new array, calling before
// and after around the copy; with arr NULL, the new array's elements are
// of elem's type.
func arrayBuild(e *EvalCtx, arr, elem tree.Datum, after, before func(*tree.DArray) error) (tree.Datum, error) {
	var out *tree.DArray
	var src *tree.DArray
	if arr != tree.DNull {
		src = tree.MustBeDArray(arr)
		out = tree.NewDArray(src.ParamTyp)
	} else {
		out = tree.NewDArray(elem.ResolvedType())
	}
	if before != nil {
		if err := before(out); err != nil {
			return nil, err
		}
	}
	if src != nil {
		for _, el := range src.Array {
			if err := out.Append(el); err != nil {
				return nil, err
			}
		}
	}
	if after != nil {
		if err := after(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// arrayMap builds arr's elements through f, which may drop them.
func arrayMap(e *EvalCtx, arr tree.Datum, f func(tree.Datum) (tree.Datum, bool, error)) (tree.Datum, error) {
	if arr == tree.DNull {
		return tree.DNull, nil
	}
	src := tree.MustBeDArray(arr)
	out := tree.NewDArray(src.ParamTyp)
	for _, el := range src.Array {
		d, keep, err := f(el)
		if err != nil {
			return nil, err
		}
		if keep {
			if err := out.Append(d); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// arrayToString joins the elements' text forms; a NULL element is left
// out, or written as null when that is given.
func arrayToString(arr, sep, null tree.Datum) tree.Datum {
	parts := make([]string, 0, tree.MustBeDArray(arr).Len())
	for _, d := range tree.MustBeDArray(arr).Array {
		switch {
		case d != tree.DNull:
			parts = append(parts, DatumText(d))
		case null != tree.DNull:
			parts = append(parts, DatumText(null))
		}
	}
	return tree.NewDString(strings.Join(parts, DatumText(sep)))
}

// stringToArray splits s at each sep: a NULL sep splits into characters,
// an empty one gives s whole; pieces equal to null become NULL.
func stringToArray(s, sep, null tree.Datum) (tree.Datum, error) {
	if s == tree.DNull {
		return tree.DNull, nil
	}
	str := DatumText(s)
	out := tree.NewDArray(types.String)
	if str == "" {
		return out, nil
	}
	var parts []string
	switch {
	case sep == tree.DNull:
		for _, r := range str {
			parts = append(parts, string(r))
		}
	case DatumText(sep) == "":
		parts = []string{str}
	default:
		parts = strings.Split(str, DatumText(sep))
	}
	for _, p := range parts {
		var d tree.Datum = tree.NewDString(p)
		if null != tree.DNull && p == DatumText(null) {
			d = tree.DNull
		}
		if err := out.Append(d); err != nil {
			return nil, errors.Wrap(err, "string_to_array")
		}
	}
	return out, nil
}
