package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// The functions behind boolean = and <>, which PostgreSQL lets queries
// call by name.
var _ = RegisterFamily(map[string][]tree.Overload{
	"booleq": {boolCompare(func(a, b bool) bool { return a == b })},
	"boolne": {boolCompare(func(a, b bool) bool { return a != b })},
})

func boolCompare(f func(a, b bool) bool) tree.Overload {
	return strOverload(tree.ParamTypes{{Name: "a", Typ: types.Bool}, {Name: "b", Typ: types.Bool}}, types.Bool,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDBool(tree.DBool(f(bool(tree.MustBeDBool(a[0])), bool(tree.MustBeDBool(a[1]))))), nil
		})
}
