package sem

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeofday"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timetz"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The date/time functions (PostgreSQL's "Date/Time Functions and
// Operators"). The session time zone is UTC, so a timestamptz's fields
// are its UTC fields.

// datetimeFn is an overload of fixed parameter types.
func datetimeFn(ret *types.T, v volatility.V, f BuiltinFn, params ...*types.T) tree.Overload {
	ps := make(tree.ParamTypes, len(params))
	for i, p := range params {
		ps[i] = tree.ParamType{Name: fmt.Sprintf("arg%d", i+1), Typ: p}
	}
	return tree.Overload{Types: ps, ReturnType: tree.FixedReturnType(ret), Volatility: v, Class: tree.NormalClass, Fn: f}
}

func immutableFn(ret *types.T, f BuiltinFn, params ...*types.T) tree.Overload {
	return datetimeFn(ret, volatility.Immutable, f, params...)
}

func stableFn(ret *types.T, f BuiltinFn, params ...*types.T) tree.Overload {
	return datetimeFn(ret, volatility.Stable, f, params...)
}

// Current times: the statement's (now and its aliases), and the clock's.
var _ = RegisterFamily(map[string][]tree.Overload{
	"statement_timestamp": {timeFn()},
	"clock_timestamp": {datetimeFn(types.TimestampTZ, volatility.Volatile, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		return tree.MakeDTimestampTZ(hlc.PhysicalNow().UTC(), time.Microsecond)
	})},
	"timeofday": {datetimeFn(types.String, volatility.Volatile, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		return tree.NewDString(hlc.PhysicalNow().In(e.GetLocation()).Format("Mon Jan 02 15:04:05.000000 2006 MST")), nil
	})},
	"current_date": {stableFn(types.Date, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		return timeToDate(wallClock(e.StmtTime.Round(time.Microsecond), e.GetLocation()))
	})},
	"current_time":   currentTimeFns(types.TimeTZ),
	"localtime":      currentTimeFns(types.Time),
	"localtimestamp": currentTimeFns(types.Timestamp),
})

// currentTimeFns are current_time, localtime and localtimestamp, with an
// optional precision (fractional digits).
func currentTimeFns(t *types.T) []tree.Overload {
	f := func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		// Microseconds, as now() rounds them.
		now := e.StmtTime.In(e.GetLocation()).Round(time.Microsecond)
		if len(a) == 1 {
			p := int64(tree.MustBeDInt(a[0]))
			if p < 0 {
				return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "%s(%d) precision must not be negative", t.SQLStandardName(), p)
			}
			now = now.Round(time.Duration(math.Pow10(int(9 - min(p, 6)))))
		}
		switch t.Family() {
		case types.TimeTZFamily:
			return tree.NewDTimeTZ(timetz.MakeTimeTZFromTime(now)), nil
		case types.TimeFamily:
			return tree.MakeDTime(timeofday.FromTime(now)), nil
		}
		return tree.MakeDTimestamp(now, time.Microsecond)
	}
	return []tree.Overload{stableFn(t, f), stableFn(t, f, types.Int)}
}

// extract and date_part: a field of a date, time, timestamp or interval.
// PostgreSQL 15's extract returns numeric, date_part float8.
var _ = RegisterFamily(map[string][]tree.Overload{
	"extract":   extractFns(true),
	"date_part": extractFns(false),
})

func extractFns(numeric bool) []tree.Overload {
	ret := types.Float
	if numeric {
		ret = types.Decimal
	}
	var ovs []tree.Overload
	for _, t := range []*types.T{types.Timestamp, types.TimestampTZ, types.Date, types.Time, types.TimeTZ, types.Interval} {
		ovs = append(ovs, immutableFn(ret, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			v, err := extractField(e, string(tree.MustBeDString(a[0])), a[1])
			if err != nil || v == nil {
				return tree.DNull, err
			}
			if numeric {
				return &tree.DDecimal{Decimal: *v}, nil
			}
			f, _ := v.Float64()
			return tree.NewDFloat(tree.DFloat(f)), nil
		}, types.String, t))
	}
	return ovs
}

