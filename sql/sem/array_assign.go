package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Assignments to subscripts (UPDATE t SET a[i] = v, a[i:j] = ARRAY[...],
// INSERT INTO t (a[i]) ...), which the grammar refuses, are rewritten
// (sql/array_targets.go) into the column's assignment of a call of
// ArrayAssignDef(array, value, slice, bounds...): the array (the
// column's value, or NULL in an INSERT), the value, whether the
// subscripts are a slice's, then a subscript each (element), or a pair
// of bounds each (slice; noLower/noUpper for a bound left out). The
// builder's type check (ArrayAssignTyped) casts the array and the value
// to the column's types.

// ArrayAssignDef is the assignment function described above.
var ArrayAssignDef = tree.QualifyBuiltinFunctionDefinition(
	tree.NewFunctionDefinition("array_assign", &tree.FunctionProperties{}, []tree.Overload{{
		Types:      tree.VariadicType{FixedTypes: []*types.T{types.AnyArray, types.AnyElement, types.Bool}, VarType: types.Int},
		ReturnType: func(args []tree.TypedExpr) *types.T { return FlatArrayType(args[0].ResolvedType()) },
		Volatility: volatility.Immutable, Class: tree.NormalClass, Type: tree.BuiltinRoutine, CalledOnNullInput: true,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			elem := FlatArrayType(argTypes[0]).ArrayContents()
			bounds := make([]int64, len(a)-3)
			for i := range bounds {
				if a[i+3] == tree.DNull {
					return nil, pgerror.New("22004", "array subscript in assignment must not be null")
				}
				bounds[i] = int64(tree.MustBeDInt(a[i+3]))
			}
			var arr *tree.DArray
			if a[0] != tree.DNull {
				arr = tree.MustBeDArray(a[0])
			}
			if a[2] == tree.DBoolTrue {
				if a[1] == tree.DNull {
					// PostgreSQL leaves the array as it was.
					return a[0], nil
				}
				return assignSlice(elem, arr, tree.MustBeDArray(a[1]), bounds)
			}
			return assignElement(elem, arr, a[1], bounds)
		}),
	}}),
	catconstants.PgCatalogName)

// ArrayAssignTyped gives a call of ArrayAssignDef that is assigned to a
// column of type desired the column's types: NULL (an INSERT's array) as
// desired, the value as its element type or, for a slice, as desired.
func ArrayAssignTyped(expr tree.Expr, desired *types.T) tree.Expr {
	f, ok := expr.(*tree.FuncExpr)
	if !ok || f.Func.FunctionReference != ArrayAssignDef || desired == nil || desired.Family() != types.ArrayFamily || len(f.Exprs) < 3 {
		return expr
	}
	n := *f
	n.Exprs = append(tree.Exprs(nil), f.Exprs...)
	if n.Exprs[0] == tree.DNull {
		n.Exprs[0] = &tree.CastExpr{Expr: tree.DNull, Type: desired, SyntaxMode: tree.CastShort}
	} else if inner := ArrayAssignTyped(n.Exprs[0], desired); inner != n.Exprs[0] {
		n.Exprs[0] = inner
	}
	want := desired.ArrayContents()
	if n.Exprs[2] == tree.DBoolTrue {
		want = desired
	}
	n.Exprs[1] = &tree.CastExpr{Expr: n.Exprs[1], Type: want, SyntaxMode: tree.CastShort}
	return &n
}

// errSubscriptRange is 2202E "array subscript out of range".
func errSubscriptRange() error {
	return pgerror.New(pgarray.CodeArraySubscript, "array subscript out of range")
}

// maxArraySize is PostgreSQL's MaxArraySize, the most elements an array
// may have.
const maxArraySize = 134217727

func errArraySize() error {
	return pgerror.Newf(pgerror.CodeProgramLimitExceeded, "array size exceeds the maximum allowed (%d)", maxArraySize)
}

func errTooManyDims(n int) error {
	return pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", n, pgarray.MaxDims)
}

