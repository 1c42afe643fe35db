package sem_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// TestCallDoesNotExist: a call or operator of no overload is named with
// the types PostgreSQL gives its arguments, not the type checker's.
func TestCallDoesNotExist(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ expr, want string }{
		{"length(42)", "function length(integer) does not exist"},
		{"upper(1.5, 'x', NULL)", "function upper(numeric, unknown, unknown) does not exist"},
		{"3 || 4.0", "operator does not exist: integer || numeric"},
	} {
		e, err := sem.ParseExpr(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		sema := tree.MakeSemaContext(nil)
		_, err = tree.TypeCheck(ctx, e, &sema, types.AnyElement)
		if err == nil {
			t.Fatalf("%s: type-checks", tc.expr)
		}
		err = sem.CallDoesNotExist(ctx, &sema, e, sem.OperatorDoesNotExist(sem.WithParserCode(err)))
		if err.Error() != tc.want || pgerror.CodeOf(err) != pgerror.CodeUndefinedFunction {
			t.Errorf("%s: %v (%s), want %q", tc.expr, err, pgerror.CodeOf(err), tc.want)
		}
	}
}
