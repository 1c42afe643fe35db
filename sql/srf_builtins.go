package sql

import (
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// The series, array, regular expression and catalog set-returning
// functions, for the select list (see srf_render.go) and FROM
// (srf_from.go): generate_series over integers and timestamps, unnest,
// generate_subscripts, regexp_matches, regexp_split_to_table, and
// information_schema._pg_expandarray, which JDBC's
// DatabaseMetaData.getPrimaryKeys calls. In FROM, generate_series and
// unnest have nodes of their own (series.go).

var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"generate_series": {
		srfOverload(tree.ParamTypes{{Name: "start", Typ: types.Int}, {Name: "stop", Typ: types.Int}}, intSeriesType, startIntSeries),
		srfOverload(tree.ParamTypes{{Name: "start", Typ: types.Int}, {Name: "stop", Typ: types.Int}, {Name: "step", Typ: types.Int}}, intSeriesType, startIntSeries),
		srfOverload(tree.ParamTypes{{Name: "start", Typ: types.Timestamp}, {Name: "stop", Typ: types.Timestamp}, {Name: "step", Typ: types.Interval}},
			tree.FixedReturnType(types.Timestamp), startTimeSeries(false)),
		srfOverload(tree.ParamTypes{{Name: "start", Typ: types.TimestampTZ}, {Name: "stop", Typ: types.TimestampTZ}, {Name: "step", Typ: types.Interval}},
			tree.FixedReturnType(types.TimestampTZ), startTimeSeries(true)),
	},
	"unnest": {
		srfOverload(tree.ParamTypes{{Name: "anyarray", Typ: types.AnyArray}}, arrayElementType, startUnnest),
	},
	"generate_subscripts": {
		srfOverload(tree.ParamTypes{{Name: "array", Typ: types.AnyArray}, {Name: "dim", Typ: types.Int4}},
			tree.FixedReturnType(types.Int4), startSubscripts),
		srfOverload(tree.ParamTypes{{Name: "array", Typ: types.AnyArray}, {Name: "dim", Typ: types.Int4}, {Name: "reverse", Typ: types.Bool}},
			tree.FixedReturnType(types.Int4), startSubscripts),
	},
	"regexp_matches": {
		srfOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}},
			tree.FixedReturnType(types.StringArray), startRegexp(sem.RegexpMatches)),
		srfOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "flags", Typ: types.String}},
			tree.FixedReturnType(types.StringArray), startRegexp(sem.RegexpMatches)),
	},
	"regexp_split_to_table": {
		srfOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}},
			tree.FixedReturnType(types.String), startRegexp(sem.RegexpSplit)),
		srfOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "flags", Typ: types.String}},
			tree.FixedReturnType(types.String), startRegexp(sem.RegexpSplit)),
	},
	// PostgreSQL's information_schema helper: each element of an array
	// with its (1-based) index, as the record (x, n).
	"information_schema._pg_expandarray": {
		srfOverload(tree.ParamTypes{{Name: "anyarray", Typ: types.AnyArray}}, func(args []tree.TypedExpr) *types.T {
			return types.MakeLabeledTuple([]*types.T{arrayElementType(args), types.Int4}, []string{"x", "n"})
		}, startExpandArray),
	},
})

func srfOverload(params tree.ParamTypes, ret tree.ReturnTyper, start func(tree.Datums, *types.T) (srfIter, error)) tree.Overload {
	return tree.Overload{Types: params, ReturnType: ret, Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: srfFn{start: start}}
}

// intSeriesType is int4 when every argument is one, bigint otherwise, as
// PostgreSQL picks between its int4 and int8 variants (literals that fit
// count as int4).
func intSeriesType(args []tree.TypedExpr) *types.T {
	for _, a := range args {
		if sem.PGIntWidth(a) > 32 {
			return types.Int
		}
	}
	return types.Int4
}

// arrayElementType is the element type of the first argument, an array.
func arrayElementType(args []tree.TypedExpr) *types.T {
	if len(args) == 0 || args[0].ResolvedType().Family() != types.ArrayFamily {
		return types.Unknown
	}
	return args[0].ResolvedType().ArrayContents()
}