// int4Subscripts refuses subscripts an int4 cannot hold, as PostgreSQL's
// coercion of subscripts to int4 does; noLower and noUpper pass.
func int4Subscripts(idx []int64) error {
	for _, i := range idx {
		if i != noLower && i != noUpper && (i < -1<<31 || i > 1<<31-1) {
			return pgerror.New(pgerror.CodeNumericValueOutOfRange, "integer out of range")
		}
	}
	return nil
}

// assignElement is PostgreSQL's array_set_element: a NULL or empty array
// becomes one of the element alone, its lower bounds the subscripts; a
// one-dimensional one grows either way (NULLs filling the gap, its lower
// bound moving down when it grows below it); a multidimensional one
// must hold the position.
func assignElement(elem *types.T, arr *tree.DArray, v tree.Datum, idx []int64) (tree.Datum, error) {
	if len(idx) > pgarray.MaxDims {
		return nil, errTooManyDims(len(idx))
	}
	if err := int4Subscripts(idx); err != nil {
		return nil, err
	}
	var dims []int
	if arr != nil {
		dims = pgarray.Dims(arr)
	}
	if len(dims) == 0 {
		one := make([]int, len(idx))
		lower := make([]int, len(idx))
		for i := range one {
			one[i], lower[i] = 1, int(idx[i])
		}
		if err := pgarray.CheckBounds(one, lower); err != nil {
			return nil, err
		}
		return pgarray.BuildBounded(elem, one, lower, tree.Datums{v}), nil
	}
	if len(idx) != len(dims) {
		return nil, pgerror.New(pgarray.CodeArraySubscript, "wrong number of array subscripts")
	}
	lower := append([]int(nil), pgarray.LowerOrOnes(arr)...)
	if len(dims) == 1 {
		i, lb, n := idx[0], int64(lower[0]), int64(dims[0])
		var before, after int64
		if i < lb {
			before = lb - i
		}
		if i >= lb+n {
			after = i - (lb + n) + 1
		}
		if n+before+after > maxArraySize {
			return nil, errArraySize()
		}
		if before > 0 {
			lower[0] = int(i)
		}
		if err := pgarray.CheckBounds([]int{int(n + before + after)}, lower); err != nil {
			return nil, err
		}
		out := make(tree.Datums, 0, n+before+after)
		for k := int64(0); k < before; k++ {
			out = append(out, tree.DNull)
		}
		out = append(out, arr.Array...)
		for k := int64(0); k < after; k++ {
			out = append(out, tree.DNull)
		}
		out[i-int64(lower[0])] = v
		return pgarray.WithLower(pgarray.FromElems(elem, out), lower), nil
	}
	flat := append(tree.Datums(nil), pgarray.Flat(arr)...)
	pos := 0
	for k, i := range idx {
		lb := int64(lower[k])
		if i < lb || i >= lb+int64(dims[k]) {
			return nil, errSubscriptRange()
		}
		pos = pos*dims[k] + int(i-lb)
	}
	flat[pos] = v
	return pgarray.BuildBounded(elem, dims, lower, flat), nil
}

