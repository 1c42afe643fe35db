// Package pgarray gives the parser's one-dimensional tree.DArray
// PostgreSQL's multidimensional arrays.
//
// PostgreSQL's array types have no fixed number of dimensions (int[] and
// int[][] are one type); the dimensions belong to the value. Here an
// array of N > 1 dimensions is a DArray whose elements are DArrays (its
// sub-arrays, of N-1 dimensions, all of one shape), every level with the
// scalar element type as ParamTyp, so that its type stays int[]. A
// sub-array is never NULL; NULLs are leaves. The empty array has no
// dimensions. Lower bounds other than 1 are kept beside the outermost
// DArray (see bounds.go).
package pgarray

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// MaxDims is PostgreSQL's MAXDIM.
const MaxDims = 6

// CodeArraySubscript is 2202E, array_subscript_error.
const CodeArraySubscript pgerror.Code = "2202E"

// ErrMatchingDims is ARRAY[...]'s error for sub-arrays of different shapes.
func ErrMatchingDims() error {
	return pgerror.New(CodeArraySubscript, "multidimensional arrays must have array expressions with matching dimensions")
}

// Dims is a's length in each dimension, outermost first; nil for the
// empty array.
func Dims(a *tree.DArray) []int {
	if len(a.Array) == 0 {
		return nil
	}
	dims := []int{len(a.Array)}
	for {
		sub, ok := tree.UnwrapDOidWrapper(a.Array[0]).(*tree.DArray)
		if !ok {
			return dims
		}
		dims = append(dims, len(sub.Array))
		a = sub
	}
}

// NDims is the number of a's dimensions (0 when empty).
func NDims(a *tree.DArray) int { return len(Dims(a)) }

// IsMulti reports whether a has more than one dimension.
func IsMulti(a *tree.DArray) bool {
	if len(a.Array) == 0 {
		return false
	}
	_, ok := tree.UnwrapDOidWrapper(a.Array[0]).(*tree.DArray)
	return ok
}

// Flat is a's elements in storage order (row-major), what PostgreSQL's
// functions that ignore the dimensions see.
func Flat(a *tree.DArray) tree.Datums {
	if !IsMulti(a) {
		return a.Array
	}
	out := make(tree.Datums, 0, Cardinality(a))
	var walk func(*tree.DArray)
	walk = func(x *tree.DArray) {
		if !IsMulti(x) {
			out = append(out, x.Array...)
			return
		}
		for _, el := range x.Array {
			walk(tree.MustBeDArray(el))
		}
	}
	walk(a)
	return out
}

