package sem

import (
	"math"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeofday"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timetz"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Date and time arithmetic, as PostgreSQL's timestamp.c and date.c do it.
// The session time zone is always UTC (settings.go refuses others), so a
// timestamptz's wall clock is its UTC time and timestamptz arithmetic is
// timestamp arithmetic.

const (
	microsPerSecond = int64(1_000_000)
	microsPerDay    = 86_400 * microsPerSecond
	daysPerMonth    = 30

	// codeDatetimeOverflow is 22008, datetime_field_overflow.
	codeDatetimeOverflow pgerror.Code = "22008"
)

var (
	errTimestampOutOfRange = pgerror.New(codeDatetimeOverflow, "timestamp out of range")
	errDateOutOfRange      = pgerror.New(codeDatetimeOverflow, "date out of range")
	errIntervalOutOfRange  = pgerror.New(codeDatetimeOverflow, "interval out of range")
)

// evalDatetimeBinary applies a binary operator with a date, time,
// timestamp or interval operand; ok is false when the operands are not
// such a pair, for EvalBinary's other cases.
func evalDatetimeBinary(sym treebin.BinaryOperatorSymbol, l, r tree.Datum, loc *time.Location) (d tree.Datum, ok bool, err error) {
	l, r = tree.UnwrapDOidWrapper(l), tree.UnwrapDOidWrapper(r)
	if !isDatetime(l) && !isDatetime(r) {
		return nil, false, nil
	}
	switch sym {
	case treebin.Plus:
		d, err = datetimePlus(l, r, loc)
		if d == nil && err == nil {
			// Addition commutes: interval + date is date + interval.
			d, err = datetimePlus(r, l, loc)
		}
	case treebin.Minus:
		d, err = datetimeMinus(l, r, loc)
	case treebin.Mult:
		if iv, ok := l.(*tree.DInterval); ok && isNumber(r) {
			d, err = intervalMul(iv.Duration, ToFloat(r))
		} else if iv, ok := r.(*tree.DInterval); ok && isNumber(l) {
			d, err = intervalMul(iv.Duration, ToFloat(l))
		}
	case treebin.Div:
		if iv, ok := l.(*tree.DInterval); ok && isNumber(r) {
			d, err = IntervalDiv(iv.Duration, ToFloat(r))
		}
	}
	if d == nil && err == nil {
		return nil, false, nil
	}
	return d, true, err
}

func isDatetime(d tree.Datum) bool {
	switch d.(type) {
	case *tree.DDate, *tree.DTimestamp, *tree.DTimestampTZ, *tree.DTime, *tree.DTimeTZ, *tree.DInterval:
		return true
	}
	return false
}

func isNumber(d tree.Datum) bool {
	switch d.(type) {
	case *tree.DInt, *tree.DFloat, *tree.DDecimal:
		return true
	}
	return false
}

// datetimePlus is l + r for the pairs PostgreSQL defines with l the
// date/time operand; nil, nil when it defines none.
func datetimePlus(l, r tree.Datum, loc *time.Location) (tree.Datum, error) {
	switch a := l.(type) {
	case *tree.DDate:
		switch b := r.(type) {
		case *tree.DInt:
			return dateAddDays(a.Date, int64(*b))
		case *tree.DInterval:
			t, err := dateToTime(a.Date)
			if err != nil {
				return nil, err
			}
			return addIntervalTo(MakeTimestamp, t, b.Duration)
		case *tree.DTime:
			t, err := dateToTime(a.Date)
			if err != nil || !isFiniteTime(t) {
				return &tree.DTimestamp{Time: t}, err
			}
			return MakeTimestamp(t.Add(time.Duration(*b) * time.Microsecond))
		case *tree.DTimeTZ:
			t, err := dateToTime(a.Date)
			if err != nil || !isFiniteTime(t) {
				return &tree.DTimestampTZ{Time: t}, err
			}
			t = t.Add(time.Duration(b.TimeOfDay)*time.Microsecond + time.Duration(b.OffsetSecs)*time.Second)
			return MakeTimestampTZ(t)
		}
	case *tree.DTimestamp:
		if b, ok := r.(*tree.DInterval); ok {
			return addIntervalTo(MakeTimestamp, a.Time, b.Duration)
		}
	case *tree.DTimestampTZ:
		if b, ok := r.(*tree.DInterval); ok {
			// Days and months are added on the zone's calendar (a day
			// across a daylight saving change is 23 or 25 hours).
			return addIntervalTo(MakeTimestampTZ, a.Time.In(loc), b.Duration)
		}
	case *tree.DTime:
		if b, ok := r.(*tree.DInterval); ok {
			return tree.MakeDTime(timeAddMicros(timeofday.TimeOfDay(*a), b.Duration.Nanos()/1000)), nil
		}
	case *tree.DTimeTZ:
		if b, ok := r.(*tree.DInterval); ok {
			t := timeAddMicros(a.TimeOfDay, b.Duration.Nanos()/1000)
			return tree.NewDTimeTZFromOffset(t, a.OffsetSecs), nil
		}
	case *tree.DInterval:
		if b, ok := r.(*tree.DInterval); ok {
			return IntervalAdd(a.Duration, b.Duration, 1)
		}
	}
	return nil, nil
}

// datetimeMinus is l - r for the pairs PostgreSQL defines; nil, nil when
// it defines none.
func datetimeMinus(l, r tree.Datum, loc *time.Location) (tree.Datum, error) {
	_, ltz := l.(*tree.DTimestampTZ)
	_, rtz := r.(*tree.DTimestampTZ)
	if !ltz && !rtz {
		// timestamp - timestamp (or date) is on the wall clock, in no zone.
		loc = time.UTC
	}
	if at, ok := InstantIn(l, loc); ok {
		if bt, ok := InstantIn(r, loc); ok {
			_, ld := l.(*tree.DDate)
			_, rd := r.(*tree.DDate)
			if !ld || !rd {
				// timestamp - timestamptz and the like: PostgreSQL casts
				// the other operand to the richer type, read in the
				// session's zone.
				return timestampDiff(at, bt)
			}
		}
	}
	switch a := l.(type) {
	case *tree.DDate:
		switch b := r.(type) {
		case *tree.DInt:
			if *b == math.MinInt64 {
				return nil, errDateOutOfRange
			}
			return dateAddDays(a.Date, -int64(*b))
		case *tree.DDate:
			if !a.IsFinite() || !b.IsFinite() {
				return nil, pgerror.New(codeDatetimeOverflow, "cannot subtract infinite dates")
			}
			return tree.NewDInt(tree.DInt(int64(a.PGEpochDays()) - int64(b.PGEpochDays()))), nil
		case *tree.DInterval:
			t, err := dateToTime(a.Date)
			if err != nil {
				return nil, err
			}
			neg, err := intervalNeg(b.Duration)
			if err != nil {
				return nil, err
			}
			return addIntervalTo(MakeTimestamp, t, neg)
		}
	case *tree.DTimestamp:
		switch b := r.(type) {
		case *tree.DInterval:
			neg, err := intervalNeg(b.Duration)
			if err != nil {
				return nil, err
			}
			return addIntervalTo(MakeTimestamp, a.Time, neg)
		case *tree.DTimestamp:
			return timestampDiff(a.Time, b.Time)
		}
	case *tree.DTimestampTZ:
		switch b := r.(type) {
		case *tree.DInterval:
			neg, err := intervalNeg(b.Duration)
			if err != nil {
				return nil, err
			}
			return addIntervalTo(MakeTimestampTZ, a.Time.In(loc), neg)
		case *tree.DTimestampTZ:
			return timestampDiff(a.Time, b.Time)
		}
	case *tree.DTime:
		switch b := r.(type) {
		case *tree.DInterval:
			return tree.MakeDTime(timeAddMicros(timeofday.TimeOfDay(*a), -b.Duration.Nanos()/1000)), nil
		case *tree.DTime:
			return &tree.DInterval{Duration: duration.MakeDuration((int64(*a)-int64(*b))*1000, 0, 0)}, nil
		}
	case *tree.DTimeTZ:
		if b, ok := r.(*tree.DInterval); ok {
			t := timeAddMicros(a.TimeOfDay, -b.Duration.Nanos()/1000)
			return tree.NewDTimeTZFromOffset(t, a.OffsetSecs), nil
		}
	case *tree.DInterval:
		if b, ok := r.(*tree.DInterval); ok {
			return IntervalAdd(a.Duration, b.Duration, -1)
		}
	}
	return nil, nil
}

// dateAddDays is date ± integer: infinite dates stay as they are.
func dateAddDays(d pgdate.Date, days int64) (tree.Datum, error) {
	if !d.IsFinite() {
		return tree.NewDDate(d), nil
	}
	n := int64(d.PGEpochDays()) + days
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, errDateOutOfRange
	}
	r, err := pgdate.MakeDateFromPGEpoch(int32(n))
	if err != nil || !r.IsFinite() {
		return nil, errDateOutOfRange
	}
	return tree.NewDDate(r), nil
}

