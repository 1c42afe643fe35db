package sem

import (
	"math"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Multidimensional arrays (see package pgarray for their shape). The
// parser's type checker types ARRAY[[1,2],[3,4]] as int[][] and refuses
// a[i][j] and a[i:j][k]; before it runs, these are rewritten into calls
// of the functions below, resolved here and not by name, so no query can
// name them. Their types stay PostgreSQL's: int[] whatever the
// dimensions.

// FlatArrayType is t with nested array types (int[][]) made one (int[]).
func FlatArrayType(t *types.T) *types.T {
	if t == nil || t.Family() != types.ArrayFamily {
		return t
	}
	for t.ArrayContents().Family() == types.ArrayFamily {
		t = t.ArrayContents()
	}
	return t
}

// arrayStackDef is ARRAY[sub, ...] of sub-arrays (pgarray.Stack).
var arrayStackDef = tree.QualifyBuiltinFunctionDefinition(
	tree.NewFunctionDefinition("array", &tree.FunctionProperties{}, []tree.Overload{{
		Types: tree.HomogeneousType{},
		ReturnType: func(args []tree.TypedExpr) *types.T {
			for _, a := range args {
				if t := FlatArrayType(a.ResolvedType()); t.Family() == types.ArrayFamily {
					return t
				}
			}
			return types.AnyArray
		},
		Volatility: volatility.Immutable, Class: tree.NormalClass, Type: tree.BuiltinRoutine, CalledOnNullInput: true,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			var elem *types.T
			for _, t := range argTypes {
				if t := FlatArrayType(t); t != nil && t.Family() == types.ArrayFamily {
					elem = t.ArrayContents()
					break
				}
			}
			if elem == nil {
				elem = types.Unknown
			}
			return pgarray.Stack(elem, a)
		}),
	}}),
	catconstants.PgCatalogName)

// StackArrays rewrites ARRAY[x, ...] whose elements are arrays (inner
// brackets, or expressions of an array type) into a call of
// arrayStackDef; typeOf types an element, nil when unknown.
func stackArrays(x *tree.Array, typeOf func(*tree.Expr) *types.T) tree.Expr {
	nested := false
	for i := range x.Exprs {
		switch el := x.Exprs[i].(type) {
		case *tree.Array:
			nested = true
		case *tree.FuncExpr:
			if el.Func.FunctionReference == arrayStackDef {
				nested = true
			}
		}
	}
	if !nested {
		for i := range x.Exprs {
			if t := typeOf(&x.Exprs[i]); t != nil && t.Family() == types.ArrayFamily {
				nested = true
				break
			}
		}
	}
	if !nested {
		return x
	}
	return &tree.FuncExpr{Func: tree.ResolvableFunctionReference{FunctionReference: arrayStackDef}, Exprs: append(tree.Exprs(nil), x.Exprs...)}
}

// noBound stands for a slice bound left out (a[:2], a[2:]).
const noLower, noUpper = math.MinInt64, math.MaxInt64

// arrayElementDef is a[i][j]...: the element, NULL when a subscript is
// out of range or their number is not the array's dimensions.
var arrayElementDef = tree.QualifyBuiltinFunctionDefinition(
	tree.NewFunctionDefinition("array_subscript", &tree.FunctionProperties{}, []tree.Overload{{
		Types: tree.VariadicType{FixedTypes: []*types.T{types.AnyArray}, VarType: types.Int},
		ReturnType: func(args []tree.TypedExpr) *types.T {
			if t := FlatArrayType(args[0].ResolvedType()); t.Family() == types.ArrayFamily {
				return t.ArrayContents()
			}
			return types.Unknown
		},
		Volatility: volatility.Immutable, Class: tree.NormalClass, Type: tree.BuiltinRoutine,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			idx := make([]int64, len(a)-1)
			for i := range idx {
				idx[i] = int64(tree.MustBeDInt(a[i+1]))
			}
			if err := int4Subscripts(idx); err != nil {
				return nil, err
			}
			return arrayElement(tree.MustBeDArray(a[0]), idx), nil
		}),
	}}),
	catconstants.PgCatalogName)