// datetimeUnits maps the unit names and abbreviations PostgreSQL accepts
// (datetktbl and deltatktbl) to one name each.
var datetimeUnits = map[string]string{
	"microsecond": "microseconds", "microseconds": "microseconds", "us": "microseconds", "usec": "microseconds", "usecs": "microseconds", "useconds": "microseconds",
	"millisecond": "milliseconds", "milliseconds": "milliseconds", "ms": "milliseconds", "msec": "milliseconds", "msecs": "milliseconds", "mseconds": "milliseconds",
	"second": "second", "seconds": "second", "s": "second", "sec": "second", "secs": "second",
	"minute": "minute", "minutes": "minute", "m": "minute", "min": "minute", "mins": "minute",
	"hour": "hour", "hours": "hour", "h": "hour", "hr": "hour", "hrs": "hour",
	"day": "day", "days": "day", "d": "day",
	"week": "week", "weeks": "week", "w": "week",
	"month": "month", "months": "month", "mon": "month", "mons": "month",
	"quarter": "quarter", "qtr": "quarter",
	"year": "year", "years": "year", "y": "year", "yr": "year", "yrs": "year",
	"decade": "decade", "decades": "decade", "dec": "decade", "decs": "decade",
	"century": "century", "centuries": "century", "c": "century", "cent": "century",
	"millennium": "millennium", "millennia": "millennium", "mil": "millennium", "mils": "millennium", "millenniums": "millennium",
	"dow": "dow", "isodow": "isodow", "doy": "doy", "epoch": "epoch", "isoyear": "isoyear",
	"julian": "julian", "j": "julian",
	"timezone": "timezone", "timezone_hour": "timezone_hour", "timezone_minute": "timezone_minute",
}

func typeName(d tree.Datum) string {
	switch d.(type) {
	case *tree.DTimestamp:
		return "timestamp without time zone"
	case *tree.DTimestampTZ:
		return "timestamp with time zone"
	case *tree.DDate:
		return "date"
	case *tree.DTime:
		return "time without time zone"
	case *tree.DTimeTZ:
		return "time with time zone"
	case *tree.DInterval:
		return "interval"
	}
	return d.ResolvedType().SQLStandardName()
}

func unitNotRecognized(unit string, d tree.Datum) error {
	return pgerror.Newf(pgerror.CodeInvalidParameterValue, "unit %q not recognized for type %s", unit, typeName(d))
}

func unitNotSupported(unit string, d tree.Datum) error {
	return pgerror.Newf(pgerror.CodeFeatureNotSupported, "unit %q not supported for type %s", unit, typeName(d))
}

// scaled is v * 10^-scale as a numeric, keeping the scale (5.500000).
func scaled(v int64, scale int32) *apd.Decimal {
	return apd.New(v, -scale)
}

// extractField is extract(unit from d).
func extractField(e *EvalCtx, unit string, d tree.Datum) (*apd.Decimal, error) {
	lower := strings.ToLower(strings.TrimSpace(unit))
	u, ok := datetimeUnits[lower]
	if !ok {
		return nil, unitNotRecognized(lower, d)
	}
	switch v := d.(type) {
	case *tree.DTimestamp:
		return extractTimestamp(u, lower, v.Time, d, false)
	case *tree.DTimestampTZ:
		return extractTimestamp(u, lower, v.Time.In(e.GetLocation()), d, true)
	case *tree.DDate:
		return extractDate(u, lower, v.Date, d)
	case *tree.DTime:
		return extractTime(u, lower, int64(*v), 0, d, false)
	case *tree.DTimeTZ:
		return extractTime(u, lower, int64(v.TimeOfDay), v.OffsetSecs, d, true)
	case *tree.DInterval:
		return extractInterval(u, lower, v.Duration, d)
	}
	return nil, unitNotRecognized(lower, d)
}

// dateFields are the fields a date and a timestamp share.
func dateFields(u string, t time.Time) (int64, bool) {
	y := int64(t.Year())
	if y <= 0 {
		y-- // year 0 of Go's calendar is 1 BC
	}
	switch u {
	case "day":
		return int64(t.Day()), true
	case "month":
		return int64(t.Month()), true
	case "year":
		return y, true
	case "quarter":
		return int64(t.Month()-1)/3 + 1, true
	case "week":
		_, w := t.ISOWeek()
		return int64(w), true
	case "isoyear":
		iy, _ := t.ISOWeek()
		if iy <= 0 {
			iy--
		}
		return int64(iy), true
	case "dow":
		return int64(t.Weekday()), true
	case "isodow":
		if t.Weekday() == time.Sunday {
			return 7, true
		}
		return int64(t.Weekday()), true
	case "doy":
		return int64(t.YearDay()), true
	case "decade":
		if y > 0 {
			return y / 10, true
		}
		return -((8 - (y - 1)) / 10), true
	case "century":
		if y > 0 {
			return (y + 99) / 100, true
		}
		return -((99 - (y - 1)) / 100), true
	case "millennium":
		if y > 0 {
			return (y + 999) / 1000, true
		}
		return -((999 - (y - 1)) / 1000), true
	}
	return 0, false
}