// dateToTime is a date's midnight; an infinite date is the infinite time,
// which duration.Add leaves as it is.
func dateToTime(d pgdate.Date) (time.Time, error) {
	if !d.IsFinite() {
		if isPosInfDate(d) {
			return pgdate.TimeInfinity, nil
		}
		return pgdate.TimeNegativeInfinity, nil
	}
	t, err := d.ToTime()
	if err != nil {
		return time.Time{}, errDateOutOfRange
	}
	return t, nil
}

// isPosInfDate is whether d is infinity. Not d == pgdate.PosInfDate:
// a date read from storage keeps its on-disk form beside its days, and
// so equals neither infinity.
func isPosInfDate(d pgdate.Date) bool {
	return d.PGEpochDays() == pgdate.PosInfDate.PGEpochDays()
}

// MakeTimestamp is t as a timestamp, 22008 outside its range.
func MakeTimestamp(t time.Time) (tree.Datum, error) {
	if !isFiniteTime(t) {
		return &tree.DTimestamp{Time: t}, nil
	}
	d, err := tree.MakeDTimestamp(t, time.Microsecond)
	if err != nil {
		return nil, errTimestampOutOfRange
	}
	return d, nil
}

// MakeTimestampTZ is t as a timestamptz, 22008 outside its range.
func MakeTimestampTZ(t time.Time) (tree.Datum, error) {
	if !isFiniteTime(t) {
		return &tree.DTimestampTZ{Time: t.UTC()}, nil
	}
	d, err := tree.MakeDTimestampTZ(t.UTC(), time.Microsecond)
	if err != nil {
		return nil, errTimestampOutOfRange
	}
	return d, nil
}

