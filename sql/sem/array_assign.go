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

// errLowerBound refuses an assignment that would give the array a lower
// bound other than 1 (see package pgarray).
func errLowerBound() error {
	return pgerror.Unsupported("arrays with a lower bound other than 1 are not supported yet")
}

// assignElement is PostgreSQL's array_set_element with lower bounds 1: a
// NULL or empty array becomes one of the element alone, a
// one-dimensional one grows (NULLs filling the gap), a multidimensional
// one must hold the position.
func assignElement(elem *types.T, arr *tree.DArray, v tree.Datum, idx []int64) (tree.Datum, error) {
	if len(idx) > pgarray.MaxDims {
		return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", len(idx), pgarray.MaxDims)
	}
	var dims []int
	if arr != nil {
		dims = pgarray.Dims(arr)
	}
	if len(dims) == 0 {
		for _, i := range idx {
			if i != 1 {
				return nil, errLowerBound()
			}
		}
		one := make([]int, len(idx))
		for i := range one {
			one[i] = 1
		}
		return pgarray.Build(elem, one, tree.Datums{v}), nil
	}
	if len(idx) != len(dims) {
		return nil, pgerror.New(pgarray.CodeArraySubscript, "wrong number of array subscripts")
	}
	if len(dims) == 1 {
		i := idx[0]
		if i < 1 {
			return nil, errLowerBound()
		}
		if i > 1<<27 {
			// PostgreSQL's MaxAllocSize bounds it likewise.
			return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "array size exceeds the maximum allowed (%d)", 1<<27)
		}
		out := append(tree.Datums(nil), arr.Array...)
		for int64(len(out)) < i {
			out = append(out, tree.DNull)
		}
		out[i-1] = v
		return pgarray.FromElems(elem, out), nil
	}
	flat := append(tree.Datums(nil), pgarray.Flat(arr)...)
	pos := 0
	for k, i := range idx {
		if i < 1 || i > int64(dims[k]) {
			return nil, errSubscriptRange()
		}
		pos = pos*dims[k] + int(i-1)
	}
	flat[pos] = v
	return pgarray.Build(elem, dims, flat), nil
}

// assignSlice is PostgreSQL's array_set_slice with lower bounds 1: the
// positions [lo:hi] of each dimension given take the source's elements
// in order (it must have enough); a NULL or empty array becomes the
// slice, which must give both bounds; a one-dimensional one may grow.
func assignSlice(elem *types.T, arr, src *tree.DArray, bounds []int64) (tree.Datum, error) {
	n := len(bounds) / 2
	if n > pgarray.MaxDims {
		return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", n, pgarray.MaxDims)
	}
	var dims []int
	if arr != nil {
		dims = pgarray.Dims(arr)
	}
	srcFlat := pgarray.Flat(src)
	tooSmall := func() error { return pgerror.New(pgarray.CodeArraySubscript, "source array too small") }
	if len(dims) == 0 {
		shape := make([]int, n)
		total := 1
		for k := 0; k < n; k++ {
			lo, hi := bounds[2*k], bounds[2*k+1]
			if lo == noLower || hi == noUpper {
				return nil, pgerror.New(pgarray.CodeArraySubscript, "array slice subscript must provide both boundaries")
			}
			if hi < lo {
				return nil, pgerror.New(pgarray.CodeArraySubscript, "upper bound cannot be less than lower bound")
			}
			if lo != 1 {
				return nil, errLowerBound()
			}
			shape[k] = int(hi - lo + 1)
			total *= shape[k]
		}
		if len(srcFlat) < total {
			return nil, tooSmall()
		}
		return pgarray.Build(elem, shape, srcFlat[:total]), nil
	}
	if n != len(dims) {
		return nil, pgerror.New(pgarray.CodeArraySubscript, "wrong number of array subscripts")
	}
	lo := make([]int, n)
	hi := make([]int, n)
	for k := 0; k < n; k++ {
		l, h := bounds[2*k], bounds[2*k+1]
		if l == noLower {
			l = 1
		}
		if h == noUpper {
			h = int64(dims[k])
		}
		if h < l {
			return nil, pgerror.New(pgarray.CodeArraySubscript, "upper bound cannot be less than lower bound")
		}
		if l < 1 {
			return nil, errLowerBound()
		}
		if n > 1 && h > int64(dims[k]) {
			return nil, errSubscriptRange()
		}
		if h > 1<<27 {
			return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "array size exceeds the maximum allowed (%d)", 1<<27)
		}
		lo[k], hi[k] = int(l), int(h)
	}
	if n == 1 {
		need := hi[0] - lo[0] + 1
		if len(srcFlat) < need {
			return nil, tooSmall()
		}
		out := append(tree.Datums(nil), arr.Array...)
		for len(out) < hi[0] {
			out = append(out, tree.DNull)
		}
		copy(out[lo[0]-1:hi[0]], srcFlat[:need])
		return pgarray.FromElems(elem, out), nil
	}
	need := 1
	for k := range lo {
		need *= hi[k] - lo[k] + 1
	}
	if len(srcFlat) < need {
		return nil, tooSmall()
	}
	flat := append(tree.Datums(nil), pgarray.Flat(arr)...)
	next := 0
	var walk func(k, pos int)
	walk = func(k, pos int) {
		for i := lo[k]; i <= hi[k]; i++ {
			p := pos*dims[k] + i - 1
			if k+1 < n {
				walk(k+1, p)
				continue
			}
			flat[p] = srcFlat[next]
			next++
		}
	}
	walk(0, 0)
	return pgarray.Build(elem, dims, flat), nil
}