// julianDay is the Julian day number of t's date.
func julianDay(t time.Time) int64 {
	// 1970-01-01 is Julian day 2440588.
	secs := t.Unix()
	days := secs / 86400
	if secs%86400 < 0 {
		days--
	}
	return days + 2440588
}

func extractTimestamp(u, unit string, t time.Time, d tree.Datum, tz bool) (*apd.Decimal, error) {
	if !isFiniteTime(t) {
		return infiniteField(u, unit, t.Equal(pgdate.TimeInfinity), d)
	}
	if v, ok := dateFields(u, t); ok {
		return apd.New(v, 0), nil
	}
	micros := int64(t.Second())*microsPerSecond + int64(t.Nanosecond()/1000)
	switch u {
	case "microseconds":
		return apd.New(micros, 0), nil
	case "milliseconds":
		return scaled(micros, 3), nil
	case "second":
		return scaled(micros, 6), nil
	case "minute":
		return apd.New(int64(t.Minute()), 0), nil
	case "hour":
		return apd.New(int64(t.Hour()), 0), nil
	case "epoch":
		// In seconds and micros apart: t.UnixMicro() overflows an int64
		// past 294246 AD, which timestamps reach (PostgreSQL counts from
		// 2000).
		r := new(apd.Decimal)
		_, _ = apd.BaseContext.WithPrecision(40).Add(r, apd.New(t.Unix(), 0), apd.New(int64(t.Nanosecond()/1000), -6))
		return r, nil
	case "julian":
		day := julianDay(t)
		tod := t.Sub(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)).Microseconds()
		r := new(apd.Decimal)
		ctx := apd.BaseContext.WithPrecision(60)
		_, _ = ctx.Quo(r, apd.New(day*microsPerDay+tod, 0), apd.New(microsPerDay, 0))
		_, _ = ctx.Quantize(r, r, -20)
		return r, nil
	case "timezone", "timezone_hour", "timezone_minute":
		if tz {
			_, off := t.Zone()
			switch u {
			case "timezone_hour":
				off /= 3600
			case "timezone_minute":
				off = off % 3600 / 60
			}
			return apd.New(int64(off), 0), nil
		}
	}
	return nil, unitNotSupported(unit, d)
}

// infiniteField is a field of an infinite timestamp or date: PostgreSQL
// answers ±Infinity for the fields that grow with time, NULL (a nil
// result) for the others.
func infiniteField(u, unit string, pos bool, d tree.Datum) (*apd.Decimal, error) {
	switch u {
	case "year", "decade", "century", "millennium", "julian", "isoyear", "epoch":
		r := &apd.Decimal{Form: apd.Infinite, Negative: !pos}
		return r, nil
	case "hour", "minute", "second", "milliseconds", "microseconds", "timezone", "timezone_hour", "timezone_minute":
		if _, isDate := d.(*tree.DDate); isDate {
			return nil, unitNotSupported(unit, d)
		}
	}
	return nil, nil
}

func extractDate(u, unit string, dt pgdate.Date, d tree.Datum) (*apd.Decimal, error) {
	t, err := dt.ToTime()
	if err != nil || !dt.IsFinite() {
		return infiniteField(u, unit, isPosInfDate(dt), d)
	}
	if v, ok := dateFields(u, t); ok {
		return apd.New(v, 0), nil
	}
	switch u {
	case "epoch":
		return apd.New(t.Unix(), 0), nil
	case "julian":
		return apd.New(julianDay(t), 0), nil
	}
	return nil, unitNotSupported(unit, d)
}

// extractClock extracts the clock fields (microseconds up to hour) of a
// time of day or an interval's time part, micros long; ok is false for
// any other field.
func extractClock(u string, micros int64) (v *apd.Decimal, ok bool) {
	secMicros := micros % (60 * microsPerSecond)
	switch u {
	case "microseconds":
		return apd.New(secMicros, 0), true
	case "milliseconds":
		return scaled(secMicros, 3), true
	case "second":
		return scaled(secMicros, 6), true
	case "minute":
		return apd.New(micros/(60*microsPerSecond)%60, 0), true
	case "hour":
		return apd.New(micros/(3600*microsPerSecond), 0), true
	}
	return nil, false
}

func extractTime(u, unit string, micros int64, zoneWest int32, d tree.Datum, tz bool) (*apd.Decimal, error) {
	if v, ok := extractClock(u, micros); ok {
		return v, nil
	}
	switch u {
	case "epoch":
		return scaled(micros+int64(zoneWest)*microsPerSecond, 6), nil
	case "timezone":
		if tz {
			return apd.New(-int64(zoneWest), 0), nil
		}
	case "timezone_hour":
		if tz {
			return apd.New(-int64(zoneWest)/3600, 0), nil
		}
	case "timezone_minute":
		if tz {
			return apd.New(-int64(zoneWest)/60%60, 0), nil
		}
	}
	return nil, unitNotSupported(unit, d)
}

