package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// Aggregates: the planner computes them (groupNode and windowNode), so their overloads carry only their aggKind.
var _ = addBuiltins(map[string][]tree.Overload{
	"count_rows": {aggOverload(nil, types.Int, "count_rows")},
	"count":      {aggOverload(types.AnyElement, types.Int, "count")},
	"sum": {
		aggOverload(types.Int, types.Decimal, "sum"),
		aggOverload(types.Float, types.Float, "sum"),
		aggOverload(types.Decimal, types.Decimal, "sum"),
	},
	"avg": {
		aggOverload(types.Int, types.Decimal, "avg"),
		aggOverload(types.Float, types.Float, "avg"),
		aggOverload(types.Decimal, types.Decimal, "avg"),
	},
	"min": {aggIdentity("min")},
	"max": {aggIdentity("max")},
})

func aggOverload(arg, ret *types.T, kind aggKind) tree.Overload {
	params := tree.ParamTypes{}
	if arg != nil {
		params = tree.ParamTypes{{Name: "arg", Typ: arg}}
	}
	return tree.Overload{
		Types: params, ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Immutable,
		Class: tree.AggregateClass, Fn: kind,
	}
}

func aggIdentity(kind aggKind) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "arg", Typ: types.AnyElement}}, ReturnType: tree.IdentityReturnType(0),
		Volatility: volatility.Immutable, Class: tree.AggregateClass, Fn: kind,
	}
}
