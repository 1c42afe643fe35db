package sem

import (
	crdbpgerror "github.com/cockroachdb/cockroachdb-parser/pkg/sql/pgwire/pgerror"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"strings"
)

// CastInputError is PostgreSQL's message for a literal cast to a type it
// does not parse as ('x'::int), when err is the type checker's error for
// it: the checker folds the cast and reports every integer width as
// "int", which would read as bigint; the cast in expr names the width.
// It returns nil when err is not about such a cast.
func CastInputError(expr tree.Expr, err error) error {
	if crdbpgerror.GetPGCode(err).String() != string(pgerror.CodeInvalidTextRepresentation) {
		return nil
	}
	m := couldNotParse.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	var target *types.T
	tree.WalkExprConst(ExprVisitor(func(e tree.Expr) {
		c, ok := e.(*tree.CastExpr)
		if !ok || target != nil {
			return
		}
		if s, ok := c.Expr.(*tree.StrVal); ok && s.RawString() == m[1] {
			target, _ = c.Type.(*types.T)
		}
	}), expr)
	if target == nil {
		return nil
	}
	if target.Family() == types.IntFamily && strings.Contains(err.Error(), "value out of range") {
		return pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "value %q is out of range for type %s", m[1], target.SQLStandardName())
	}
	return InvalidInput(target, m[1])
}