func extractInterval(u, unit string, iv duration.Duration, d tree.Datum) (*apd.Decimal, error) {
	micros := iv.Nanos() / 1000
	year, mon := iv.Months/12, iv.Months%12
	if v, ok := extractClock(u, micros); ok {
		return v, nil
	}
	switch u {
	case "day":
		return apd.New(iv.Days, 0), nil
	case "month":
		return apd.New(mon, 0), nil
	case "quarter":
		return apd.New(mon/3+1, 0), nil
	case "year":
		return apd.New(year, 0), nil
	case "decade":
		return apd.New(year/10, 0), nil
	case "century":
		return apd.New(year/100, 0), nil
	case "millennium":
		return apd.New(year/1000, 0), nil
	case "epoch":
		// A year is 365.25 days, a month 30, as PostgreSQL's interval_part.
		// In microseconds it can pass int64 (2147483647 days): added as
		// numerics.
		secs := 31_557_600*year + (30*mon+iv.Days)*86_400
		r := new(apd.Decimal)
		_, err := tree.ExactCtx.Add(r, apd.New(secs, 0), scaled(micros, 6))
		return r, err
	}
	return nil, unitNotSupported(unit, d)
}

// date_trunc, date_bin, age, justify_*, isfinite.
var _ = RegisterFamily(map[string][]tree.Overload{
	"date_trunc": {
		immutableFn(types.Timestamp, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			t, err := truncTime(string(tree.MustBeDString(a[0])), a[1].(*tree.DTimestamp).Time, a[1])
			if err != nil {
				return nil, err
			}
			return MakeTimestamp(t)
		}, types.String, types.Timestamp),
		stableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			t, err := truncTime(string(tree.MustBeDString(a[0])), a[1].(*tree.DTimestampTZ).Time.In(e.GetLocation()), a[1])
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(t)
		}, types.String, types.TimestampTZ),
		stableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			loc, err := parseZone(string(tree.MustBeDString(a[2])))
			if err != nil {
				return nil, err
			}
			local := a[1].(*tree.DTimestampTZ).Time.In(loc)
			t, err := truncTime(string(tree.MustBeDString(a[0])), local, a[1])
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(t)
		}, types.String, types.TimestampTZ, types.String),
		// PostgreSQL has no date variant: a date becomes a timestamptz,
		// its preferred type.
		stableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			tm, err := dateToTime(a[1].(*tree.DDate).Date)
			if err != nil {
				return nil, err
			}
			t, err := truncTime(string(tree.MustBeDString(a[0])), tm, &tree.DTimestampTZ{Time: tm})
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(t)
		}, types.String, types.Date),
		immutableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return truncInterval(string(tree.MustBeDString(a[0])), a[1].(*tree.DInterval).Duration, a[1])
		}, types.String, types.Interval),
	},
	"date_bin": {
		immutableFn(types.Timestamp, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			t, err := dateBin(a[0].(*tree.DInterval).Duration, a[1].(*tree.DTimestamp).Time, a[2].(*tree.DTimestamp).Time)
			if err != nil {
				return nil, err
			}
			return MakeTimestamp(t)
		}, types.Interval, types.Timestamp, types.Timestamp),
		immutableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			t, err := dateBin(a[0].(*tree.DInterval).Duration, a[1].(*tree.DTimestampTZ).Time.UTC(), a[2].(*tree.DTimestampTZ).Time.UTC())
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(t)
		}, types.Interval, types.TimestampTZ, types.TimestampTZ),
	},
	"age": {
		immutableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return ageOf(a[0].(*tree.DTimestamp).Time, a[1].(*tree.DTimestamp).Time)
		}, types.Timestamp, types.Timestamp),
		stableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return ageOf(a[0].(*tree.DTimestampTZ).Time.In(e.GetLocation()), a[1].(*tree.DTimestampTZ).Time.In(e.GetLocation()))
		}, types.TimestampTZ, types.TimestampTZ),
		stableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return ageOf(midnight(wallClock(e.StmtTime, e.GetLocation())), a[0].(*tree.DTimestamp).Time)
		}, types.Timestamp),
		// Dates, which PostgreSQL casts to timestamptz for these.
		stableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			x, err := dateToTime(a[0].(*tree.DDate).Date)
			if err != nil {
				return nil, err
			}
			y, err := dateToTime(a[1].(*tree.DDate).Date)
			if err != nil {
				return nil, err
			}
			return ageOf(x, y)
		}, types.Date, types.Date),
		stableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			x, err := dateToTime(a[0].(*tree.DDate).Date)
			if err != nil {
				return nil, err
			}
			return ageOf(midnight(wallClock(e.StmtTime, e.GetLocation())), x)
		}, types.Date),
		stableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return ageOf(midnight(e.StmtTime.In(e.GetLocation())), a[0].(*tree.DTimestampTZ).Time.In(e.GetLocation()))
		}, types.TimestampTZ),
	},
	"justify_days": {immutableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		iv := a[0].(*tree.DInterval).Duration
		m, d := justifyDays(iv.Months, iv.Days)
		return makeInterval(m, d, iv.Nanos()/1000)
	}, types.Interval)},
	"justify_hours": {immutableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		iv := a[0].(*tree.DInterval).Duration
		d, us := justifyHours(iv.Days, iv.Nanos()/1000)
		return makeInterval(iv.Months, d, us)
	}, types.Interval)},
	"justify_interval": {immutableFn(types.Interval, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		return justifyInterval(a[0].(*tree.DInterval).Duration)
	}, types.Interval)},
	"isfinite": {
		immutableFn(types.Bool, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDBool(tree.DBool(a[0].(*tree.DDate).IsFinite())), nil
		}, types.Date),
		immutableFn(types.Bool, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDBool(tree.DBool(isFiniteTime(a[0].(*tree.DTimestamp).Time))), nil
		}, types.Timestamp),
		immutableFn(types.Bool, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDBool(tree.DBool(isFiniteTime(a[0].(*tree.DTimestampTZ).Time))), nil
		}, types.TimestampTZ),
		immutableFn(types.Bool, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.DBoolTrue, nil
		}, types.Interval),
	},
})

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func ageOf(a, b time.Time) (tree.Datum, error) {
	if !isFiniteTime(a) || !isFiniteTime(b) {
		return nil, pgerror.New(codeDatetimeOverflow, "cannot subtract infinite timestamps")
	}
	return &tree.DInterval{Duration: duration.Age(a, b)}, nil
}