// timeAddMicros adds micros to a time of day, wrapping around midnight as
// PostgreSQL's time_pl_interval does (only the interval's time part
// counts).
func timeAddMicros(t timeofday.TimeOfDay, micros int64) timeofday.TimeOfDay {
	v := (int64(t) + micros%microsPerDay) % microsPerDay
	if v < 0 {
		v += microsPerDay
	}
	return timeofday.TimeOfDay(v)
}

// timestampDiff is timestamp - timestamp: the microseconds between them,
// whole days moved into the day field (timestamp_mi's
// interval_justify_hours).
func timestampDiff(a, b time.Time) (tree.Datum, error) {
	if !isFiniteTime(a) || !isFiniteTime(b) {
		return nil, pgerror.New(codeDatetimeOverflow, "cannot subtract infinite timestamps")
	}
	micros := a.UnixMicro() - b.UnixMicro()
	days := micros / microsPerDay
	return &tree.DInterval{Duration: duration.MakeDuration((micros-days*microsPerDay)*1000, days, 0)}, nil
}

// Instant is a date, timestamp or timestamptz as a UTC time.
func Instant(d tree.Datum) (time.Time, bool) { return InstantIn(d, time.UTC) }

// InstantIn is Instant with dates and timestamps read in loc, as
// PostgreSQL casts them to timestamptz in the session's zone.
func InstantIn(d tree.Datum, loc *time.Location) (time.Time, bool) {
	switch v := d.(type) {
	case *tree.DTimestamp:
		if isFiniteTime(v.Time) && loc != time.UTC {
			return relocate(v.Time, loc), true
		}
		return v.Time, true
	case *tree.DTimestampTZ:
		return v.Time.UTC(), true
	case *tree.DDate:
		if v.IsFinite() {
			t, err := v.ToTime()
			if err == nil && loc != time.UTC {
				t = relocate(t, loc)
			}
			return t, err == nil
		}
	}
	return time.Time{}, false
}

func isFiniteTime(t time.Time) bool {
	return !t.Equal(pgdate.TimeInfinity) && !t.Equal(pgdate.TimeNegativeInfinity)
}

// IntervalAdd is a + sign*b, field by field; months and days are 32-bit
// in PostgreSQL.
func IntervalAdd(a, b duration.Duration, sign int64) (tree.Datum, error) {
	months := a.Months + sign*b.Months
	days := a.Days + sign*b.Days
	an, bn := a.Nanos()/1000, b.Nanos()/1000
	micros := an + sign*bn
	if months < math.MinInt32 || months > math.MaxInt32 || days < math.MinInt32 || days > math.MaxInt32 ||
		(sign > 0 && (micros > an) != (bn > 0) && bn != 0) || (sign < 0 && (micros < an) != (bn > 0) && bn != 0) {
		return nil, errIntervalOutOfRange
	}
	return makeInterval(months, days, micros)
}

