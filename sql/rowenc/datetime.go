package rowenc

import (
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeofday"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timetz"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
)

// The encodings of time, timetz and interval, built from kv/encoding's
// order-preserving primitives.
//
//	time      varint(microseconds since midnight)
//	timetz    bytes(varint(UTC microseconds) varint(zone seconds east of UTC... negated))
//	interval  key:   decimal(nanoseconds, a month as 30 days)
//	          value: bytes(varint(months) varint(days) varint(nanoseconds))
//
// The composite ones are wrapped in one byte string so that each value is
// a single self-delimiting item (encoding.PeekLength skips a dropped
// column's value by its first item). A byte string's encoding orders as
// its raw bytes, and the raw bytes are a concatenation of prefix-free
// order-preserving items, so timetz orders as the tuple (UTC time, zone),
// as PostgreSQL's timetz_cmp.

const (
	maxTimeMicros = int64(24 * 3600 * 1_000_000) // 24:00:00 is a valid time
	// maxZoneSecs is PostgreSQL's TZDISP_LIMIT (15:59:59).
	maxZoneSecs = 15*3600 + 59*60 + 59
)

var errCorrupt = errors.New("corrupt date/time value")

func encodeTime(b []byte, t timeofday.TimeOfDay) []byte {
	return encoding.EncodeVarintAscending(b, int64(t))
}

func decodeTime(b []byte) ([]byte, tree.Datum, error) {
	rest, v, err := encoding.DecodeVarintAscending(b)
	if err != nil {
		return nil, nil, err
	}
	if v < 0 || v > maxTimeMicros {
		return nil, nil, errCorrupt
	}
	return rest, tree.MakeDTime(timeofday.TimeOfDay(v)), nil
}

func encodeTimeTZ(b []byte, t timetz.TimeTZ) []byte {
	// OffsetSecs is seconds west of UTC: UTC time = local + OffsetSecs.
	inner := encoding.EncodeVarintAscending(nil, int64(t.TimeOfDay)+int64(t.OffsetSecs)*1_000_000)
	inner = encoding.EncodeVarintAscending(inner, int64(t.OffsetSecs))
	return encoding.EncodeBytesAscending(b, inner)
}

func decodeTimeTZ(b []byte) ([]byte, tree.Datum, error) {
	rest, inner, err := encoding.DecodeBytesAscending(b, nil)
	if err != nil {
		return nil, nil, err
	}
	inner, utc, err := encoding.DecodeVarintAscending(inner)
	if err != nil {
		return nil, nil, err
	}
	inner, off, err := encoding.DecodeVarintAscending(inner)
	if err != nil {
		return nil, nil, err
	}
	if len(inner) != 0 || off < -maxZoneSecs || off > maxZoneSecs {
		return nil, nil, errCorrupt
	}
	local := utc - off*1_000_000
	if local < 0 || local > maxTimeMicros {
		return nil, nil, errCorrupt
	}
	return rest, tree.NewDTimeTZFromOffset(timeofday.TimeOfDay(local), int32(off)), nil
}

// encodeIntervalKey is an interval's key: its span alone, so that the
// intervals PostgreSQL calls equal ('1 mon', '30 days', '720 hours') share
// a key, as they must in a unique index, DISTINCT or GROUP BY. The row
// value keeps the fields (RowValue stores an interval key column there
// too).
func encodeIntervalKey(b []byte, d duration.Duration) []byte {
	return encoding.EncodeDecimalAscending(b, intervalSpan(d))
}

// intervalSpan is d in nanoseconds, a month as 30 days (PostgreSQL's
// interval_cmp_value); a decimal, so that no interval overflows it.
func intervalSpan(d duration.Duration) *apd.Decimal {
	var span, days, t apd.Decimal
	days.SetInt64(d.Months)
	_, _ = apd.BaseContext.Mul(&days, &days, apd.New(30, 0))
	_, _ = apd.BaseContext.Add(&days, &days, apd.New(d.Days, 0))
	_, _ = apd.BaseContext.Mul(&span, &days, apd.New(nanosPerDay, 0))
	t.SetInt64(d.Nanos())
	_, _ = apd.BaseContext.Add(&span, &span, &t)
	return &span
}

const nanosPerDay = 86_400_000_000_000

// decodeIntervalKey rebuilds an interval from its span: days and time,
// months only for what 32-bit days cannot hold.
func decodeIntervalKey(b []byte) ([]byte, tree.Datum, error) {
	rest, span, err := encoding.DecodeDecimalAscending(b)
	if err != nil {
		return nil, nil, err
	}
	var q, r apd.Decimal
	ctx := apd.BaseContext.WithPrecision(60)
	if _, err := ctx.QuoInteger(&q, &span, apd.New(nanosPerDay, 0)); err != nil {
		return nil, nil, errCorrupt
	}
	if _, err := ctx.Rem(&r, &span, apd.New(nanosPerDay, 0)); err != nil {
		return nil, nil, errCorrupt
	}
	days, err1 := q.Int64()
	nanos, err2 := r.Int64()
	if err1 != nil || err2 != nil || span.Form != apd.Finite {
		return nil, nil, errCorrupt
	}
	months := int64(0)
	if days > math.MaxInt32 || days < math.MinInt32 {
		months = max(min(days/30, math.MaxInt32), math.MinInt32)
		days -= months * 30
	}
	if days > math.MaxInt32 || days < math.MinInt32 {
		// What 32-bit days cannot hold goes back into the time.
		excess := days - max(min(days, math.MaxInt32), math.MinInt32)
		if excess > math.MaxInt64/nanosPerDay-1 || excess < math.MinInt64/nanosPerDay+1 {
			return nil, nil, errCorrupt
		}
		days -= excess
		n := nanos + excess*nanosPerDay
		if (excess > 0) != (n > nanos) {
			return nil, nil, errCorrupt
		}
		nanos = n
	}
	return rest, &tree.DInterval{Duration: duration.MakeDuration(nanos, days, months)}, nil
}

// encodeIntervalValue is an interval in a row value: its three fields.
func encodeIntervalValue(b []byte, d duration.Duration) []byte {
	inner := encoding.EncodeVarintAscending(nil, d.Months)
	inner = encoding.EncodeVarintAscending(inner, d.Days)
	inner = encoding.EncodeVarintAscending(inner, d.Nanos())
	return encoding.EncodeBytesAscending(b, inner)
}

func decodeIntervalValue(b []byte) ([]byte, tree.Datum, error) {
	rest, inner, err := encoding.DecodeBytesAscending(b, nil)
	if err != nil {
		return nil, nil, err
	}
	var months, days, nanos int64
	for _, f := range []*int64{&months, &days, &nanos} {
		if inner, *f, err = encoding.DecodeVarintAscending(inner); err != nil {
			return nil, nil, err
		}
	}
	if len(inner) != 0 || months < math.MinInt32 || months > math.MaxInt32 || days < math.MinInt32 || days > math.MaxInt32 {
		return nil, nil, errCorrupt
	}
	return rest, &tree.DInterval{Duration: duration.MakeDuration(nanos, days, months)}, nil
}

// StoredInValue reports whether a key column of type t is also stored in
// the row value, because its key does not keep all of it: an interval's
// key is its length (1 day = 24 hours), a numeric's or jsonb's drops
// each number's scale (1.50 = 1.5). The key still orders and equates the
// values as PostgreSQL's btree does; the row reads the value's copy back.
func StoredInValue(t *types.T) bool {
	switch t.Family() {
	case types.IntervalFamily, types.JsonFamily, types.DecimalFamily:
		return true
	}
	return false
}
