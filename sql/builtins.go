package sql

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/vtable"
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
	"lower":     {strFn(strings.ToLower)},
	"btrim":     trimFn(strings.Trim),
	"ltrim":     trimFn(strings.TrimLeft),
	"rtrim":     trimFn(strings.TrimRight),
	"substr":    substrFn(),
	"substring": substrFn(),
	"replace": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "from", Typ: types.String}, {Name: "to", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(strings.ReplaceAll(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])))), nil
		}),
	}},
	"strpos": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "sub", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			s, sub := string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1]))
			i := strings.Index(s, sub)
			if i < 0 {
				return tree.NewDInt(0), nil
			}
			return tree.NewDInt(tree.DInt(utf8.RuneCountInString(s[:i]) + 1)), nil
		}),
	}},
	"repeat": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			n := int(tree.MustBeDInt(a[1]))
			s := string(tree.MustBeDString(a[0]))
			if n <= 0 {
				return tree.NewDString(""), nil
			}
			if len(s)*n > 1<<28 {
				return nil, pgerror.New(pgerror.CodeProgramLimitExceeded, "requested length too large")
			}
			return tree.NewDString(strings.Repeat(s, n)), nil
		}),
	}},
	// left and right take n characters from one end, or with n < 0 all
	// but -n from the other.
	"left": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			r := []rune(string(tree.MustBeDString(a[0])))
			n := clampRunes(int64(tree.MustBeDInt(a[1])), len(r))
			return tree.NewDString(string(r[:n])), nil
		}),
	}},
	"right": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			r := []rune(string(tree.MustBeDString(a[0])))
			n := clampRunes(int64(tree.MustBeDInt(a[1])), len(r))
			return tree.NewDString(string(r[len(r)-n:])), nil
		}),
	}},
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
	"pg_get_userbyid": {{
		Types: tree.ParamTypes{{Name: "role", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) { return tree.NewDName("root"), nil }),
	}},
	"pg_table_is_visible": {{
		Types: tree.ParamTypes{{Name: "table", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(types.Bool),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		// Every table lives in public, which is on the search path.
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) { return tree.DBoolTrue, nil }),
	}},
	"pg_encoding_to_char": {{
		Types: tree.ParamTypes{{Name: "encoding", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			if tree.MustBeDInt(a[0]) == vtable.UTF8EncodingID {
				return tree.NewDName("UTF8"), nil
			}
			return tree.NewDName(""), nil
		}),
	}},
	// array_to_string is here for catalog queries, whose arrays (ACLs) are
	// always NULL: arrays are not a column type yet.
	"array_to_string": {{
		Types:      tree.ParamTypes{{Name: "arr", Typ: types.StringArray}, {Name: "sep", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			arr, ok := a[0].(*tree.DArray)
			if !ok {
				return nil, errors.AssertionFailedf("array_to_string of %T", a[0])
			}
			parts := make([]string, 0, arr.Len())
			for _, d := range arr.Array {
				if d != tree.DNull {
					parts = append(parts, string(tree.MustBeDString(d)))
				}
			}
			return tree.NewDString(strings.Join(parts, string(tree.MustBeDString(a[1])))), nil
		}),
	}},
	// Table sizes are not tracked per table yet: unknown, so NULL, which
	// psql's \dt+ prints as blank.
	// No table is partitioned: a relation's partition ancestors are
	// itself (PostgreSQL's is a set-returning function; psql's \d uses
	// it where one row is all it can give here).
	"pg_partition_ancestors": {{
		Types: tree.ParamTypes{{Name: "rel", Typ: types.RegClass}}, ReturnType: tree.FixedReturnType(types.RegClass),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) { return a[0], nil }),
	}},
	"pg_get_triggerdef": {
		constFn(tree.ParamTypes{{Name: "trigger", Typ: types.Oid}}, types.String, tree.DNull),
		constFn(tree.ParamTypes{{Name: "trigger", Typ: types.Oid}, {Name: "pretty", Typ: types.Bool}}, types.String, tree.DNull),
	},
	"pg_table_size": {constFn(tree.ParamTypes{{Name: "table", Typ: types.Oid}}, types.Int, tree.DNull)},
	"pg_size_pretty": {{
		Types: tree.ParamTypes{{Name: "size", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(sizePretty(int64(tree.MustBeDInt(a[0])))), nil
		}),
	}},
	// Comments are not stored: every object has none.
	"col_description": {catalogFn(tree.ParamTypes{{Name: "table", Typ: types.Oid}, {Name: "column", Typ: types.Int}}, types.String,
		func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			d, err := tableByOID(e, a[0])
			if err != nil || d == nil {
				return tree.DNull, err
			}
			n := int(tree.MustBeDInt(a[1]))
			if n < 1 || n > len(d.Columns) || d.Columns[n-1].Comment == "" {
				return tree.DNull, nil
			}
			return tree.NewDString(d.Columns[n-1].Comment), nil
		})},
	"obj_description": {
		catalogFn(tree.ParamTypes{{Name: "object", Typ: types.Oid}}, types.String, tableComment),
		catalogFn(tree.ParamTypes{{Name: "object", Typ: types.Oid}, {Name: "catalog", Typ: types.Name}}, types.String, tableComment),
	},
	"current_schema": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) { return tree.NewDName("public"), nil }),
	}},
	"current_database": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) { return tree.NewDName("defaultdb"), nil }),
	}},
	// quote_ident quotes an identifier when it needs it (upper case,
	// punctuation, a reserved word).
	"quote_ident": {{
		Types: tree.ParamTypes{{Name: "ident", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(tree.NameString(string(tree.MustBeDString(a[0])))), nil
		}),
	}},
	"nextval": seqFn(func(e *evalCtx, d *catalog.TableDescriptor, _ tree.Datums) (tree.Datum, error) {
		v, err := e.nextval(d)
		return tree.NewDInt(tree.DInt(v)), err
	}),
	"currval": seqFn(func(e *evalCtx, d *catalog.TableDescriptor, _ tree.Datums) (tree.Datum, error) {
		v, err := e.currval(d)
		return tree.NewDInt(tree.DInt(v)), err
	}),
	"setval": append(
		seqFn(func(e *evalCtx, d *catalog.TableDescriptor, a tree.Datums) (tree.Datum, error) {
			return a[1], e.setval(d, int64(tree.MustBeDInt(a[1])), true)
		}, tree.ParamType{Name: "value", Typ: types.Int}),
		seqFn(func(e *evalCtx, d *catalog.TableDescriptor, a tree.Datums) (tree.Datum, error) {
			return a[1], e.setval(d, int64(tree.MustBeDInt(a[1])), bool(tree.MustBeDBool(a[2])))
		}, tree.ParamType{Name: "value", Typ: types.Int}, tree.ParamType{Name: "is_called", Typ: types.Bool})...),
	"lastval": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Int),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, _ tree.Datums) (tree.Datum, error) {
			if e.sess == nil || e.sess.lastSequence == 0 {
				return nil, pgerror.New("55000", "lastval is not yet defined in this session")
			}
			d, err := catalog.GetTableByID(e.ctx, e.txn, e.sess.lastSequence)
			if err != nil {
				return nil, err
			}
			if d == nil {
				return nil, pgerror.New("55000", "lastval is not yet defined in this session")
			}
			v, err := e.currval(d)
			return tree.NewDInt(tree.DInt(v)), err
		}),
	}},
	// GREATEST and LEAST take arguments of one common type and, unlike
	// other functions, ignore NULLs: NULL only when every argument is.
	"greatest":   {extremumFn(1)},
	"least":      {extremumFn(-1)},
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