// makeInterval is an interval of months, days and microseconds, refusing
// what PostgreSQL's 32-bit month and day fields cannot hold (and what
// the nanosecond time field of duration.Duration cannot).
func makeInterval(months, days, micros int64) (*tree.DInterval, error) {
	if months < math.MinInt32 || months > math.MaxInt32 || days < math.MinInt32 || days > math.MaxInt32 ||
		micros > math.MaxInt64/1000 || micros < math.MinInt64/1000 {
		return nil, errIntervalOutOfRange
	}
	return &tree.DInterval{Duration: duration.MakeDuration(micros*1000, days, months)}, nil
}

func intervalNeg(d duration.Duration) (duration.Duration, error) {
	r, err := makeInterval(-d.Months, -d.Days, -d.Nanos()/1000)
	if err != nil {
		return duration.Duration{}, err
	}
	return r.Duration, nil
}

// intervalMul is interval * float8 as PostgreSQL 15's interval_mul: the
// fractions of months spill into days (30 a month), of days into seconds.
func intervalMul(d duration.Duration, factor float64) (tree.Datum, error) {
	return scaleInterval(d, factor, func(x float64) float64 { return x * factor })
}

// IntervalDiv is interval / float8 as PostgreSQL 15's interval_div (each
// field divided, not multiplied by the inverse: the digits differ).
func IntervalDiv(d duration.Duration, factor float64) (tree.Datum, error) {
	if factor == 0 {
		return nil, errDivByZero
	}
	return scaleInterval(d, factor, func(x float64) float64 { return x / factor })
}

// scaleInterval applies op to each field of d, spilling fractions of
// months into days and of days into seconds.
func scaleInterval(d duration.Duration, factor float64, op func(float64) float64) (tree.Datum, error) {
	months := op(float64(d.Months))
	days := op(float64(d.Days))
	// FLOAT8_FITS_IN_INT32: a fraction past 2147483647 still fits (the
	// int32 takes its whole part, the fraction spills into days).
	if math.IsNaN(factor) || !(months >= math.MinInt32 && months < -math.MinInt32) || !(days >= math.MinInt32 && days < -math.MinInt32) {
		return nil, errIntervalOutOfRange
	}
	rm, rd := int64(months), int64(days)
	monthRemDays := tsRound((months - float64(rm)) * daysPerMonth)
	secRem := tsRound((days - float64(rd) + monthRemDays - float64(int64(monthRemDays))) * 86400)
	if math.Abs(secRem) >= 86400 {
		rd += int64(secRem / 86400)
		secRem -= float64(int64(secRem/86400) * 86400)
	}
	rd += int64(monthRemDays)
	micros := math.RoundToEven(op(float64(d.Nanos()/1000)) + secRem*1e6)
	if math.IsNaN(micros) || micros >= math.MaxInt64 || micros < math.MinInt64 {
		return nil, errIntervalOutOfRange
	}
	return makeInterval(rm, rd, int64(micros))
}

// tsRound rounds to microseconds, PostgreSQL's TSROUND.
func tsRound(f float64) float64 {
	return math.RoundToEven(f*1e6) / 1e6
}

// evalDatetimeUnaryMinus is -interval; ok is false for other operands.
func evalDatetimeUnaryMinus(d tree.Datum) (tree.Datum, bool, error) {
	iv, ok := d.(*tree.DInterval)
	if !ok {
		return nil, false, nil
	}
	neg, err := intervalNeg(iv.Duration)
	if err != nil {
		return nil, true, err
	}
	return &tree.DInterval{Duration: neg}, true, nil
}

