package sem

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The array functions. An array's dimensions are those of its value
// (see package pgarray), each with its lower bound; PostgreSQL answers
// NULL for a dimension the array does not have, and for an empty array,
// which has none. Positions are subscripts, counted from the lower bound.
var _ = RegisterFamily(map[string][]tree.Overload{
	"array_length": {arrayDimFn(func(n, _ int) tree.Datum { return tree.NewDInt(tree.DInt(n)) })},
	"array_lower":  {arrayDimFn(func(_, lb int) tree.Datum { return tree.NewDInt(tree.DInt(lb)) })},
	"array_upper":  {arrayDimFn(func(n, lb int) tree.Datum { return tree.NewDInt(tree.DInt(lb + n - 1)) })},
	"cardinality": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}}, tree.FixedReturnType(types.Int4), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(tree.DInt(pgarray.Cardinality(tree.MustBeDArray(a[0])))), nil
		})},
	"array_ndims": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}}, tree.FixedReturnType(types.Int4), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			n := pgarray.NDims(tree.MustBeDArray(a[0]))
			if n == 0 {
				return tree.DNull, nil
			}
			return tree.NewDInt(tree.DInt(n)), nil
		})},
	"array_dims": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}}, tree.FixedReturnType(types.String), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			arr := tree.MustBeDArray(a[0])
			if pgarray.NDims(arr) == 0 {
				return tree.DNull, nil
			}
			return tree.NewDString(pgarray.DimsText(arr)), nil
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
			if pgarray.IsMulti(tree.MustBeDArray(a[0])) {
				return nil, errSearchMulti()
			}
			out := tree.NewDArray(types.Int4)
			arr := tree.MustBeDArray(a[0])
			lb := pgarray.LowerOrOnes(arr)
			for i, el := range arr.Array {
				same, err := notDistinct(e, el, a[1])
				if err != nil {
					return nil, err
				}
				if same {
					if err := out.Append(tree.NewDInt(tree.DInt(lb[0] + i))); err != nil {
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
			return appendElem(arrayElemType(a[0], a[1]), a[0], a[1], false)
		})},
	"array_prepend": {arrayFn(tree.ParamTypes{{Name: "elem", Typ: types.AnyElement}, {Name: "arr", Typ: types.AnyArray}}, tree.IdentityReturnType(1), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return appendElem(arrayElemType(a[1], a[0]), a[1], a[0], true)
		})},
	"array_cat": {arrayFn(tree.ParamTypes{{Name: "a", Typ: types.AnyArray}, {Name: "b", Typ: types.AnyArray}}, tree.FirstNonNullReturnType(), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if a[0] == tree.DNull {
				return a[1], nil
			}
			if a[1] == tree.DNull {
				return a[0], nil
			}
			return pgarray.Cat(tree.MustBeDArray(a[0]).ParamTyp, tree.MustBeDArray(a[0]), tree.MustBeDArray(a[1]))
		})},
	"array_remove": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "elem", Typ: types.AnyElement}}, tree.IdentityReturnType(0), true,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if a[0] != tree.DNull && pgarray.IsMulti(tree.MustBeDArray(a[0])) {
				return nil, pgerror.Unsupported("removing elements from multidimensional arrays is not supported")
			}
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
	"array_fill": {
		arrayFillOverload(false),
		arrayFillOverload(true),
	},
	"trim_array": {arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "n", Typ: types.Int}}, tree.IdentityReturnType(0), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			arr := tree.MustBeDArray(a[0])
			n, count := int64(tree.MustBeDInt(a[1])), int64(len(arr.Array))
			if n < 0 || n > count {
				return nil, pgerror.Newf(pgarray.CodeArraySubscript, "number of elements to trim must be between 0 and %d", count)
			}
			if count == 0 {
				return arr, nil
			}
			// PostgreSQL's is a slice of the first dimension: its bounds
			// start at 1 again.
			ub := int64(pgarray.LowerOrOnes(arr)[0]) + count - 1
			return arraySlice(arr, []int64{noLower, ub - n}), nil
		})},
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

// arrayDimFn is a function of (array, dimension): f's answer for the
// dimension's length and lower bound, NULL for a dimension the array
// does not have.
func arrayDimFn(f func(n, lower int) tree.Datum) tree.Overload {
	return arrayFn(tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "dim", Typ: types.Int}}, tree.FixedReturnType(types.Int4), false,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			arr, ok := a[0].(*tree.DArray)
			if !ok {
				return tree.DNull, nil
			}
			dims, d := pgarray.Dims(arr), int64(tree.MustBeDInt(a[1]))
			if d < 1 || d > int64(len(dims)) {
				return tree.DNull, nil
			}
			return f(dims[d-1], pgarray.LowerOrOnes(arr)[d-1]), nil
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
	if pgarray.IsMulti(tree.MustBeDArray(arr)) {
		return nil, errSearchMulti()
	}
	a := tree.MustBeDArray(arr)
	if len(a.Array) == 0 {
		return tree.DNull, nil
	}
	lb := int64(pgarray.LowerOrOnes(a)[0])
	from := int64(tree.MustBeDInt(start))
	for i, el := range a.Array {
		if lb+int64(i) < from {
			continue
		}
		same, err := notDistinct(e, el, elem)
		if err != nil {
			return nil, err
		}
		if same {
			return tree.NewDInt(tree.DInt(lb + int64(i))), nil
		}
	}
	return tree.DNull, nil
}

