package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
)

// builtinFn is the implementation of a scalar builtin overload; its args
// are never NULL (a NULL argument makes the result NULL without a call).
type builtinFn func(e *evalCtx, args tree.Datums) (tree.Datum, error)

// builtinTypedFn is a builtin that also sees its arguments' types, which
// a NULL argument does not carry (pg_typeof).
type builtinTypedFn func(e *evalCtx, args tree.Datums, argTypes []*types.T) (tree.Datum, error)

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
	var fn builtinFn
	switch f := ov.Fn.(type) {
	case builtinFn:
		fn = f
	case builtinTypedFn:
		argTypes := make([]*types.T, len(x.Exprs))
		for i := range x.Exprs {
			argTypes[i] = pgTypeOf(x.Exprs[i].(tree.TypedExpr))
		}
		fn = func(e *evalCtx, args tree.Datums) (tree.Datum, error) { return f(e, args, argTypes) }
	case aggKind:
		return nil, errorf("42803", "aggregate function %s is not allowed here", x.Func)
	default:
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

// pgTypeOf is an expression's type as PostgreSQL sees it: an integer
// literal is an int4 when it fits.
func pgTypeOf(e tree.TypedExpr) *types.T {
	t := e.ResolvedType()
	if t.Family() == types.IntFamily {
		switch pgIntWidth(e) {
		case 16:
			return types.Int2
		case 32:
			return types.Int4
		}
		return types.Int
	}
	return t
}