func startIntSeries(args tree.Datums, _ *types.T) (srfIter, error) {
	cur, stop, step := int64(tree.MustBeDInt(args[0])), int64(tree.MustBeDInt(args[1])), int64(1)
	if len(args) == 3 {
		step = int64(tree.MustBeDInt(args[2]))
	}
	if step == 0 {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "step size cannot equal zero")
	}
	done := false
	return func() (tree.Datum, bool, error) {
		if done || (step > 0 && cur > stop) || (step < 0 && cur < stop) {
			return nil, false, nil
		}
		v := cur
		// Stop rather than wrap around at the end of the int64 range.
		if next := v + step; (step > 0 && next < v) || (step < 0 && next > v) {
			done = true
		} else {
			cur = next
		}
		return tree.NewDInt(tree.DInt(v)), true, nil
	}, nil
}

func startTimeSeries(tz bool) func(tree.Datums, *types.T) (srfIter, error) {
	return func(args tree.Datums, _ *types.T) (srfIter, error) {
		cur, _ := sem.Instant(args[0])
		stop, _ := sem.Instant(args[1])
		step := args[2].(*tree.DInterval).Duration
		c := step.Compare(duration.Duration{})
		if c == 0 {
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "step size cannot equal zero")
		}
		return timeSeries(cur, stop, step, c > 0, tz), nil
	}
}

// timeSeries yields start, start+step, ... while not past stop, each step
// added to the previous value (so month steps clamp as timestamp +
// interval does).
func timeSeries(cur, stop time.Time, step duration.Duration, forward, tz bool) srfIter {
	done := false
	return func() (tree.Datum, bool, error) {
		if done || (forward && cur.After(stop)) || (!forward && cur.Before(stop)) {
			return nil, false, nil
		}
		v := cur
		cur = duration.Add(v, step)
		if !cur.After(v) && forward || !cur.Before(v) && !forward {
			done = true // stuck at infinity or the end of the range
		}
		var d tree.Datum
		var err error
		if tz {
			d, err = sem.MakeTimestampTZ(v)
		} else {
			d, err = sem.MakeTimestamp(v)
		}
		return d, err == nil, err
	}
}

// startRegexp runs a regular expression function over (string, pattern
// [, flags]).
func startRegexp(rows func(s, pattern, flags string) ([]tree.Datum, error)) func(tree.Datums, *types.T) (srfIter, error) {
	return func(args tree.Datums, _ *types.T) (srfIter, error) {
		flags := ""
		if len(args) == 3 {
			flags = string(tree.MustBeDString(args[2]))
		}
		out, err := rows(string(tree.MustBeDString(args[0])), string(tree.MustBeDString(args[1])), flags)
		if err != nil {
			return nil, err
		}
		return sliceIter(out), nil
	}
}

func startUnnest(args tree.Datums, _ *types.T) (srfIter, error) {
	arr, ok := args[0].(*tree.DArray)
	if !ok {
		return sliceIter(nil), nil
	}
	return sliceIter(pgarray.Flat(arr)), nil
}

// startSubscripts yields the subscripts of the array's dimension dim,
// from its lower bound; nothing for a dimension the array does not have.
func startSubscripts(args tree.Datums, _ *types.T) (srfIter, error) {
	arr, ok := args[0].(*tree.DArray)
	n, lb := 0, 1
	if ok {
		if dims, d := pgarray.Dims(arr), int64(tree.MustBeDInt(args[1])); d >= 1 && d <= int64(len(dims)) {
			n, lb = dims[d-1], pgarray.LowerOrOnes(arr)[d-1]
		}
	}
	reverse := len(args) == 3 && args[2] == tree.DBoolTrue
	out := make([]tree.Datum, n)
	for i := range out {
		v := lb + i
		if reverse {
			v = lb + n - 1 - i
		}
		out[i] = tree.NewDInt(tree.DInt(v))
	}
	return sliceIter(out), nil
}

func startExpandArray(args tree.Datums, ret *types.T) (srfIter, error) {
	arr, ok := args[0].(*tree.DArray)
	if !ok {
		return sliceIter(nil), nil
	}
	out := make([]tree.Datum, arr.Len())
	for i, e := range arr.Array {
		out[i] = tree.NewDTuple(ret, e, tree.NewDInt(tree.DInt(i+1)))
	}
	return sliceIter(out), nil
}