// truncTime is date_trunc on a wall-clock time (its location kept).
func truncTime(unit string, t time.Time, d tree.Datum) (time.Time, error) {
	lower := strings.ToLower(unit)
	u, ok := datetimeUnits[lower]
	if !ok {
		return time.Time{}, unitNotRecognized(lower, d)
	}
	if !isFiniteTime(t) {
		return t, nil
	}
	loc := t.Location()
	y, m, day := t.Date()
	switch u {
	case "microseconds":
		return t.Truncate(time.Microsecond), nil
	case "milliseconds":
		return time.Date(y, m, day, t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6*1e6, loc), nil
	case "second":
		return time.Date(y, m, day, t.Hour(), t.Minute(), t.Second(), 0, loc), nil
	case "minute":
		return time.Date(y, m, day, t.Hour(), t.Minute(), 0, 0, loc), nil
	case "hour":
		return time.Date(y, m, day, t.Hour(), 0, 0, 0, loc), nil
	case "day":
		return time.Date(y, m, day, 0, 0, 0, 0, loc), nil
	case "week":
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, day-back, 0, 0, 0, 0, loc), nil
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, loc), nil
	case "quarter":
		return time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, loc), nil
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), nil
	case "decade", "century", "millennium":
		return time.Date(truncYear(y, u), 1, 1, 0, 0, 0, 0, loc), nil
	}
	return time.Time{}, unitNotSupported(lower, d)
}

// truncYear is the first year of y's decade, century or millennium as
// PostgreSQL counts them, y astronomical (0 is 1 BC). Centuries and
// millennia start at year 1 (the 21st century is 2001-2100) and, before
// it, end with 1 BC (the 1st century BC is 100 BC-1 BC). A decade AD
// starts at a multiple of ten, even 1 BC for years 1-9, one BC at the
// year after one: 11 BC, 21 BC.
func truncYear(y int, unit string) int {
	switch unit {
	case "decade":
		if y > 0 {
			return y / 10 * 10
		}
		return -((8 - (y - 1)) / 10) * 10
	case "century":
		if y > 0 {
			return (y+99)/100*100 - 99
		}
		return -((99-(y-1))/100)*100 + 1
	}
	if y > 0 {
		return (y+999)/1000*1000 - 999
	}
	return -((999-(y-1))/1000)*1000 + 1
}

