package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// Functions of the statement, the session and the server: times, version, row IDs, the current schema and database.
var _ = addBuiltins(map[string][]tree.Overload{
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
})

func timeFn() tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.TimestampTZ),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDTimestampTZ(e.stmtTime, 1000)
		}),
	}
}
