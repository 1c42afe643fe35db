package pgformat

import (
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
)

// DateStyle's output styles (PostgreSQL's EncodeDateOnly and
// EncodeDateTime): ISO 2010-03-09 12:34:56.5-08, SQL 03/09/2010
// 12:34:56.5 PST, Postgres Tue Mar 09 12:34:56.5 2010 PST, German
// 09.03.2010 12:34:56.5 PST. The order (MDY, DMY; YMD writes as MDY)
// places the day and the month in SQL and Postgres; German is always
// day first. Styles other than ISO name the zone by its abbreviation
// (the numeric offset when the zone has none). Dates before 1 AD end in
// " BC" in every style.

var weekdays = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// formatDate is a date's text in style ds; t is the date at midnight UTC.
func formatDate(t time.Time, ds pgdate.DateStyle) string {
	y, bc := yearBC(t)
	var s string
	switch ds.Style {
	case pgdate.Style_SQL:
		s = dayMonth(t, ds.Order, "/") + fmt.Sprintf("/%04d", y)
	case pgdate.Style_POSTGRES:
		s = dayMonth(t, ds.Order, "-") + fmt.Sprintf("-%04d", y)
	case pgdate.Style_GERMAN:
		s = fmt.Sprintf("%02d.%02d.%04d", t.Day(), int(t.Month()), y)
	default:
		s = fmt.Sprintf("%04d-%02d-%02d", y, int(t.Month()), t.Day())
	}
	if bc {
		s += " BC"
	}
	return s
}

// formatTimestampStyled is a timestamp's text in a style other than ISO
// (formatTimestamp writes ISO); a timestamptz (tz) is already in its
// zone.
func formatTimestampStyled(t time.Time, tz bool, ds pgdate.DateStyle) string {
	y, bc := yearBC(t)
	clock := t.Format("15:04:05.999999")
	var s string
	switch ds.Style {
	case pgdate.Style_SQL:
		s = dayMonth(t, ds.Order, "/") + fmt.Sprintf("/%04d ", y) + clock
	case pgdate.Style_GERMAN:
		s = fmt.Sprintf("%02d.%02d.%04d ", t.Day(), int(t.Month()), y) + clock
	default: // Postgres
		mon := t.Month().String()[:3]
		if ds.Order == pgdate.Order_DMY {
			s = fmt.Sprintf("%s %02d %s ", weekdays[t.Weekday()], t.Day(), mon)
		} else {
			s = fmt.Sprintf("%s %s %02d ", weekdays[t.Weekday()], mon, t.Day())
		}
		s += clock + fmt.Sprintf(" %04d", y)
	}
	if tz {
		s += " " + zoneAbbrev(t)
	}
	if bc {
		s += " BC"
	}
	return s
}

// dayMonth is the day and the month in the order's sequence, joined by
// sep: DMY puts the day first, MDY and YMD the month.
func dayMonth(t time.Time, order pgdate.Order, sep string) string {
	if order == pgdate.Order_DMY {
		return fmt.Sprintf("%02d%s%02d", t.Day(), sep, int(t.Month()))
	}
	return fmt.Sprintf("%02d%s%02d", int(t.Month()), sep, t.Day())
}

// yearBC is t's year as written: before 1 AD counted back, with bc set
// (Go's year 0 is 1 BC).
func yearBC(t time.Time) (int, bool) {
	if y := t.Year(); y <= 0 {
		return 1 - y, true
	}
	return t.Year(), false
}

// zoneAbbrev is the abbreviation of t's zone at t (PST, IST, LMT), or its
// numeric offset (+04, -03:30) when the zone has no alphabetic one.
func zoneAbbrev(t time.Time) string {
	name, _ := t.Zone()
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') }) >= 0 {
		return formatOffset(t)
	}
	return name
}

// ParseDateStyle reads a DateStyle value as PostgreSQL's SET does: a
// list of a style (ISO, SQL, Postgres, German) and an order (YMD, DMY or
// EURO/EUROPEAN, MDY or US/NONEURO/NONEUROPEAN), either of which may be
// left out to keep cur's; German alone also means DMY; DEFAULT is ISO,
// MDY. It returns the value as SHOW prints it.
func ParseDateStyle(val string, cur pgdate.DateStyle) (pgdate.DateStyle, error) {
	ds := cur
	haveStyle, haveOrder := false, false
	setStyle := func(s pgdate.Style) bool {
		if haveStyle && ds.Style != s {
			return false
		}
		ds.Style, haveStyle = s, true
		return true
	}
	setOrder := func(o pgdate.Order) bool {
		if haveOrder && ds.Order != o {
			return false
		}
		ds.Order, haveOrder = o, true
		return true
	}
	for _, f := range strings.Split(val, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		ok := true
		switch f {
		case "":
			continue
		case "iso":
			ok = setStyle(pgdate.Style_ISO)
		case "sql":
			ok = setStyle(pgdate.Style_SQL)
		case "postgres":
			ok = setStyle(pgdate.Style_POSTGRES)
		case "german":
			ok = setStyle(pgdate.Style_GERMAN)
			if ok && !haveOrder {
				ds.Order = pgdate.Order_DMY
			}
		case "ymd":
			ok = setOrder(pgdate.Order_YMD)
		case "dmy", "euro", "european":
			ok = setOrder(pgdate.Order_DMY)
		case "mdy", "us", "noneuro", "noneuropean":
			ok = setOrder(pgdate.Order_MDY)
		case "default":
			ok = setStyle(pgdate.Style_ISO) && setOrder(pgdate.Order_MDY)
		default:
			return cur, &DateStyleError{Value: val, Detail: fmt.Sprintf("Unrecognized key word: %q.", f)}
		}
		if !ok {
			return cur, &DateStyleError{Value: val, Detail: `Conflicting "datestyle" specifications.`}
		}
	}
	return ds, nil
}

// DateStyleError is a DateStyle value PostgreSQL refuses.
type DateStyleError struct{ Value, Detail string }

func (e *DateStyleError) Error() string {
	return fmt.Sprintf("invalid value for parameter \"DateStyle\": %q", e.Value)
}

// DateStyleString is ds as SHOW DateStyle prints it: "Postgres, MDY".
func DateStyleString(ds pgdate.DateStyle) string {
	style := map[pgdate.Style]string{pgdate.Style_ISO: "ISO", pgdate.Style_SQL: "SQL", pgdate.Style_POSTGRES: "Postgres", pgdate.Style_GERMAN: "German"}[ds.Style]
	order := map[pgdate.Order]string{pgdate.Order_MDY: "MDY", pgdate.Order_DMY: "DMY", pgdate.Order_YMD: "YMD"}[ds.Order]
	return style + ", " + order
}

// isFinite: t is neither infinity nor -infinity.
func isFinite(t time.Time) bool {
	return !t.Equal(pgdate.TimeInfinity) && !t.Equal(pgdate.TimeNegativeInfinity)
}