// truncInterval is date_trunc on an interval: the fields below unit
// zeroed.
func truncInterval(unit string, iv duration.Duration, d tree.Datum) (tree.Datum, error) {
	lower := strings.ToLower(unit)
	u, ok := datetimeUnits[lower]
	if !ok {
		return nil, unitNotRecognized(lower, d)
	}
	months, days, micros := iv.Months, iv.Days, iv.Nanos()/1000
	year := months / 12
	switch u {
	case "microseconds":
	case "milliseconds":
		micros = micros / 1000 * 1000
	case "second":
		micros = micros / microsPerSecond * microsPerSecond
	case "minute":
		micros = micros / (60 * microsPerSecond) * 60 * microsPerSecond
	case "hour":
		micros = micros / (3600 * microsPerSecond) * 3600 * microsPerSecond
	case "day":
		micros = 0
	case "month":
		days, micros = 0, 0
	case "quarter":
		months, days, micros = year*12+months%12/3*3, 0, 0
	case "year":
		months, days, micros = year*12, 0, 0
	case "decade":
		months, days, micros = year/10*120, 0, 0
	case "century":
		months, days, micros = year/100*1200, 0, 0
	case "millennium":
		months, days, micros = year/1000*12000, 0, 0
	case "week":
		return nil, pgerror.WithDetail(pgerror.Newf(pgerror.CodeFeatureNotSupported, "unit %q not supported for type interval", lower),
			"Months usually have fractional weeks.")
	default:
		return nil, unitNotSupported(lower, d)
	}
	return makeInterval(months, days, micros)
}

// dateBin is date_bin(stride, source, origin): the start of the stride
// source falls in, strides counted from origin.
func dateBin(stride duration.Duration, src, origin time.Time) (time.Time, error) {
	if stride.Months != 0 {
		return time.Time{}, pgerror.New(pgerror.CodeFeatureNotSupported, "timestamps cannot be binned into intervals containing months or years")
	}
	s := stride.Days*microsPerDay + stride.Nanos()/1000
	if s <= 0 {
		return time.Time{}, pgerror.New(pgerror.CodeInvalidParameterValue, "stride must be greater than zero")
	}
	diff := src.UnixMicro() - origin.UnixMicro()
	q := diff / s
	if diff%s < 0 {
		q--
	}
	return time.UnixMicro(origin.UnixMicro() + q*s).UTC(), nil
}

func justifyDays(months, days int64) (int64, int64) { return carry(months, days, daysPerMonth) }

func justifyHours(days, micros int64) (int64, int64) { return carry(days, micros, microsPerDay) }

// carry moves whole units of lo (unit of them make one hi) into hi, and
// leaves lo with hi's sign, as justify_days and justify_hours do.
func carry(hi, lo, unit int64) (int64, int64) {
	whole := lo / unit
	lo -= whole * unit
	hi += whole
	if hi > 0 && lo < 0 {
		lo += unit
		hi--
	} else if hi < 0 && lo > 0 {
		lo -= unit
		hi++
	}
	return hi, lo
}

// justifyInterval is PostgreSQL 15's interval_justify_interval.
func justifyInterval(iv duration.Duration) (tree.Datum, error) {
	months, days, micros := iv.Months, iv.Days, iv.Nanos()/1000
	if (days > 0 && micros > 0) || (days < 0 && micros < 0) {
		whole := days / daysPerMonth
		days -= whole * daysPerMonth
		months += whole
	}
	whole := micros / microsPerDay
	micros -= whole * microsPerDay
	days += whole
	whole = days / daysPerMonth
	days -= whole * daysPerMonth
	months += whole
	if months > 0 && (days < 0 || (days == 0 && micros < 0)) {
		days += daysPerMonth
		months--
	} else if months < 0 && (days > 0 || (days == 0 && micros > 0)) {
		days -= daysPerMonth
		months++
	}
	if days > 0 && micros < 0 {
		micros += microsPerDay
		days--
	} else if days < 0 && micros > 0 {
		micros -= microsPerDay
		days++
	}
	return makeInterval(months, days, micros)
}