// arrayElement is arr at subscripts idx (counted from each dimension's
// lower bound), NULL when there is none such.
func arrayElement(arr *tree.DArray, idx []int64) tree.Datum {
	if len(idx) != pgarray.NDims(arr) {
		return tree.DNull
	}
	lower := pgarray.LowerOrOnes(arr)
	var d tree.Datum = arr
	for k, i := range idx {
		a := tree.MustBeDArray(d)
		lb := int64(lower[k])
		if i < lb || i >= lb+int64(len(a.Array)) {
			return tree.DNull
		}
		d = a.Array[i-lb]
	}
	return d
}

// arraySliceDef is a[lo:hi][...]: bounds in pairs, a plain subscript i
// of a slice counting as 1:i, as PostgreSQL's.
var arraySliceDef = tree.QualifyBuiltinFunctionDefinition(
	tree.NewFunctionDefinition("array_slice", &tree.FunctionProperties{}, []tree.Overload{{
		Types:      tree.VariadicType{FixedTypes: []*types.T{types.AnyArray}, VarType: types.Int},
		ReturnType: func(args []tree.TypedExpr) *types.T { return FlatArrayType(args[0].ResolvedType()) },
		Volatility: volatility.Immutable, Class: tree.NormalClass, Type: tree.BuiltinRoutine,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			bounds := make([]int64, len(a)-1)
			for i := range bounds {
				bounds[i] = int64(tree.MustBeDInt(a[i+1]))
			}
			if err := int4Subscripts(bounds); err != nil {
				return nil, err
			}
			return arraySlice(tree.MustBeDArray(a[0]), bounds), nil
		}),
	}}),
	catconstants.PgCatalogName)

// arraySlice is PostgreSQL's array_get_slice: each dimension cut to
// [lo:hi] ∩ its extent (its subscripts counted from its lower bound), the
// dimensions not given kept whole; the empty array when a dimension
// comes out empty or more are given than the array has. The bounds of
// the result start at 1 again.
func arraySlice(arr *tree.DArray, bounds []int64) *tree.DArray {
	dims := pgarray.Dims(arr)
	n := len(bounds) / 2
	if len(dims) == 0 || n > len(dims) {
		return tree.NewDArray(arr.ParamTyp)
	}
	lower := pgarray.LowerOrOnes(arr)
	// lo and hi are positions in each dimension, from 0.
	lo := make([]int, len(dims))
	hi := make([]int, len(dims))
	for i := range dims {
		lo[i], hi[i] = 0, dims[i]-1
		if i < n {
			// Compared, never subtracted, before they are known in
			// range: a subscript may be any int8.
			lb, ub := int64(lower[i]), int64(lower[i])+int64(dims[i])-1
			l, h := max(bounds[2*i], lb), min(bounds[2*i+1], ub)
			if l > h {
				return tree.NewDArray(arr.ParamTyp)
			}
			lo[i], hi[i] = int(l-lb), int(h-lb)
		}
	}
	var cut func(a *tree.DArray, d int) tree.Datum
	cut = func(a *tree.DArray, d int) tree.Datum {
		out := make(tree.Datums, 0, hi[d]-lo[d]+1)
		for i := lo[d]; i <= hi[d]; i++ {
			el := a.Array[i]
			if d+1 < len(dims) {
				el = cut(tree.MustBeDArray(el), d+1)
			}
			out = append(out, el)
		}
		return pgarray.FromElems(arr.ParamTyp, out)
	}
	return cut(arr, 0).(*tree.DArray)
}