// castDatetime converts between the date/time types and from text; ok is
// false for conversions it does not know, for CastDatum's other cases.
func castDatetime(e *EvalCtx, d tree.Datum, t *types.T) (tree.Datum, bool, error) {
	d = tree.UnwrapDOidWrapper(d)
	switch t.Family() {
	case types.DateFamily:
		switch v := d.(type) {
		case *tree.DTimestamp:
			r, err := timeToDate(v.Time)
			return r, true, err
		case *tree.DTimestampTZ:
			r, err := timeToDate(wallClock(v.Time, e.GetLocation()))
			return r, true, err
		}
	case types.TimeFamily:
		switch v := d.(type) {
		case *tree.DTimestamp:
			return tree.MakeDTime(timeofday.FromTime(v.Time)), true, nil
		case *tree.DTimestampTZ:
			return tree.MakeDTime(timeofday.FromTime(wallClock(v.Time, e.GetLocation()))), true, nil
		case *tree.DTimeTZ:
			return tree.MakeDTime(v.TimeOfDay), true, nil
		case *tree.DInterval:
			return tree.MakeDTime(timeAddMicros(0, v.Duration.Nanos()/1000)), true, nil
		}
	case types.TimeTZFamily:
		switch v := d.(type) {
		case *tree.DTime:
			return tree.NewDTimeTZFromOffset(timeofday.TimeOfDay(*v), 0), true, nil
		case *tree.DTimestampTZ:
			return tree.NewDTimeTZ(timetz.MakeTimeTZFromTime(v.Time.In(e.GetLocation()))), true, nil
		}
	case types.IntervalFamily:
		switch v := d.(type) {
		case *tree.DTime:
			return &tree.DInterval{Duration: duration.MakeDuration(int64(*v)*1000, 0, 0)}, true, nil
		case *tree.DInterval:
			return v, true, nil
		}
	case types.TimestampFamily:
		switch v := d.(type) {
		case *tree.DDate:
			tm, err := dateToTime(v.Date)
			if err != nil {
				return nil, true, err
			}
			r, err := MakeTimestamp(tm)
			return r, true, err
		}
	case types.TimestampTZFamily:
		switch v := d.(type) {
		case *tree.DDate:
			tm, err := dateToTime(v.Date)
			if err != nil {
				return nil, true, err
			}
			r, err := MakeTimestampTZ(tm)
			return r, true, err
		}
	}
	return nil, false, nil
}

func timeToDate(t time.Time) (tree.Datum, error) {
	switch t {
	case pgdate.TimeInfinity:
		return tree.NewDDate(pgdate.PosInfDate), nil
	case pgdate.TimeNegativeInfinity:
		return tree.NewDDate(pgdate.NegInfDate), nil
	}
	d, err := pgdate.MakeDateFromTime(t)
	if err != nil {
		return nil, errDateOutOfRange
	}
	return tree.NewDDate(d), nil
}

// compareDateTimestamp orders a date against a timestamp or timestamptz
// as PostgreSQL does (date_cmp_timestamp_internal): the date is its
// midnight (in the session's zone against a timestamptz), an infinite
// date the infinite time, and a date beyond the timestamp range above
// every finite time but below infinity. ok is false when the datums
// are not such a pair.
func compareDateTimestamp(a, b tree.Datum, loc *time.Location) (c int, ok bool) {
	if _, isDate := b.(*tree.DDate); isDate {
		if _, isDate := a.(*tree.DDate); !isDate {
			c, ok = compareDateTimestamp(b, a, loc)
			return -c, ok
		}
	}
	da, isDate := a.(*tree.DDate)
	if !isDate {
		return 0, false
	}
	var t time.Time
	switch x := b.(type) {
	case *tree.DTimestamp:
		t = x.Time
		loc = time.UTC
	case *tree.DTimestampTZ:
		t = x.Time
	default:
		return 0, false
	}
	var dt time.Time
	switch {
	case !da.Date.IsFinite() && isPosInfDate(da.Date):
		dt = pgdate.TimeInfinity
	case !da.Date.IsFinite():
		dt = pgdate.TimeNegativeInfinity
	default:
		y, m, d := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(da.Date.PGEpochDays())).Date()
		dt = time.Date(y, m, d, 0, 0, 0, 0, loc)
		if dt.After(tree.MaxSupportedTime) {
			if t.Equal(pgdate.TimeInfinity) {
				return -1, true
			}
			return 1, true
		}
	}
	switch {
	case dt.Before(t):
		return -1, true
	case dt.After(t):
		return 1, true
	}
	return 0, true
}

// addIntervalTo is t + d made a timestamp by mk, its months, days and
// time added one after the other as PostgreSQL's timestamp_pl_interval
// does, each step's result range-checked (4713-01-01 BC - 11 mons is
// out of range though adding 30 days after would bring it back).
func addIntervalTo(mk func(time.Time) (tree.Datum, error), t time.Time, d duration.Duration) (tree.Datum, error) {
	if !isFiniteTime(t) {
		return mk(duration.Add(t, d))
	}
	for _, step := range []duration.Duration{
		duration.MakeDuration(0, 0, d.Months), duration.MakeDuration(0, d.Days, 0), duration.MakeDuration(d.Nanos(), 0, 0),
	} {
		if step == (duration.Duration{}) {
			continue
		}
		t = duration.Add(t, step)
		// Checked against the range's bounds, not by MakeDTimestamp:
		// a step landing on the instant that stands for infinity (the
		// last timestamp plus a day) is out of range too.
		if r := t.Round(time.Microsecond); r.After(tree.MaxSupportedTime) || r.Before(tree.MinSupportedTime) {
			return nil, errTimestampOutOfRange
		}
	}
	return mk(t)
}