// Cardinality is the number of a's elements over all dimensions.
func Cardinality(a *tree.DArray) int {
	dims := Dims(a)
	if dims == nil {
		return 0
	}
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// FromElems is the array of elem with elements elems (leaves or
// sub-arrays), its NULL flags set from its leaves. Unlike DArray.Append
// it takes sub-arrays.
func FromElems(elem *types.T, elems tree.Datums) *tree.DArray {
	out := tree.NewDArray(elem)
	out.Array = elems
	for _, el := range elems {
		if sub, ok := el.(*tree.DArray); ok {
			out.HasNulls = out.HasNulls || sub.HasNulls
			out.HasNonNulls = out.HasNonNulls || sub.HasNonNulls
		} else if el == tree.DNull {
			out.HasNulls = true
		} else {
			out.HasNonNulls = true
		}
	}
	return out
}

// Build is the array of elem of dimensions dims (nil or a zero length:
// the empty array) whose elements in storage order are flat, which holds
// exactly their product.
func Build(elem *types.T, dims []int, flat tree.Datums) *tree.DArray {
	if len(dims) == 0 {
		return tree.NewDArray(elem)
	}
	for _, d := range dims {
		if d == 0 {
			return tree.NewDArray(elem)
		}
	}
	if len(dims) == 1 {
		return FromElems(elem, append(tree.Datums(nil), flat...))
	}
	stride := len(flat) / dims[0]
	subs := make(tree.Datums, dims[0])
	for i := range subs {
		subs[i] = Build(elem, dims[1:], flat[i*stride:(i+1)*stride])
	}
	return FromElems(elem, subs)
}

// MapLeaves is a with each element replaced by f's answer for it (the
// shape kept), an array of elem.
func MapLeaves(a *tree.DArray, elem *types.T, f func(tree.Datum) (tree.Datum, error)) (*tree.DArray, error) {
	flat := Flat(a)
	out := make(tree.Datums, len(flat))
	for i, el := range flat {
		d, err := f(el)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return BuildBounded(elem, Dims(a), Lower(a), out), nil
}

// Stack is ARRAY[sub, ...]: an array of one more dimension than its
// sub-arrays, all of one shape (lower bounds included, which the result
// keeps after its new first dimension's 1). A NULL or empty sub-array
// counts as empty; all of them empty make the empty array, some of them
// a 2202E error, as PostgreSQL's ExecEvalArrayExpr.
func Stack(elem *types.T, subs tree.Datums) (*tree.DArray, error) {
	var shape, lower []int
	empty, full := false, 0
	for _, s := range subs {
		if s == tree.DNull {
			empty = true
			continue
		}
		a := tree.MustBeDArray(s)
		d := Dims(a)
		if d == nil {
			empty = true
			continue
		}
		if full == 0 {
			shape, lower = d, LowerOrOnes(a)
		} else if !sameDims(shape, d) || !sameDims(lower, LowerOrOnes(a)) {
			return nil, ErrMatchingDims()
		}
		full++
	}
	if full == 0 {
		return tree.NewDArray(elem), nil
	}
	if empty {
		return nil, ErrMatchingDims()
	}
	if len(shape)+1 > MaxDims {
		return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", len(shape)+1, MaxDims)
	}
	out := make(tree.Datums, len(subs))
	for i, s := range subs {
		out[i] = Unbounded(withElem(tree.MustBeDArray(s), elem))
	}
	return WithLower(FromElems(elem, out), append([]int{1}, lower...)), nil
}

// withElem is a with ParamTyp elem at every level (a sub-array built
// elsewhere may carry an equivalent type of another width), its lower
// bounds kept.
func withElem(a *tree.DArray, elem *types.T) *tree.DArray {
	if a.ParamTyp.Identical(elem) {
		return a
	}
	if lb := Lower(a); lb != nil {
		return WithLower(withElem(Unbounded(a), elem), lb)
	}
	c := *a
	c.ParamTyp = elem
	if IsMulti(a) {
		c.Array = make(tree.Datums, len(a.Array))
		for i, el := range a.Array {
			c.Array[i] = withElem(tree.MustBeDArray(el), elem)
		}
	}
	return &c
}

func sameDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SameDims reports whether a and b have the same dimensions.
func SameDims(a, b *tree.DArray) bool { return sameDims(Dims(a), Dims(b)) }

// Cat is array_cat (and array || array) of two non-NULL arrays of elem:
// one after the other along the first dimension, or the one of a
// dimension less as one more element of the other, as PostgreSQL's. The
// inner dimensions must agree in length and lower bound; the result
// keeps the lower bounds of the first array, or of the one of more
// dimensions.
func Cat(elem *types.T, a, b *tree.DArray) (*tree.DArray, error) {
	da, db := Dims(a), Dims(b)
	la, lb := LowerOrOnes(a), LowerOrOnes(b)
	incompatible := func(detail string) error {
		return pgerror.WithDetail(pgerror.New(CodeArraySubscript, "cannot concatenate incompatible arrays"), detail)
	}
	var out tree.Datums
	var lower []int
	switch {
	case len(da) == 0:
		return withElem(b, elem), nil
	case len(db) == 0:
		return withElem(a, elem), nil
	case len(da) == len(db):
		if !sameDims(da[1:], db[1:]) || !sameDims(la[1:], lb[1:]) {
			return nil, incompatible("Arrays with differing element dimensions are not compatible for concatenation.")
		}
		out = append(append(out, a.Array...), b.Array...)
		lower = la
	case len(da) == len(db)+1:
		if !sameDims(da[1:], db) || !sameDims(la[1:], lb) {
			return nil, incompatible("Arrays with differing dimensions are not compatible for concatenation.")
		}
		out = append(append(out, a.Array...), Unbounded(b))
		lower = la
	case len(db) == len(da)+1:
		if !sameDims(db[1:], da) || !sameDims(lb[1:], la) {
			return nil, incompatible("Arrays with differing dimensions are not compatible for concatenation.")
		}
		out = append(append(out, tree.Datum(Unbounded(a))), b.Array...)
		lower = lb
	default:
		return nil, incompatible(fmt.Sprintf("Arrays of %d and %d dimensions are not compatible for concatenation.", len(da), len(db)))
	}
	if len(da) > 1 || len(db) > 1 {
		for i, el := range out {
			out[i] = withElem(tree.MustBeDArray(el), elem)
		}
	}
	res := FromElems(elem, out)
	if err := CheckBounds(Dims(res), lower); err != nil {
		return nil, err
	}
	return WithLower(res, lower), nil
}

// ErrNotOneDim is array_append's and array_prepend's error for an array
// of more than one dimension.
func ErrNotOneDim() error {
	return pgerror.New(pgerror.CodeDataException, "argument must be empty or one-dimensional array")
}
