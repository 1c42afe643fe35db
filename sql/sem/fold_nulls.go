package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// FoldStrictNulls does what PostgreSQL's planner does with a NULL
// constant (eval_const_expressions): a strict function, operator or
// cast of one is NULL, a CASE arm whose condition is NULL is dropped,
// a COALESCE of NULLs is NULL. The arguments beside the NULL are then
// never evaluated, and so raise no error: in PostgreSQL
// `(i4 + NULL::int4) % (i4 - i4)` is NULL on every row, not a division
// by zero. Only NULL constants are folded; other constant expressions
// are evaluated row by row as before.
func FoldStrictNulls(te tree.TypedExpr) tree.TypedExpr {
	out, _ := tree.WalkExpr(foldNulls{}, te)
	return out.(tree.TypedExpr)
}

type foldNulls struct{}

func (foldNulls) VisitPre(e tree.Expr) (bool, tree.Expr) {
	// A subquery's expressions were folded when it was planned.
	_, sub := e.(*tree.Subquery)
	return !sub, e
}

func (foldNulls) VisitPost(e tree.Expr) tree.Expr {
	te, ok := e.(tree.TypedExpr)
	if !ok || isNullConst(te) {
		return e
	}
	switch x := e.(type) {
	case *tree.FuncExpr:
		ov := x.ResolvedOverload()
		if ov == nil || ov.CalledOnNullInput || x.WindowDef != nil {
			return e
		}
		if _, ok := ov.Fn.(AggKind); ok {
			return e
		}
		if _, ok := ov.Fn.(SetReturning); ok {
			return e
		}
		if anyNullConst(x.Exprs...) {
			return typedNull(te)
		}
	case *tree.BinaryExpr:
		if x.ResolvedType().Family() == types.ArrayFamily {
			// array || array and array || element are not strict
			// (array_cat, array_append): NULL || '{1}' is '{1}'.
			return e
		}
		if anyNullConst(x.Left, x.Right) {
			return typedNull(te)
		}
	case *tree.UnaryExpr:
		if anyNullConst(x.Expr) {
			return typedNull(te)
		}
	case *tree.ComparisonExpr:
		switch x.Operator.Symbol {
		case treecmp.IsDistinctFrom, treecmp.IsNotDistinctFrom, treecmp.Any, treecmp.Some, treecmp.All:
			// Not strict, or (= ANY) not folded by PostgreSQL.
			return e
		case treecmp.In, treecmp.NotIn:
			// NULL IN (a, b) is NULL; x IN (NULL, ...) is not, nor
			// NULL IN (subquery) (false when it has no rows).
			if tup, ok := x.Right.(*tree.Tuple); ok && len(tup.Exprs) > 0 && anyNullConst(x.Left) {
				return typedNull(te)
			}
			return e
		}
		if anyNullConst(x.Left, x.Right) {
			return typedNull(te)
		}
	case *tree.RangeCond:
		// x BETWEEN a AND b is x >= a AND x <= b: NULL AND NULL when x
		// is NULL.
		if anyNullConst(x.Left) {
			return typedNull(te)
		}
	case *tree.NotExpr:
		if anyNullConst(x.Expr) {
			return typedNull(te)
		}
	case *tree.AndExpr:
		if anyNullConst(x.Left) && anyNullConst(x.Right) {
			return typedNull(te)
		}
	case *tree.OrExpr:
		if anyNullConst(x.Left) && anyNullConst(x.Right) {
			return typedNull(te)
		}
	case *tree.CoalesceExpr:
		for _, a := range x.Exprs {
			if !anyNullConst(a) {
				return e
			}
		}
		return typedNull(te)
	case *tree.NullIfExpr:
		// NULLIF(NULL, x) is NULL; NULLIF(x, NULL) is x.
		if anyNullConst(x.Expr1) {
			return typedNull(te)
		}
	case *tree.CaseExpr:
		return foldCase(x)
	}
	return e
}

// foldCase drops the arms of a CASE that no row can take: those whose
// condition is a NULL constant (or, for CASE x WHEN, all of them when x
// is one: NULL = y is NULL). With none left the CASE is its ELSE.
func foldCase(x *tree.CaseExpr) tree.Expr {
	operandNull := x.Expr != nil && anyNullConst(x.Expr)
	whens := x.Whens[:0:0]
	for _, w := range x.Whens {
		if operandNull || anyNullConst(w.Cond) {
			continue
		}
		whens = append(whens, w)
	}
	if len(whens) == len(x.Whens) {
		return x
	}
	if len(whens) == 0 && (x.Else == nil || anyNullConst(x.Else)) {
		return typedNull(x)
	}
	var operand tree.TypedExpr
	if x.Expr != nil {
		operand = x.Expr.(tree.TypedExpr)
	}
	var elseExpr tree.TypedExpr
	if x.Else != nil {
		elseExpr = x.Else.(tree.TypedExpr)
	}
	if len(whens) == 0 {
		// The ELSE alone, still inside the CASE: it keeps the CASE's
		// type, to which its own would have been cast.
		operand = nil
	}
	out, err := tree.NewTypedCaseExpr(operand, whens, elseExpr, x.ResolvedType())
	if err != nil {
		return x
	}
	return out
}

// isNullConst is whether e is a NULL constant: NULL, or a cast or
// parenthesis of one.
func isNullConst(e tree.Expr) bool {
	switch x := e.(type) {
	case *tree.CastExpr:
		return isNullConst(x.Expr)
	case *tree.ParenExpr:
		return isNullConst(x.Expr)
	}
	return e == tree.DNull
}

func anyNullConst(es ...tree.Expr) bool {
	for _, e := range es {
		if isNullConst(e) {
			return true
		}
	}
	return false
}

// typedNull is a NULL of e's type as PostgreSQL has it (an int4 sum
// stays an int4).
func typedNull(e tree.TypedExpr) tree.TypedExpr {
	return tree.NewTypedCastExpr(tree.DNull, pgTypeOf(e))
}
