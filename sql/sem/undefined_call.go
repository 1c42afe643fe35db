package sem

import (
	"context"
	"regexp"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The type checker's errors for a call or an operator no overload of
// which takes its arguments name the types it gave them: an integer
// literal is its int (bigint), a string literal a string. PostgreSQL
// names the types its own resolution saw (integer, unknown), which the
// arguments in expr, the expression that failed to type-check, tell.

// CallDoesNotExist gives the type checker's error for a call in expr
// that no overload takes PostgreSQL's form (42883, "function f(integer)
// does not exist"), and an operator's (already PostgreSQL's words,
// OperatorDoesNotExist) PostgreSQL's names of its operands' types; other
// errors are returned as they are.
func CallDoesNotExist(ctx context.Context, sema *tree.SemaContext, expr tree.Expr, err error) error {
	if pgerror.CodeOf(err) != pgerror.CodeUndefinedFunction {
		return err
	}
	msg := err.Error()
	if m := missingOperator.FindStringSubmatch(msg); m != nil {
		l, lerr := ParseType(m[1])
		r, rerr := ParseType(m[3])
		if lerr != nil || rerr != nil {
			return err
		}
		left, right, ok := findOperands(ctx, sema, expr, m[2], l, r)
		if !ok {
			return err
		}
		return pgerror.WithHint(pgerror.Newf(pgerror.CodeUndefinedFunction, "operator does not exist: %s %s %s",
			argTypeName(ctx, sema, left, l), m[2], argTypeName(ctx, sema, right, r)),
			"No operator matches the given name and argument types. You might need to add explicit type casts.")
	}
	rest, ok := strings.CutPrefix(msg, "unknown signature: ")
	if !ok {
		return err
	}
	name, _, ok := strings.Cut(rest, "(")
	if !ok {
		return err
	}
	call := findCall(expr, strings.ToLower(name))
	if call == nil {
		return err
	}
	names := make([]string, len(call.Exprs))
	for i, a := range call.Exprs {
		names[i] = argTypeName(ctx, sema, a, nil)
	}
	return pgerror.WithHint(pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s(%s) does not exist", funcName(call), strings.Join(names, ", ")),
		"No function matches the given name and argument types. You might need to add explicit type casts.")
}

// missingOperator matches OperatorDoesNotExist's message: the operand
// types and the operator.
var missingOperator = regexp.MustCompile(`^operator does not exist: (.+) (\S+|NOT I?LIKE|I?LIKE) (.+)$`)

// operatorWords are the words the grammar spells operators PostgreSQL
// names by symbol with.
var operatorWords = map[string]string{"~~": "LIKE", "!~~": "NOT LIKE", "~~*": "ILIKE", "!~~*": "NOT ILIKE"}

// findCall is the only call of the function name in e; nil if there is
// none or several.
func findCall(e tree.Expr, name string) *tree.FuncExpr {
	var found *tree.FuncExpr
	n := 0
	_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		if f, ok := x.(*tree.FuncExpr); ok && funcName(f) == name {
			found = f
			n++
		}
		_, sub := x.(*tree.Subquery)
		return !sub, x, nil
	})
	if n != 1 {
		return nil
	}
	return found
}

// findOperands are the operands of the only operator op in e whose
// operands' types are l and r.
func findOperands(ctx context.Context, sema *tree.SemaContext, e tree.Expr, op string, l, r *types.T) (tree.Expr, tree.Expr, bool) {
	var left, right tree.Expr
	n := 0
	_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		var a, b tree.Expr
		switch x := x.(type) {
		case *tree.Subquery:
			return false, x, nil
		case *tree.BinaryExpr:
			if s := x.Operator.Symbol.String(); s == op || s == operatorWords[op] {
				a, b = x.Left, x.Right
			}
		case *tree.ComparisonExpr:
			if s := x.Operator.String(); s == op || s == operatorWords[op] {
				a, b = x.Left, x.Right
			}
		}
		if a != nil && typeIs(ctx, sema, a, l) && typeIs(ctx, sema, b, r) {
			left, right = a, b
			n++
		}
		return true, x, nil
	})
	return left, right, n == 1
}

// typeIs reports whether e type-checks alone as t.
func typeIs(ctx context.Context, sema *tree.SemaContext, e tree.Expr, t *types.T) bool {
	te, err := e.TypeCheck(ctx, sema, types.AnyElement)
	return err == nil && te.ResolvedType().Equivalent(t)
}

// argTypeName is the name of e's type in PostgreSQL's resolution of the
// call or operator e is an argument of: unknown for a string literal or
// NULL, integer for an integer literal that fits (PGIntWidth); typed is
// the type the type checker gave it, if known.
func argTypeName(ctx context.Context, sema *tree.SemaContext, e tree.Expr, typed *types.T) string {
	for {
		p, ok := e.(*tree.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	switch x := e.(type) {
	case *tree.StrVal:
		return "unknown"
	case *tree.NumVal:
		if !x.ShouldBeInt64() {
			return "numeric"
		}
	}
	if e == tree.DNull {
		return "unknown"
	}
	te, err := e.TypeCheck(ctx, sema, types.AnyElement)
	if err != nil {
		if typed != nil {
			return FormatTypeOf(typed, -1)
		}
		return "?"
	}
	return FormatTypeOf(pgTypeOf(te), -1)
}
