package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/errors"
)

// builtinFn is the implementation of a scalar builtin overload; its args
// are never NULL (a NULL argument makes the result NULL without a call).
type builtinFn func(e *evalCtx, args tree.Datums) (tree.Datum, error)

// aggKind names an aggregate; the planner computes aggregates, so their
// overloads carry only this.
type aggKind string

// The builtin functions, registered one family a file through
// addBuiltins: builtins_string.go, builtins_math.go, builtins_system.go,
// builtins_catalog.go, builtins_sequence.go, builtins_aggregate.go. The
// parser's tree package type-checks calls against these definitions
// (tree.FunDefs); evalFunc and the aggregation node run them.
var builtins = map[string][]tree.Overload{}

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
		if d == tree.DNull && !ov.CalledOnNullInput {
			return tree.DNull, nil
		}
		args[i] = d
	}
	return fn(e, args)
}

// addBuiltins adds functions to builtins; as a package variable's
// initializer it runs before the init that registers them all.
func addBuiltins(fns map[string][]tree.Overload) bool {
	for name, ov := range fns {
		builtins[name] = ov
	}
	return true
}
