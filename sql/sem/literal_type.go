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
	return te.ResolvedType()
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
