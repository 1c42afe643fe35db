package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// Aggregates: the planner computes them (groupNode and windowNode), so their overloads carry only their AggKind.
var _ = RegisterFamily(map[string][]tree.Overload{
	"count_rows": {AggOverload(nil, types.Int, "count_rows")},
	"count":      {AggOverload(types.AnyElement, types.Int, "count")},
	"sum": {
		AggOverload(types.Int, types.Decimal, "sum"),
		AggOverload(types.Float, types.Float, "sum"),
		AggOverload(types.Decimal, types.Decimal, "sum"),
		AggOverload(types.Interval, types.Interval, "sum"),
	},
	"avg": {
		AggOverload(types.Int, types.Decimal, "avg"),
		AggOverload(types.Float, types.Float, "avg"),
		AggOverload(types.Decimal, types.Decimal, "avg"),
		AggOverload(types.Interval, types.Interval, "avg"),
	},
	"min": {aggIdentity("min")},
	"max": {aggIdentity("max")},
})

// AggOverload is an aggregate's overload taking arg (nothing when nil)
// and returning ret: the planner computes kind, so the overload carries
// only that.
func AggOverload(arg, ret *types.T, kind AggKind) tree.Overload {
	params := tree.ParamTypes{}
	if arg != nil {
		params = tree.ParamTypes{{Name: "arg", Typ: arg}}
	}
	return tree.Overload{
		Types: params, ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Immutable,
		Class: tree.AggregateClass, Fn: kind,
	}
}

func aggIdentity(kind AggKind) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "arg", Typ: types.AnyElement}}, ReturnType: tree.IdentityReturnType(0),
		Volatility: volatility.Immutable, Class: tree.AggregateClass, Fn: kind,
	}
}