// seqFn declares a sequence function: its first argument names the
// sequence, as text or as a regclass; more follow.
func seqFn(f func(e *evalCtx, d *catalog.TableDescriptor, args tree.Datums) (tree.Datum, error), more ...tree.ParamType) []tree.Overload {
	var out []tree.Overload
	for _, t := range []*types.T{types.String, types.RegClass} {
		out = append(out, tree.Overload{
			Types:      append(tree.ParamTypes{{Name: "sequence", Typ: t}}, more...),
			ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Volatile, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				d, err := e.sequenceByArg(a[0])
				if err != nil {
					return nil, err
				}
				return f(e, d, a)
			}),
		})
	}
	return out
}

// extremumFn is GREATEST (sign 1) or LEAST (-1).
func extremumFn(sign int) tree.Overload {
	return tree.Overload{
		Types: tree.HomogeneousType{}, ReturnType: tree.IdentityReturnType(0),
		Volatility: volatility.Immutable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			best := tree.Datum(tree.DNull)
			for _, d := range a {
				if d == tree.DNull {
					continue
				}
				if best == tree.DNull {
					best = d
					continue
				}
				c, err := e.compare(d, best)
				if err != nil {
					return nil, err
				}
				if c*sign > 0 {
					best = d
				}
			}
			return best, nil
		}),
	}
}

func trimFn(f func(s, cutset string) string) []tree.Overload {
	return []tree.Overload{
		{
			Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
			Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return tree.NewDString(f(string(tree.MustBeDString(a[0])), " ")), nil
			}),
		},
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "chars", Typ: types.String}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return tree.NewDString(f(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])))), nil
			}),
		},
	}
}

// substrFn is substr(s, start [, count]) with PostgreSQL's rules: start
// counts from 1 and may be before the string; a negative count is an
// error.
func substrFn() []tree.Overload {
	sub := func(s string, start, count int64, bounded bool) (tree.Datum, error) {
		r := []rune(s)
		if bounded && count < 0 {
			return nil, pgerror.New("22011", "negative substring length not allowed")
		}
		end := int64(len(r)) + 1
		if bounded && start+count < end {
			end = start + count
		}
		start = max(start, 1)
		if end <= start || start > int64(len(r)) {
			return tree.NewDString(""), nil
		}
		return tree.NewDString(string(r[start-1 : end-1])), nil
	}
	return []tree.Overload{
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "start", Typ: types.Int}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return sub(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), 0, false)
			}),
		},
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "start", Typ: types.Int}, {Name: "count", Typ: types.Int}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return sub(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), int64(tree.MustBeDInt(a[2])), true)
			}),
		},
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
		if d == tree.DNull && !ov.CalledOnNullInput {
			return tree.DNull, nil
		}
		args[i] = d
	}
	return fn(e, args)
}

// sizePretty formats a byte count as PostgreSQL's pg_size_pretty does:
// bytes below 10240, then the first unit in which the value, kept in
// half-units and rounded half away from zero, stays below 10240.
func sizePretty(n int64) string {
	const limit = 10 * 1024
	if n > -limit && n < limit {
		return fmt.Sprintf("%d bytes", n)
	}
	halves := n >> 9 // half-kilobytes
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		if halves > -(2*limit-1) && halves < 2*limit-1 {
			return fmt.Sprintf("%d %s", halfRounded(halves), unit)
		}
		halves >>= 10
	}
	return fmt.Sprintf("%d PB", halfRounded(halves))
}

func halfRounded(x int64) int64 {
	if x < 0 {
		return (x - 1) / 2
	}
	return (x + 1) / 2
}

// clampRunes turns left's and right's n into how many of length runes to
// keep: n itself, or length+n for negative n, within [0, length].
func clampRunes(n int64, length int) int {
	if n < 0 {
		n += int64(length)
	}
	return int(max(0, min(n, int64(length))))
}
