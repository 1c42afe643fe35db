package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Functions for testing a client's handling of the database's behaviour,
// from CockroachDB's crdb_internal.
var _ = RegisterFamily(map[string][]tree.Overload{
	// crdb_internal.force_retry(interval) fails with 40001, a
	// serialization failure to retry, until the query string (or
	// extended-protocol execution) has run for the interval: a client's
	// retry loop, or the server's own retry of a transaction nobody saw
	// yet, can be tested with it. It returns 0 once the interval has
	// passed.
	"crdb_internal.force_retry": {{
		Types:      tree.ParamTypes{{Name: "val", Typ: types.Interval}},
		ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			d := a[0].(*tree.DInterval).Duration
			if e.Session != nil {
				if hlc.PhysicalNow().Sub(e.Session.QueryStart()).Nanoseconds() < d.Nanos()+d.Days*86400e9+d.Months*30*86400e9 {
					return nil, pgerror.New(pgerror.CodeSerializationFailure,
						"restart transaction: crdb_internal.force_retry(): forced by crdb_internal.force_retry()")
				}
			}
			return tree.NewDInt(0), nil
		}),
	}},
})
