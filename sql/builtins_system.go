package sql

import (
	"time"

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
	// pg_sleep waits, and ends early when the statement is cancelled
	// (CancelRequest, statement_timeout): 57014.
	"pg_sleep": {{
		Types: tree.ParamTypes{{Name: "seconds", Typ: types.Float}}, ReturnType: tree.FixedReturnType(types.Void),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			secs := float64(tree.MustBeDFloat(a[0]))
			if secs > 0 {
				t := time.NewTimer(time.Duration(secs * float64(time.Second)))
				defer t.Stop()
				select {
				case <-e.ctx.Done():
					return nil, e.ctx.Err()
				case <-t.C:
				}
			}
			return tree.DVoidDatum, nil
		}),
	}},
	// set_config is SET (is_local: SET LOCAL) as a function; it returns
	// the setting's new value.
	"set_config": {{
		Types:      tree.ParamTypes{{Name: "setting_name", Typ: types.String}, {Name: "new_value", Typ: types.String}, {Name: "is_local", Typ: types.Bool}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			if e.sess == nil {
				return nil, unsupported("set_config is not available here")
			}
			name := canonicalSetting(string(tree.MustBeDString(a[0])))
			val, local := string(tree.MustBeDString(a[1])), bool(tree.MustBeDBool(a[2]))
			if local && !e.sess.inTxn() {
				// Its transaction ends with the statement: nothing lasts.
				v, err := e.sess.check(name, val, false)
				return tree.NewDString(v), err
			}
			v, err := e.sess.set(name, val, local, false)
			if err != nil {
				return nil, err
			}
			return tree.NewDString(v), nil
		}),
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
