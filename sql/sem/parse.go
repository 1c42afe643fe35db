// Package sem is the semantics of expressions, below the catalog and the
// planner: what the stages of the SQL pipeline share about types and
// what an expression means and computes.
//
//   - Evaluation (EvalCtx: expr.go, expr_array.go, expr_datetime.go,
//     expr_json.go): operators, comparisons and casts (CastDatum), with
//     PostgreSQL's results and errors. What it needs of the layers above
//     (the catalog for ::regclass, the session, subqueries) comes through
//     the seams in seams.go and EvalCtx's fields, which package sql fills.
//   - Type resolution: PostgreSQL's implicit casts (typeres.go) and the
//     types clients see (literal_type.go).
//   - Builtin functions, registered per family and file (Register,
//     RegisterFamily: builtins_string.go, builtins_math.go, ...); the
//     family that reads the catalog (pg_get_indexdef and friends)
//     registers from package sql.
//   - Parsing expressions and type names with the parser's errors given
//     PostgreSQL's SQLSTATEs (parse.go), the names, widths and modifiers
//     PostgreSQL's catalogs show for types (pgtypes.go), and the columns an
//     expression names (walk.go).
package sem

import (
	"context"
	"regexp"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	crdbpgerror "github.com/cockroachdb/cockroachdb-parser/pkg/sql/pgwire/pgerror"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// WithParserCode keeps the SQLSTATE the parser's own errors carry (they
// use CockroachDB's pgerror package) when passing them on.
func WithParserCode(err error) error {
	if err == nil {
		return nil
	}
	if pgerror.CodeOf(err) != pgerror.CodeInternalError {
		return err // ours already (sql's own parsing, as of role statements)
	}
	if code := crdbpgerror.GetPGCode(err).String(); code != "" && code != string(pgerror.CodeInternalError) {
		if pgerror.Code(code) == pgerror.CodeInvalidTextRepresentation {
			if m := couldNotParse.FindStringSubmatch(err.Error()); m != nil {
				if t, terr := ParseType(m[2]); terr == nil {
					return InvalidInput(t, m[1])
				}
			}
		}
		return pgerror.WithCode(err, pgerror.Code(code))
	}
	return pgerror.WithCode(err, pgerror.CodeSyntaxError)
}

// couldNotParse matches the type checker's message for a literal that
// does not parse as its type.
var couldNotParse = regexp.MustCompile(`could not parse "(.*)" as type ([a-zA-Z0-9_ ]+)`)

// InvalidInput is PostgreSQL's error for a value that does not parse as
// type t.
func InvalidInput(t *types.T, value string) error {
	if t.Family() == types.EnumFamily && t.TypeMeta.Name != nil {
		return pgerror.Newf(pgerror.CodeInvalidTextRepresentation, "invalid input value for enum %s: %q", t.TypeMeta.Name.Name, value)
	}
	code := pgerror.CodeInvalidTextRepresentation
	switch t.Family() {
	case types.DateFamily, types.TimestampFamily, types.TimestampTZFamily, types.TimeFamily, types.TimeTZFamily, types.IntervalFamily:
		// The date/time input functions' code (invalid_datetime_format).
		code = codeInvalidDatetimeFormat
	}
	return pgerror.Newf(code, "invalid input syntax for type %s: %q", t.SQLStandardName(), value)
}

func ParseExpr(sql string) (tree.Expr, error) {
	e, err := parser.ParseExprWithInt(sql, types.Int4)
	return e, WithParserCode(err)
}

func ParseType(name string) (*types.T, error) {
	ref, err := parser.GetTypeFromValidSQLSyntax(name)
	if err != nil {
		return nil, err
	}
	return tree.ResolveType(context.Background(), ref, nil)
}
