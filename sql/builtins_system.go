package sql

import (
	"crypto/rand"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/uuid"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/sem"
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

// Functions of values: their types, how many are NULL, random UUIDs.
var _ = addBuiltins(map[string][]tree.Overload{
	"pg_typeof": {{
		Types: tree.ParamTypes{{Name: "value", Typ: types.Any}}, ReturnType: tree.FixedReturnType(types.RegType),
		Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: builtinTypedFn(func(e *evalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			t := argTypes[0]
			return tree.NewDOidWithTypeAndName(t.Oid(), types.RegType, sem.FormatType(t.Oid(), -1)), nil
		}),
	}},
	"num_nulls":    {countNullsFn(true)},
	"num_nonnulls": {countNullsFn(false)},
	// gen_random_uuid is a version 4 UUID from crypto/rand.
	"gen_random_uuid": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Uuid), Volatility: volatility.Volatile,
		Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			var u uuid.UUID
			if _, err := rand.Read(u[:]); err != nil {
				return nil, errors.Wrap(err, "generating a UUID")
			}
			u[6] = u[6]&0x0f | 0x40 // version 4
			u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
			return tree.NewDUuid(tree.DUuid{UUID: u}), nil
		}),
	}},
})

// countNullsFn is num_nulls (nulls) or num_nonnulls.
func countNullsFn(nulls bool) tree.Overload {
	return tree.Overload{
		Types: tree.VariadicType{VarType: types.Any}, ReturnType: tree.FixedReturnType(types.Int4),
		Volatility: volatility.Immutable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			n := 0
			for _, d := range a {
				if (d == tree.DNull) == nulls {
					n++
				}
			}
			return tree.NewDInt(tree.DInt(n)), nil
		}),
	}
}