// make_date, make_time, make_timestamp, make_timestamptz, make_interval,
// to_timestamp(epoch).
var _ = RegisterFamily(map[string][]tree.Overload{
	"make_date": {immutableFn(types.Date, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		t, err := makeDateTime(a, false)
		if err != nil {
			return nil, err
		}
		return timeToDate(t)
	}, types.Int, types.Int, types.Int)},
	"make_time": {immutableFn(types.Time, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		h, m, s := int64(tree.MustBeDInt(a[0])), int64(tree.MustBeDInt(a[1])), float64(tree.MustBeDFloat(a[2]))
		if h < 0 || m < 0 || m > 59 || s < 0 || s > 60 || h > 24 || (h == 24 && (m > 0 || s > 0)) || math.IsNaN(s) {
			return nil, pgerror.Newf(codeDatetimeOverflow, "time field value out of range: %d:%02d:%s", h, m, formatSeconds(s))
		}
		us := h*3600*microsPerSecond + m*60*microsPerSecond + int64(math.RoundToEven(s*1e6))
		return tree.MakeDTime(timeofday.TimeOfDay(us)), nil
	}, types.Int, types.Int, types.Float)},
	"make_timestamp": {immutableFn(types.Timestamp, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		t, err := makeDateTime(a, true)
		if err != nil {
			return nil, err
		}
		return MakeTimestamp(t)
	}, types.Int, types.Int, types.Int, types.Int, types.Int, types.Float)},
	"make_timestamptz": {
		stableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			t, err := makeDateTime(a, true)
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(t)
		}, types.Int, types.Int, types.Int, types.Int, types.Int, types.Float),
		stableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			t, err := makeDateTime(a[:6], true)
			if err != nil {
				return nil, err
			}
			loc, err := parseZone(string(tree.MustBeDString(a[6])))
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(relocate(t, loc))
		}, types.Int, types.Int, types.Int, types.Int, types.Int, types.Float, types.String),
	},
	"make_interval": makeIntervalFns(),
	"to_timestamp": {
		stableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			f := float64(tree.MustBeDFloat(a[0]))
			switch {
			case math.IsNaN(f):
				return nil, pgerror.New(codeDatetimeOverflow, "timestamp cannot be NaN")
			case math.IsInf(f, 1):
				return &tree.DTimestampTZ{Time: pgdate.TimeInfinity}, nil
			case math.IsInf(f, -1):
				return &tree.DTimestampTZ{Time: pgdate.TimeNegativeInfinity}, nil
			case f > 9.2e12 || f < -2.1e11:
				return nil, pgerror.Newf(codeDatetimeOverflow, "timestamp out of range: \"%s\"", formatSeconds(f))
			}
			// As PostgreSQL's float8_timestamptz: the seconds moved to
			// its epoch (2000-01-01) before they are rounded to
			// microseconds, which rounds some otherwise (.624 where
			// the seconds from 1970 round to .623999).
			const pgEpoch = 946684800
			us := int64(math.RoundToEven((f - pgEpoch) * 1e6))
			return MakeTimestampTZ(time.UnixMicro(us + pgEpoch*1e6).UTC())
		}, types.Float),
		stableFn(types.TimestampTZ, toTimestampText, types.String, types.String),
	},
})

// relocate is the instant whose wall clock in loc is t's wall clock.
func relocate(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC()
}

func formatSeconds(s float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%f", s), "0"), ".")
}

