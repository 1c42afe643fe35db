package sem

import (
	"crypto/rand"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/uuid"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Functions of the statement, the session and the server: times, version, row IDs, the current schema and database.
var _ = RegisterFamily(map[string][]tree.Overload{
	"now":                   {timeFn()},
	"current_timestamp":     {timeFn()},
	"transaction_timestamp": {timeFn()},
	"version": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Stable,
		Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString("PostgreSQL 15.0 (Meridian)"), nil
		}),
	}},
	"unique_rowid": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Volatile,
		Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(tree.DInt(uniqueRowID(e))), nil
		}),
	}},
	"current_schema": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		// The first schema of the search path (NULL if it has none).
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if e.Session != nil {
				if path := e.Session.SearchPath(); len(path) > 0 {
					return tree.NewDName(path[0]), nil
				}
			}
			return tree.DNull, nil
		}),
	}},
	// pg_sleep waits, and ends early when the statement is cancelled
	// (CancelRequest, statement_timeout): 57014.
	"pg_sleep": {{
		Types: tree.ParamTypes{{Name: "seconds", Typ: types.Float}}, ReturnType: tree.FixedReturnType(types.Void),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			secs := float64(tree.MustBeDFloat(a[0]))
			if secs > 0 {
				t := time.NewTimer(time.Duration(secs * float64(time.Second)))
				defer t.Stop()
				select {
				case <-e.Ctx.Done():
					return nil, e.Ctx.Err()
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
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if e.Session == nil {
				return nil, pgerror.Unsupported("set_config is not available here")
			}
			v, err := e.Session.SetConfig(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), bool(tree.MustBeDBool(a[2])))
			if err != nil {
				return nil, err
			}
			return tree.NewDString(v), nil
		}),
	}},
	"current_database": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if e.Session != nil {
				if db, ok := e.Session.Database(); ok {
					return tree.NewDName(db), nil
				}
			}
			return tree.DNull, nil
		}),
	}},
})

// rowIDCounter makes unique_rowid() unique within the process: the
// statement time in microseconds, shifted, plus a counter, never going
// backwards. Ascending IDs write at the end of the table: the hotspot the
// split queue will have to handle (DESIGN.md §6 asks for better later).
var rowIDCounter atomic.Int64

func uniqueRowID(e *EvalCtx) int64 {
	candidate := e.StmtTime.UnixMicro() << 10
	for {
		last := rowIDCounter.Load()
		next := max(candidate, last+1)
		if rowIDCounter.CompareAndSwap(last, next) {
			return next
		}
	}
}

// Functions of values: their types, how many are NULL, random UUIDs.
var _ = RegisterFamily(map[string][]tree.Overload{
	"pg_typeof": {{
		Types: tree.ParamTypes{{Name: "value", Typ: types.Any}}, ReturnType: tree.FixedReturnType(types.RegType),
		Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			t := argTypes[0]
			return tree.NewDOidWithTypeAndName(t.Oid(), types.RegType, FormatTypeOf(t, -1)), nil
		}),
	}},
	"num_nulls":    {countNullsFn(true)},
	"num_nonnulls": {countNullsFn(false)},
	// gen_random_uuid is a version 4 UUID from crypto/rand.
	"gen_random_uuid": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Uuid), Volatility: volatility.Volatile,
		Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
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
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
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