// ArraySlice rewrites a subscript the parser's type checker refuses (a
// slice, or more than one subscript) into a call of arraySliceDef or
// arrayElementDef; a single plain subscript stays.
func ArraySlice(x *tree.IndirectionExpr) (tree.Expr, error) {
	// The grammar reads (expr)[i][j] as a subscript of a subscript: one
	// subscripting of expr, as PostgreSQL's.
	for {
		inner, ok := x.Expr.(*tree.IndirectionExpr)
		if !ok {
			break
		}
		x = &tree.IndirectionExpr{Expr: inner.Expr, Indirection: append(append(tree.ArraySubscripts(nil), inner.Indirection...), x.Indirection...)}
	}
	slice := false
	for _, s := range x.Indirection {
		slice = slice || s.Slice
	}
	if !slice && len(x.Indirection) == 1 {
		return x, nil
	}
	if len(x.Indirection) > pgarray.MaxDims {
		return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", len(x.Indirection), pgarray.MaxDims)
	}
	slice, args := SubscriptArgs(x.Indirection)
	args = append(tree.Exprs{x.Expr}, args...)
	def := arrayElementDef
	if slice {
		def = arraySliceDef
	}
	return &tree.FuncExpr{Func: tree.ResolvableFunctionReference{FunctionReference: def}, Exprs: args}, nil
}

// SubscriptArgs are the arguments after the array of arrayElementDef
// (slice false: a subscript each) or arraySliceDef (a pair of bounds
// each; a plain subscript i of a slice counts as 1:i, as PostgreSQL's).
func SubscriptArgs(ind tree.ArraySubscripts) (slice bool, args tree.Exprs) {
	for _, s := range ind {
		slice = slice || s.Slice
	}
	for _, s := range ind {
		if !slice {
			args = append(args, s.Begin)
			continue
		}
		lo, hi := tree.Expr(tree.NewDInt(noLower)), tree.Expr(tree.NewDInt(noUpper))
		switch {
		case !s.Slice:
			lo, hi = tree.NewDInt(1), s.Begin
		default:
			if s.Begin != nil {
				lo = s.Begin
			}
			if s.End != nil {
				hi = s.End
			}
		}
		args = append(args, lo, hi)
	}
	return slice, args
}

// ArrayLiteral gives a literal that is an array the parser's reader
// refuses (see pgarray.NeedsParse), where desired is an array type, that
// type as a cast of a string, which castArray reads (pgarray.Parse).
func ArrayLiteral(expr tree.Expr, desired *types.T) tree.Expr {
	s, ok := expr.(*tree.StrVal)
	if !ok || desired == nil || desired.Family() != types.ArrayFamily || !pgarray.NeedsParse(s.RawString()) {
		return expr
	}
	return &tree.CastExpr{Expr: tree.NewDString(s.RawString()), Type: FlatArrayType(desired), SyntaxMode: tree.CastShort}
}

// parseArrayText is array_in for a string cast to t, an array type.
func parseArrayText(e *EvalCtx, s string, t *types.T) (*tree.DArray, error) {
	elem := t.ArrayContents()
	return pgarray.Parse(s, elem, func(el string) (tree.Datum, error) {
		return CastDatum(e, tree.NewDString(el), elem)
	})
}

// compareArrays is PostgreSQL's array_cmp: the elements in storage order
// (a NULL element equal to a NULL and after any other value), then the
// number of elements, of dimensions, the dimensions' lengths and their
// lower bounds.
func (e *EvalCtx) compareArrays(a, b *tree.DArray) (int, error) {
	fa, fb := pgarray.Flat(a), pgarray.Flat(b)
	for i := 0; i < len(fa) && i < len(fb); i++ {
		x, y := fa[i], fb[i]
		switch {
		case x == tree.DNull && y == tree.DNull:
			continue
		case x == tree.DNull:
			return 1, nil
		case y == tree.DNull:
			return -1, nil
		}
		c, err := e.Compare(x, y)
		if err != nil || c != 0 {
			return c, err
		}
	}
	if c := cmpInt(len(fa), len(fb)); c != 0 {
		return c, nil
	}
	da, db := pgarray.Dims(a), pgarray.Dims(b)
	if c := cmpInt(len(da), len(db)); c != 0 {
		return c, nil
	}
	for i := range da {
		if c := cmpInt(da[i], db[i]); c != 0 {
			return c, nil
		}
	}
	la, lb := pgarray.LowerOrOnes(a), pgarray.LowerOrOnes(b)
	for i := range la {
		if c := cmpInt(la[i], lb[i]); c != 0 {
			return c, nil
		}
	}
	return 0, nil
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