// assignSlice is PostgreSQL's array_set_slice: the positions [lo:hi] of
// each dimension given (the dimensions not given whole) take the
// source's elements in order (it must have enough); a NULL or empty
// array becomes the slice, which must give both bounds, its lower bounds
// the slice's; a one-dimensional one may grow either way.
func assignSlice(elem *types.T, arr, src *tree.DArray, bounds []int64) (tree.Datum, error) {
	n := len(bounds) / 2
	if n > pgarray.MaxDims {
		return nil, errTooManyDims(n)
	}
	if err := int4Subscripts(bounds); err != nil {
		return nil, err
	}
	var dims []int
	if arr != nil {
		dims = pgarray.Dims(arr)
	}
	srcFlat := pgarray.Flat(src)
	tooSmall := func() error { return pgerror.New(pgarray.CodeArraySubscript, "source array too small") }
	backwards := func() error {
		return pgerror.New(pgarray.CodeArraySubscript, "upper bound cannot be less than lower bound")
	}
	if len(dims) == 0 {
		shape := make([]int, n)
		lower := make([]int, n)
		total := int64(1)
		for k := 0; k < n; k++ {
			lo, hi := bounds[2*k], bounds[2*k+1]
			if lo == noLower || hi == noUpper {
				return nil, pgerror.WithDetail(pgerror.New(pgarray.CodeArraySubscript, "array slice subscript must provide both boundaries"),
					"When assigning to a slice of an empty array value, slice boundaries must be fully specified.")
			}
			d := hi - lo + 1
			if d < 0 {
				return nil, errArraySize()
			}
			shape[k], lower[k] = int(d), int(lo)
			if total *= d; total > maxArraySize {
				return nil, errArraySize()
			}
		}
		if int64(len(srcFlat)) < total {
			return nil, tooSmall()
		}
		if total == 0 {
			return tree.NewDArray(elem), nil
		}
		if err := pgarray.CheckBounds(shape, lower); err != nil {
			return nil, err
		}
		return pgarray.BuildBounded(elem, shape, lower, srcFlat[:total]), nil
	}
	if n > len(dims) {
		return nil, pgerror.New(pgarray.CodeArraySubscript, "wrong number of array subscripts")
	}
	lower := append([]int(nil), pgarray.LowerOrOnes(arr)...)
	// lo and hi are subscripts, every dimension's (those not given whole).
	lo := make([]int64, len(dims))
	hi := make([]int64, len(dims))
	for k := range dims {
		lb, ub := int64(lower[k]), int64(lower[k])+int64(dims[k])-1
		l, h := lb, ub
		if k < n {
			if bounds[2*k] != noLower {
				l = bounds[2*k]
			}
			if bounds[2*k+1] != noUpper {
				h = bounds[2*k+1]
			}
		}
		if h < l {
			return nil, backwards()
		}
		if len(dims) > 1 && (l < lb || h > ub) {
			return nil, errSubscriptRange()
		}
		lo[k], hi[k] = l, h
	}
	if len(dims) == 1 {
		lb, cnt := int64(lower[0]), int64(dims[0])
		var before, after int64
		if lo[0] < lb {
			before = lb - lo[0]
		}
		if hi[0] >= lb+cnt {
			after = hi[0] - (lb + cnt) + 1
		}
		if cnt+before+after > maxArraySize {
			return nil, errArraySize()
		}
		need := hi[0] - lo[0] + 1
		if int64(len(srcFlat)) < need {
			return nil, tooSmall()
		}
		if before > 0 {
			lower[0] = int(lo[0])
		}
		if err := pgarray.CheckBounds([]int{int(cnt + before + after)}, lower); err != nil {
			return nil, err
		}
		out := make(tree.Datums, 0, cnt+before+after)
		for k := int64(0); k < before; k++ {
			out = append(out, tree.DNull)
		}
		out = append(out, arr.Array...)
		for k := int64(0); k < after; k++ {
			out = append(out, tree.DNull)
		}
		copy(out[lo[0]-int64(lower[0]):], srcFlat[:need])
		return pgarray.WithLower(pgarray.FromElems(elem, out), lower), nil
	}
	need := int64(1)
	for k := range lo {
		need *= hi[k] - lo[k] + 1
	}
	if int64(len(srcFlat)) < need {
		return nil, tooSmall()
	}
	flat := append(tree.Datums(nil), pgarray.Flat(arr)...)
	next := 0
	var walk func(k, pos int)
	walk = func(k, pos int) {
		for i := lo[k]; i <= hi[k]; i++ {
			p := pos*dims[k] + int(i-int64(lower[k]))
			if k+1 < len(dims) {
				walk(k+1, p)
				continue
			}
			flat[p] = srcFlat[next]
			next++
		}
	}
	walk(0, 0)
	return pgarray.BuildBounded(elem, dims, lower, flat), nil
}
