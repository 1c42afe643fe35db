package vtable

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

// DisplayExpr is a stored expression (a column default, kept as the type
// checker's serialization) as PostgreSQL's catalogs show it: without the
// type annotations (0:::DECIMAL) the serialization adds.
func DisplayExpr(stored string) string {
	e, err := sem.ParseExpr(stored)
	if err != nil {
		return stored
	}
	e, err = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		if a, ok := x.(*tree.AnnotateTypeExpr); ok {
			return true, a.Expr, nil
		}
		return true, x, nil
	})
	if err != nil {
		return stored
	}
	// PostgreSQL prints the regclass of a sequence's nextval in lower
	// case; the parser's formatter in upper.
	return strings.ReplaceAll(tree.AsStringWithFlags(e, tree.FmtPGCatalog), "::REGCLASS", "::regclass")
}

// DisplayDefault is a column's default as PostgreSQL shows it: a string
// constant carries its column's type ('x'::text), as PostgreSQL stores
// it coerced.
func DisplayDefault(c *catalog.ColumnDescriptor) string {
	shown := DisplayExpr(c.Default)
	e, err := sem.ParseExpr(c.Default)
	if err != nil {
		return shown
	}
	if a, ok := e.(*tree.AnnotateTypeExpr); ok {
		e = a.Expr
	}
	switch e.(type) {
	case *tree.StrVal, *tree.DString:
	default:
		return shown
	}
	name := sem.FormatTypeOf(c.Type(), -1)
	if c.Type().Oid() == oid.T_bpchar {
		name = "bpchar"
	}
	return shown + "::" + name
}

// DisplayPredicate is a partial index's predicate as PostgreSQL deparses
// it (pg_get_indexdef, pg_index.indpred): a bare column as it is,
// anything else parenthesized.
func DisplayPredicate(pred string) string {
	if e, err := sem.ParseExpr(pred); err == nil {
		if _, ok := e.(*tree.UnresolvedName); ok {
			return DisplayExpr(pred)
		}
	}
	return "(" + DisplayExpr(pred) + ")"
}
