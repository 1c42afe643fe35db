package pgformat

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeofday"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/lib/pq/oid"
)

// The binary formats of time (time_send: int64 microseconds since
// midnight), timetz (timetz_send: that, then int32 zone seconds west of
// UTC) and interval (interval_send: int64 microseconds, int32 days,
// int32 months).

// encodeDatetimeBinary is d's binary format; ok is false for other types.
func encodeDatetimeBinary(d tree.Datum) (b []byte, ok bool) {
	switch v := d.(type) {
	case *tree.DTime:
		return binary.BigEndian.AppendUint64(nil, uint64(*v)), true
	case *tree.DTimeTZ:
		b = binary.BigEndian.AppendUint64(nil, uint64(v.TimeOfDay))
		return binary.BigEndian.AppendUint32(b, uint32(v.OffsetSecs)), true
	case *tree.DInterval:
		b = binary.BigEndian.AppendUint64(nil, uint64(v.Duration.Nanos()/1000))
		b = binary.BigEndian.AppendUint32(b, uint32(int32(v.Duration.Days)))
		return binary.BigEndian.AppendUint32(b, uint32(int32(v.Duration.Months))), true
	}
	return nil, false
}

// decodeDatetimeBinary decodes a binary time, timetz or interval
// parameter; ok is false for other types, d nil for a malformed value.
func decodeDatetimeBinary(v []byte, o oid.Oid) (d tree.Datum, ok bool) {
	switch o {
	case oid.T_time:
		if len(v) != 8 {
			return nil, true
		}
		us := int64(binary.BigEndian.Uint64(v))
		if us < 0 || us > int64(timeofday.Time2400) {
			return nil, true
		}
		return tree.MakeDTime(timeofday.TimeOfDay(us)), true
	case oid.T_timetz:
		if len(v) != 12 {
			return nil, true
		}
		us := int64(binary.BigEndian.Uint64(v))
		zone := int32(binary.BigEndian.Uint32(v[8:]))
		if us < 0 || us > int64(timeofday.Time2400) || zone < -(15*3600+59*60+59) || zone > 15*3600+59*60+59 {
			return nil, true
		}
		return tree.NewDTimeTZFromOffset(timeofday.TimeOfDay(us), zone), true
	case oid.T_interval:
		if len(v) != 16 {
			return nil, true
		}
		us := int64(binary.BigEndian.Uint64(v))
		if us > math.MaxInt64/1000 || us < math.MinInt64/1000 {
			return nil, true
		}
		days := int32(binary.BigEndian.Uint32(v[8:]))
		months := int32(binary.BigEndian.Uint32(v[12:]))
		return &tree.DInterval{Duration: duration.MakeDuration(us*1000, int64(days), int64(months))}, true
	}
	return nil, false
}

// formatTimestamp is a timestamp's text form: ISO with the microseconds
// that are not zero, a timestamptz's offset in its location's zone ("+00",
// "-08", "+05:30"), years before 1 AD as "0044-03-15 ... BC", and
// infinity. A timestamp (tz false) is its wall clock, kept in UTC.
func formatTimestamp(t time.Time, tz bool) string {
	if t.Equal(pgdate.TimeInfinity) {
		return "infinity"
	}
	if t.Equal(pgdate.TimeNegativeInfinity) {
		return "-infinity"
	}
	if !tz {
		t = t.UTC()
	}
	y, bc := t.Year(), false
	if y <= 0 {
		y, bc = 1-y, true // Go's year 0 is 1 BC
	}
	s := fmt.Sprintf("%04d-", y) + t.Format("01-02 15:04:05.999999")
	if tz {
		s += formatOffset(t)
	}
	if bc {
		s += " BC"
	}
	return s
}

// formatOffset is t's offset east of UTC as PostgreSQL writes it: hours,
// then minutes and seconds only when not zero.
func formatOffset(t time.Time) string {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	s := fmt.Sprintf("%c%02d", sign, off/3600)
	if m, sec := off%3600/60, off%60; m != 0 || sec != 0 {
		s += fmt.Sprintf(":%02d", m)
		if sec != 0 {
			s += fmt.Sprintf(":%02d", sec)
		}
	}
	return s
}

// JSONTimestamp is a timestamp as to_jsonb writes it (ISO 8601, XSD
// style): a T between date and time, a timestamptz's offset (in t's
// location) always with its minutes, "infinity" as is.
func JSONTimestamp(t time.Time, tz bool) string {
	if !isFinite(t) {
		return formatTimestamp(t, tz)
	}
	if !tz {
		t = t.UTC()
	}
	y, bc := yearBC(t)
	s := fmt.Sprintf("%04d-", y) + t.Format("01-02T15:04:05.999999")
	if tz {
		off := formatOffset(t)
		if len(off) == 3 {
			off += ":00"
		}
		s += off
	}
	if bc {
		s += " BC"
	}
	return s
}
