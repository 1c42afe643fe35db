package sql

import (
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
)

// builtinFn is the implementation of a scalar builtin overload; its args
// are never NULL (a NULL argument makes the result NULL without a call).
type builtinFn func(e *evalCtx, args tree.Datums) (tree.Datum, error)

// aggKind names an aggregate; the planner computes aggregates, so their
// overloads carry only this.
type aggKind string

// The builtin functions. The parser's tree package type-checks calls
// against these definitions (tree.FunDefs); evalFunc and the aggregation
// node run them.
var builtins = map[string][]tree.Overload{
	"lower":        {strFn(strings.ToLower)},
	"upper":        {strFn(strings.ToUpper)},
	"length":       {intOfStr(func(s string) int64 { return int64(utf8.RuneCountInString(s)) })},
	"char_length":  {intOfStr(func(s string) int64 { return int64(utf8.RuneCountInString(s)) })},
	"octet_length": {intOfStr(func(s string) int64 { return int64(len(s)) })},
	"abs": {
		numFn(types.Int, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			v := tree.MustBeDInt(a[0])
			if v < 0 {
				if v == -v {
					return nil, errIntOutOfRange
				}
				v = -v
			}
			return tree.NewDInt(v), nil
		}),
		numFn(types.Float, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			v := *a[0].(*tree.DFloat)
			if v < 0 {
				v = -v
			}
			return tree.NewDFloat(v), nil
		}),
		numFn(types.Decimal, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			r := &tree.DDecimal{}
			r.Decimal.Abs(&a[0].(*tree.DDecimal).Decimal)
			return r, nil
		}),
	},
	"now":                   {timeFn()},
	"current_timestamp":     {timeFn()},
	"transaction_timestamp": {timeFn()},
	"version": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Stable,
		Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString("PostgreSQL 15.0 (Meridian)"), nil
		}),
	}},
	"unique_rowid": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Volatile,
		Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(tree.DInt(uniqueRowID(e))), nil
		}),
	}},
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
}

func init() {
	// The parser's tree package resolves function names through these
	// maps, which CockroachDB's builtins package fills; here we do.
	tree.FunDefs = map[string]*tree.FunctionDefinition{}
	tree.ResolvedBuiltinFuncDefs = map[string]*tree.ResolvedFunctionDefinition{}
	for name, overloads := range builtins {
		props := &tree.FunctionProperties{}
		if overloads[0].Class == tree.AggregateClass {
			props.Category = "Aggregate"
		}
		def := tree.NewFunctionDefinition(name, props, overloads)
		tree.FunDefs[name] = def
		tree.ResolvedBuiltinFuncDefs[catconstants.PgCatalogName+"."+name] = tree.QualifyBuiltinFunctionDefinition(def, catconstants.PgCatalogName)
	}
}

func strFn(f func(string) string) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(f(string(tree.MustBeDString(a[0])))), nil
		}),
	}
}

func intOfStr(f func(string) int64) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.Int),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(tree.DInt(f(string(tree.MustBeDString(a[0]))))), nil
		}),
	}
}

func numFn(t *types.T, f builtinFn) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "x", Typ: t}}, ReturnType: tree.FixedReturnType(t),
		Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: f,
	}
}

func timeFn() tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.TimestampTZ),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDTimestampTZ(e.stmtTime, 1000)
		}),
	}
}

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

// evalFunc runs a scalar builtin.
func (e *evalCtx) evalFunc(x *tree.FuncExpr) (tree.Datum, error) {
	ov := x.ResolvedOverload()
	if ov == nil {
		return nil, unsupported("unknown function %s", x.Func)
	}
	fn, ok := ov.Fn.(builtinFn)
	if !ok {
		if _, agg := ov.Fn.(aggKind); agg {
			return nil, errorf("42803", "aggregate function %s is not allowed here", x.Func)
		}
		return nil, errors.AssertionFailedf("function %s has no implementation", x.Func)
	}
	args := make(tree.Datums, len(x.Exprs))
	for i := range x.Exprs {
		d, err := e.eval(x.Exprs[i].(tree.TypedExpr))
		if err != nil {
			return nil, err
		}
		if d == tree.DNull {
			return tree.DNull, nil
		}
		args[i] = d
	}
	return fn(e, args)
}
