package sem

import (
	"math"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// OutputType is the type a select list item shows clients (its
// RowDescription OID): its resolved type, except that an integer literal
// that fits in 32 bits is an integer (int4) as in PostgreSQL, where
// CockroachDB's checker makes every integer literal an int8 — node-postgres
// then returned SELECT 1 as the string "1" (int8 arrives as a string).
func OutputType(te tree.TypedExpr) *types.T {
	if _, ok := te.(*tree.DInt); ok && te.ResolvedType().Family() == types.IntFamily && PGIntWidth(te) == 32 {
		return types.Int4
	}
	if te.ResolvedType().Family() == types.ArrayFamily {
		// ARRAY[1, 2] is an integer[] as well (arrayIntWidth).
		if w, ok := arrayIntWidth(te); ok {
			return types.MakeArray(intOfWidth(w))
		}
	}
	return te.ResolvedType()
}

// arrayIntWidth is the width PostgreSQL gives the elements of an ARRAY
// constructor of integers: the widest element's (PGIntWidth, so that
// ARRAY[1, 2] is an int4[] where the checker makes it an int8[]); nested
// constructors (ARRAY[[1, 2], [3, 4]]) count their elements. False if
// an element is not an integer.
func arrayIntWidth(te tree.TypedExpr) (int32, bool) {
	var elems tree.Exprs
	switch x := te.(type) {
	case *tree.Array:
		elems = x.Exprs
	case *tree.FuncExpr:
		if x.Func.FunctionReference != arrayStackDef {
			return 0, false
		}
		elems = x.Exprs
	default:
		return 0, false
	}
	if len(elems) == 0 {
		return 0, false
	}
	w := int32(0)
	for _, x := range elems {
		el, ok := x.(tree.TypedExpr)
		if !ok {
			return 0, false
		}
		ew := PGIntWidth(el)
		if el.ResolvedType().Family() != types.IntFamily {
			if ew, ok = arrayIntWidth(el); !ok {
				return 0, false
			}
		}
		w = max(w, ew)
	}
	return w, true
}

// intOfWidth is the integer type of a width in bits.
func intOfWidth(w int32) *types.T {
	switch w {
	case 16:
		return types.Int2
	case 32:
		return types.Int4
	}
	return types.Int
}

// PGIntWidth is the width PostgreSQL gives an integer expression: its
// type's, with a literal that fits in 32 bits counting as an int4.
func PGIntWidth(e tree.TypedExpr) int32 {
	if d, ok := e.(*tree.DInt); ok {
		if int64(*d) >= math.MinInt32 && int64(*d) <= math.MaxInt32 {
			return 32
		}
		return 64
	}
	if w := e.ResolvedType().Width(); w != 0 {
		return w
	}
	return 64
}