// errSearchMulti is array_position's error for a multidimensional array.
func errSearchMulti() error {
	return pgerror.Unsupported("searching for elements in multidimensional arrays is not supported")
}

// arrayElemType is the element type of arr, or, arr NULL, elem's type.
func arrayElemType(arr, elem tree.Datum) *types.T {
	if arr != tree.DNull {
		return tree.MustBeDArray(arr).ParamTyp
	}
	return elem.ResolvedType()
}

// arrayMap builds arr's elements through f, which may drop them; the
// result keeps arr's lower bound, as array_remove and array_replace do.
func arrayMap(e *EvalCtx, arr tree.Datum, f func(tree.Datum) (tree.Datum, bool, error)) (tree.Datum, error) {
	if arr == tree.DNull {
		return tree.DNull, nil
	}
	src := tree.MustBeDArray(arr)
	if pgarray.IsMulti(src) {
		// Only array_replace, which keeps every element, gets here.
		return pgarray.MapLeaves(src, src.ParamTyp, func(el tree.Datum) (tree.Datum, error) {
			d, _, err := f(el)
			return d, err
		})
	}
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
	return pgarray.WithLower(out, pgarray.Lower(src)), nil
}

// arrayToString joins the elements' text forms; a NULL element is left
// out, or written as null when that is given.
func arrayToString(arr, sep, null tree.Datum) tree.Datum {
	flat := pgarray.Flat(tree.MustBeDArray(arr))
	parts := make([]string, 0, len(flat))
	for _, d := range flat {
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

// arrayFillOverload is array_fill(value, dims[, lbounds]): an array of
// the dimensions dims (and lower bounds lbounds, else 1) every element of
// which is value, as PostgreSQL's array_fill_internal.
func arrayFillOverload(withLower bool) tree.Overload {
	params := tree.ParamTypes{{Name: "value", Typ: types.AnyElement}, {Name: "dims", Typ: types.IntArray}}
	if withLower {
		params = append(params, tree.ParamType{Name: "lbounds", Typ: types.IntArray})
	}
	return tree.Overload{
		Types: params,
		ReturnType: func(args []tree.TypedExpr) *types.T {
			if len(args) == 0 || args[0].ResolvedType().Family() == types.UnknownFamily {
				return types.AnyArray
			}
			return types.MakeArray(args[0].ResolvedType())
		},
		Volatility: volatility.Immutable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			for _, d := range a[1:] {
				if d == tree.DNull {
					return nil, pgerror.New("22004", "dimension array or low bound array cannot be null")
				}
			}
			dimsArr := tree.MustBeDArray(a[1])
			if pgarray.IsMulti(dimsArr) || (withLower && pgarray.IsMulti(tree.MustBeDArray(a[2]))) {
				return nil, pgerror.WithDetail(pgerror.New(pgarray.CodeArraySubscript, "wrong number of array subscripts"),
					"Dimension array must be one dimensional.")
			}
			elem := argTypes[0]
			if len(dimsArr.Array) == 0 {
				return tree.NewDArray(elem), nil
			}
			if len(dimsArr.Array) > pgarray.MaxDims {
				return nil, errTooManyDims(len(dimsArr.Array))
			}
			var lowerArr tree.Datums
			if withLower {
				lowerArr = tree.MustBeDArray(a[2]).Array
				if len(lowerArr) != len(dimsArr.Array) {
					return nil, pgerror.WithDetail(pgerror.New(pgarray.CodeArraySubscript, "wrong number of array subscripts"),
						"Low bound array has different size than dimensions array.")
				}
			}
			dims := make([]int, len(dimsArr.Array))
			lower := make([]int, len(dims))
			total := int64(1)
			for i, d := range dimsArr.Array {
				if d == tree.DNull || (withLower && lowerArr[i] == tree.DNull) {
					return nil, pgerror.New("22004", "dimension values cannot be null")
				}
				n := int64(tree.MustBeDInt(d))
				lower[i] = 1
				if withLower {
					l := int64(tree.MustBeDInt(lowerArr[i]))
					if l < -1<<31 || l > 1<<31-1 {
						return nil, pgerror.New(pgerror.CodeNumericValueOutOfRange, "integer out of range")
					}
					lower[i] = int(l)
				}
				if n < 0 || n > maxArraySize {
					return nil, errArraySize()
				}
				dims[i] = int(n)
				if total *= n; total > maxArraySize {
					return nil, errArraySize()
				}
			}
			if total == 0 {
				return tree.NewDArray(elem), nil
			}
			if err := pgarray.CheckBounds(dims, lower); err != nil {
				return nil, err
			}
			flat := make(tree.Datums, total)
			for i := range flat {
				flat[i] = a[0]
			}
			return pgarray.BuildBounded(elem, dims, lower, flat), nil
		}),
	}
}