// makeDateTime reads year, month, day [, hour, minute, seconds] as
// make_date and make_timestamp do: a negative year is BC, year 0 is an
// error.
func makeDateTime(a tree.Datums, withTime bool) (time.Time, error) {
	y, m, d := int64(tree.MustBeDInt(a[0])), int64(tree.MustBeDInt(a[1])), int64(tree.MustBeDInt(a[2]))
	if y == 0 {
		return time.Time{}, pgerror.Newf(codeDatetimeOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	gy := y
	if y < 0 {
		gy = y + 1
	}
	if m < 1 || m > 12 || d < 1 || d > 31 || time.Date(int(gy), time.Month(m), int(d), 0, 0, 0, 0, time.UTC).Day() != int(d) {
		return time.Time{}, pgerror.Newf(codeDatetimeOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	if !withTime {
		return time.Date(int(gy), time.Month(m), int(d), 0, 0, 0, 0, time.UTC), nil
	}
	h, mi, s := int64(tree.MustBeDInt(a[3])), int64(tree.MustBeDInt(a[4])), float64(tree.MustBeDFloat(a[5]))
	if h < 0 || mi < 0 || mi > 59 || s < 0 || s > 60 || h > 24 || (h == 24 && (mi > 0 || s > 0)) || math.IsNaN(s) {
		return time.Time{}, pgerror.Newf(codeDatetimeOverflow, "time field value out of range: %d:%02d:%s", h, mi, formatSeconds(s))
	}
	us := int64(math.RoundToEven(s * 1e6))
	return time.Date(int(gy), time.Month(m), int(d), int(h), int(mi), 0, 0, time.UTC).Add(time.Duration(us) * time.Microsecond), nil
}

// makeIntervalFns is make_interval(years, months, weeks, days, hours,
// mins, secs), each argument optional from the right.
func makeIntervalFns() []tree.Overload {
	names := []string{"years", "months", "weeks", "days", "hours", "mins", "secs"}
	var ovs []tree.Overload
	for n := 0; n <= len(names); n++ {
		ps := tree.ParamTypes{}
		for i := 0; i < n; i++ {
			t := types.Int
			if i == 6 {
				t = types.Float
			}
			ps = append(ps, tree.ParamType{Name: names[i], Typ: t})
		}
		ovs = append(ovs, tree.Overload{Types: ps, ReturnType: tree.FixedReturnType(types.Interval),
			Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				var v [6]int64
				secs := 0.0
				for i, d := range a {
					if i == 6 {
						secs = float64(tree.MustBeDFloat(d))
					} else {
						v[i] = int64(tree.MustBeDInt(d))
					}
				}
				months := float64(v[0])*12 + float64(v[1])
				days := float64(v[2])*7 + float64(v[3])
				micros := (float64(v[4])*3600 + float64(v[5])*60 + secs) * 1e6
				if math.IsNaN(micros) || math.IsInf(micros, 0) || months > math.MaxInt32 || months < math.MinInt32 ||
					days > math.MaxInt32 || days < math.MinInt32 || math.Abs(micros) > 9.2e15 {
					return nil, errIntervalOutOfRange
				}
				return makeInterval(int64(months), int64(days), int64(math.RoundToEven(micros)))
			}),
		})
	}
	return ovs
}

// AT TIME ZONE, which the grammar writes as timezone(zone, value).
var _ = RegisterFamily(map[string][]tree.Overload{
	"timezone": {
		immutableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			loc, err := parseZone(string(tree.MustBeDString(a[0])))
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(relocate(a[1].(*tree.DTimestamp).Time, loc))
		}, types.String, types.Timestamp),
		immutableFn(types.Timestamp, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			loc, err := parseZone(string(tree.MustBeDString(a[0])))
			if err != nil {
				return nil, err
			}
			return MakeTimestamp(wallClock(a[1].(*tree.DTimestampTZ).Time, loc))
		}, types.String, types.TimestampTZ),
		// A date, which PostgreSQL casts to timestamptz for this.
		stableFn(types.Timestamp, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			loc, err := parseZone(string(tree.MustBeDString(a[0])))
			if err != nil {
				return nil, err
			}
			t, err := dateToTime(a[1].(*tree.DDate).Date)
			if err != nil {
				return nil, err
			}
			return MakeTimestamp(wallClock(t, loc))
		}, types.String, types.Date),
		immutableFn(types.TimestampTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			loc, err := intervalZone(a[0].(*tree.DInterval).Duration)
			if err != nil {
				return nil, err
			}
			return MakeTimestampTZ(relocate(a[1].(*tree.DTimestamp).Time, loc))
		}, types.Interval, types.Timestamp),
		immutableFn(types.Timestamp, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			loc, err := intervalZone(a[0].(*tree.DInterval).Duration)
			if err != nil {
				return nil, err
			}
			return MakeTimestamp(wallClock(a[1].(*tree.DTimestampTZ).Time, loc))
		}, types.Interval, types.TimestampTZ),
		stableFn(types.TimeTZ, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			loc, err := parseZone(string(tree.MustBeDString(a[0])))
			if err != nil {
				return nil, err
			}
			tz := a[1].(*tree.DTimeTZ)
			_, off := e.StmtTime.In(loc).Zone()
			utc := int64(tz.TimeOfDay) + int64(tz.OffsetSecs)*microsPerSecond
			return tree.NewDTimeTZFromOffset(timeAddMicros(0, utc+int64(off)*microsPerSecond), int32(-off)), nil
		}, types.String, types.TimeTZ),
	},
})

// wallClock is t's wall clock in loc, as a zoneless time.
func wallClock(t time.Time, loc *time.Location) time.Time {
	if !isFiniteTime(t) {
		return t
	}
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// parseZone reads a time zone as PostgreSQL does: a name from the zone
// database, an abbreviation, or a POSIX offset ('+05' is five hours west
// of UTC).
func parseZone(s string) (*time.Location, error) {
	loc, err := timeutil.TimeZoneStringToLocation(s, timeutil.TimeZoneStringToLocationPOSIXStandard)
	if err != nil {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "time zone %q not recognized", s)
	}
	return loc, nil
}

// intervalZone is AT TIME ZONE INTERVAL: an offset east of UTC.
func intervalZone(iv duration.Duration) (*time.Location, error) {
	if iv.Months != 0 || iv.Days != 0 {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "interval time zone %q must not include months or days", tree.AsStringWithFlags(&tree.DInterval{Duration: iv}, tree.FmtBareStrings))
	}
	return timeutil.TimeZoneOffsetToLocation(int(iv.Nanos() / 1e9)), nil
}

// timeFn is now() and its synonyms: the statement's time.
func timeFn() tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.TimestampTZ),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDTimestampTZ(e.StmtTime, 1000)
		}),
	}
}
