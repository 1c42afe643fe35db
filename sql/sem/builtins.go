package sem

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// BuiltinFn is the implementation of a scalar builtin overload; its args
// are never NULL (a NULL argument makes the result NULL without a call).
type BuiltinFn func(e *EvalCtx, args tree.Datums) (tree.Datum, error)

// BuiltinTypedFn is a builtin that also sees its arguments' types, which
// a NULL argument does not carry (pg_typeof).
type BuiltinTypedFn func(e *EvalCtx, args tree.Datums, argTypes []*types.T) (tree.Datum, error)

// AggKind names an aggregate; the planner computes aggregates, so their
// overloads carry only this.
type AggKind string

// builtins are the builtin functions by name, registered one family a
// file (Register): builtins_string.go, builtins_math.go, ... here, and
// the family that reads the catalog (builtins_catalog.go) from package
// sql. The parser's tree package type-checks calls against these
// definitions (tree.FunDefs); evalFunc and the aggregation node run them.
var builtins = map[string][]tree.Overload{}

// Overloads are the overloads of the builtin function name (lower case;
// schema-qualified unless in pg_catalog); nil if there is none.
func Overloads(name string) []tree.Overload { return builtins[name] }

// funDefsReset records that Register replaced the parser's function maps.
var funDefsReset bool

// Register defines the builtin function name, replacing any of that name.
// It is called while packages initialize, before any statement is type
// checked.
func Register(name string, overloads ...tree.Overload) {
	if !funDefsReset {
		// The parser's tree package resolves function names through
		// these maps, which CockroachDB's builtins package fills; here
		// we do.
		tree.FunDefs = map[string]*tree.FunctionDefinition{}
		tree.ResolvedBuiltinFuncDefs = map[string]*tree.ResolvedFunctionDefinition{}
		funDefsReset = true
	}
	// The type checker reads the parameters of an overload that is not
	// marked builtin as a routine's fixed list, which a variadic one has
	// not.
	for i := range overloads {
		overloads[i].Type = tree.BuiltinRoutine
	}
	schema := catconstants.PgCatalogName
	if s, n, ok := strings.Cut(name, "."); ok {
		// A function of another schema (information_schema._pg_expandarray)
		// is found only under its qualified name, as in PostgreSQL.
		schema, name = s, n
	}
	builtins[qualified(schema, name)] = overloads
	props := &tree.FunctionProperties{}
	if overloads[0].Class == tree.AggregateClass {
		props.Category = "Aggregate"
	}
	def := tree.NewFunctionDefinition(name, props, overloads)
	if schema == catconstants.PgCatalogName {
		tree.FunDefs[name] = def
	}
	tree.ResolvedBuiltinFuncDefs[schema+"."+name] = tree.QualifyBuiltinFunctionDefinition(def, schema)
}

// qualified is the key of a builtin in builtins: its name, prefixed with
// its schema unless that is pg_catalog.
func qualified(schema, name string) string {
	if schema == catconstants.PgCatalogName {
		return name
	}
	return schema + "." + name
}

// RegisterFamily registers a file's functions (Register); it returns
// true so that a package variable's initializer can call it.
func RegisterFamily(fns map[string][]tree.Overload) bool {
	for name, ov := range fns {
		Register(name, ov...)
	}
	return true
}

// SetReturning marks the implementation of a set-returning function's
// overload. The node that renders a select list expands such calls;
// evaluation answers a call with the value the node set for the row
// (SRFRow), and refuses it anywhere else.
type SetReturning interface {
	IsSetReturning()
}

// srfValue is a set-returning call's value for the row being emitted.
func (e *EvalCtx) srfValue(x *tree.FuncExpr) (tree.Datum, error) {
	if d, ok := e.SRFRow[x]; ok {
		return d, nil
	}
	return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "set-returning function %s is not allowed here", strings.ToLower(tree.AsString(x.Func)))
}

// evalFunc runs a scalar builtin.
func (e *EvalCtx) evalFunc(x *tree.FuncExpr) (tree.Datum, error) {
	ov := x.ResolvedOverload()
	if ov == nil {
		return nil, pgerror.Unsupported("unknown function %s", x.Func)
	}
	var fn BuiltinFn
	switch f := ov.Fn.(type) {
	case BuiltinFn:
		fn = f
	case BuiltinTypedFn:
		argTypes := make([]*types.T, len(x.Exprs))
		for i := range x.Exprs {
			argTypes[i] = pgTypeOf(x.Exprs[i].(tree.TypedExpr))
		}
		fn = func(e *EvalCtx, args tree.Datums) (tree.Datum, error) { return f(e, args, argTypes) }
	case AggKind:
		return nil, errorf("42803", "aggregate function %s is not allowed here", x.Func)
	case SetReturning:
		return e.srfValue(x)
	default:
		return nil, errors.AssertionFailedf("function %s has no implementation", x.Func)
	}
	args := make(tree.Datums, len(x.Exprs))
	hasNull := false
	for i := range x.Exprs {
		// Every argument, even after a NULL one: PostgreSQL evaluates
		// all of a strict function's arguments before it looks for a
		// NULL among them, and so raises a later argument's error.
		d, err := e.Eval(x.Exprs[i].(tree.TypedExpr))
		if err != nil {
			return nil, err
		}
		hasNull = hasNull || d == tree.DNull
		args[i] = d
	}
	if hasNull && !ov.CalledOnNullInput {
		return tree.DNull, nil
	}
	return fn(e, args)
}

// pgTypeOf is an expression's type as PostgreSQL sees it: an integer
// literal is an int4 when it fits.
func pgTypeOf(e tree.TypedExpr) *types.T {
	t := e.ResolvedType()
	if t.Family() == types.IntFamily {
		return intOfWidth(PGIntWidth(e))
	}
	if t.Family() == types.ArrayFamily {
		return OutputType(e)
	}
	return t
}
