package sem

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// to_char, to_date and to_timestamp(text, text) with PostgreSQL's
// date/time template patterns (formatting.c's DCH keywords): YYYY MM DD
// HH24 MI SS and the rest, the FM and FX prefixes, the TH suffix, "quoted
// text" and backslash escapes.

var _ = RegisterFamily(map[string][]tree.Overload{
	"to_char": append(numToCharFns(),
		stableFn(types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return toCharTime(a[0].(*tree.DTimestamp).Time, false, a[1])
		}, types.Timestamp, types.String),
		stableFn(types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return toCharTime(a[0].(*tree.DTimestampTZ).Time.In(e.GetLocation()), true, a[1])
		}, types.TimestampTZ, types.String),
		// A date, which PostgreSQL casts to timestamptz for this.
		stableFn(types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			t, err := dateToTime(a[0].(*tree.DDate).Date)
			if err != nil {
				return nil, err
			}
			return toCharTime(t, true, a[1])
		}, types.Date, types.String),
		stableFn(types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return toChar(intervalFields(a[0].(*tree.DInterval).Duration), string(tree.MustBeDString(a[1])))
		}, types.Interval, types.String),
	),
	"to_date": {stableFn(types.Date, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		t, err := parseTemplate(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])))
		if err != nil {
			return nil, err
		}
		return timeToDate(t)
	}, types.String, types.String)},
})

// toCharTime is to_char of a timestamp: NULL for an infinite one, as
// in PostgreSQL.
func toCharTime(t time.Time, tz bool, format tree.Datum) (tree.Datum, error) {
	if !isFiniteTime(t) {
		return tree.DNull, nil
	}
	return toChar(timeFields(t, tz), string(tree.MustBeDString(format)))
}

// bcYear is how to_char prints a year of a timestamp: BC years by
// their number (formatting.c's ADJUST_YEAR), an interval's as it is.
// year is the year of the era (-1 is 1 BC) or, with astronomical, the
// ISO year (0 is 1 BC).
func (f dtFields) bcYear(year int64, astronomical bool) int64 {
	switch {
	case f.interval:
		return year
	case astronomical && year <= 0:
		return 1 - year
	case year < 0:
		return -year
	}
	return year
}

// toTimestampText is to_timestamp(text, text).
func toTimestampText(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
	t, err := parseTemplate(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])))
	if err != nil {
		return nil, err
	}
	return MakeTimestampTZ(t)
}

// dtFields are the fields to_char prints: a timestamp's, or an
// interval's (whose hours may exceed 23 and whose days are a count).
type dtFields struct {
	year, month, day, hour, min, sec, usec int64
	yday, wday, isoYear, isoWeek           int64
	julian                                 int64
	interval, tz                           bool
	// zone and offset (seconds east of UTC) of a timestamptz, in the
	// session's zone.
	zone   string
	offset int
}

func timeFields(t time.Time, tz bool) dtFields {
	zoneName, offset := t.Zone()
	iy, iw := t.ISOWeek()
	y := int64(t.Year())
	if y <= 0 {
		y-- // Go's year 0 is 1 BC
	}
	return dtFields{
		year: y, month: int64(t.Month()), day: int64(t.Day()),
		hour: int64(t.Hour()), min: int64(t.Minute()), sec: int64(t.Second()), usec: int64(t.Nanosecond() / 1000),
		yday: int64(t.YearDay()), wday: int64(t.Weekday()), isoYear: int64(iy), isoWeek: int64(iw),
		julian: julianDay(t), tz: tz, zone: zoneName, offset: offset,
	}
}

func intervalFields(iv duration.Duration) dtFields {
	us := iv.Nanos() / 1000
	return dtFields{
		year: iv.Months / 12, month: iv.Months % 12, day: iv.Days,
		hour: us / (3600 * microsPerSecond), min: us / (60 * microsPerSecond) % 60,
		sec: us / microsPerSecond % 60, usec: us % microsPerSecond, interval: true,
	}
}

var monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// dchKeywords are the template patterns, longest first where one is a
// prefix of another.
var dchKeywords = []string{
	"A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "DAY", "DDD", "DD", "DY", "Day", "Dy", "D",
	"FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "HH24", "HH12", "HH", "IDDD", "ID", "IW", "IYYY", "IYY", "IY", "I",
	"J", "MI", "MM", "MONTH", "MON", "MS", "Month", "Mon", "OF", "P.M.", "PM", "Q", "RM",
	"SSSSS", "SSSS", "SS", "TZH", "TZM", "TZ", "US", "WW", "W", "Y,YYY", "YYYY", "YYY", "YY", "Y",
	"a.d.", "a.m.", "ad", "am", "b.c.", "bc", "cc", "day", "ddd", "dd", "dy", "d", "ff1", "ff2", "ff3", "ff4", "ff5", "ff6",
	"hh24", "hh12", "hh", "iddd", "id", "iw", "iyyy", "iyy", "iy", "i", "j", "mi", "mm", "month", "mon", "ms",
	"of", "p.m.", "pm", "q", "rm", "sssss", "ssss", "ss", "tzh", "tzm", "tz", "us", "ww", "w", "y,yyy", "yyyy", "yyy", "yy", "y",
}

// matchKeyword is the template keyword at the start of s, or "".
func matchKeyword(s string) string {
	for _, k := range dchKeywords {
		if strings.HasPrefix(s, k) {
			return k
		}
	}
	return ""
}

// toChar formats f by template tmpl.
func toChar(f dtFields, tmpl string) (tree.Datum, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		rest := tmpl[i:]
		fm := false
		for {
			switch {
			case strings.HasPrefix(rest, "FM") || strings.HasPrefix(rest, "fm"):
				fm = true
				rest, i = rest[2:], i+2
				continue
			case strings.HasPrefix(rest, "FX") || strings.HasPrefix(rest, "fx"):
				rest, i = rest[2:], i+2
				continue
			}
			break
		}
		if rest == "" {
			break
		}
		k := matchKeyword(rest)
		if k == "" {
			switch rest[0] {
			case '"':
				j := 1
				for j < len(rest) && rest[j] != '"' {
					if rest[j] == '\\' && j+1 < len(rest) {
						j++
					}
					b.WriteByte(rest[j])
					j++
				}
				i += j + 1
			case '\\':
				if len(rest) > 1 {
					b.WriteByte(rest[1])
					i += 2
				} else {
					b.WriteByte('\\')
					i++
				}
			default:
				_, n := utf8.DecodeRuneInString(rest)
				b.WriteString(rest[:n])
				i += n
			}
			continue
		}
		i += len(k)
		th, upperTH := "", false
		if strings.HasPrefix(tmpl[i:], "TH") || strings.HasPrefix(tmpl[i:], "th") {
			th, upperTH = "th", tmpl[i] == 'T'
			i += 2
		}
		out, num := formatKeyword(f, k, fm)
		b.WriteString(out)
		if th != "" && num >= 0 {
			s := ordinalSuffix(num)
			if upperTH {
				s = strings.ToUpper(s)
			}
			b.WriteString(s)
		}
	}
	return tree.NewDString(b.String()), nil
}

func ordinalSuffix(n int64) string {
	if n < 0 {
		n = -n
	}
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

// pad is n zero-padded to width, unless fm.
func pad(n int64, width int, fm bool) string {
	if fm {
		return strconv.FormatInt(n, 10)
	}
	// The sign counts in the width, as in C's printf.
	return fmt.Sprintf("%0*d", width, n)
}

// caseAs is name in the case of keyword k: all upper (MONTH), all lower
// (month), or capitalized (Month); padded to 9 unless fm.
func caseAs(k, name string, fm bool, padTo int) string {
	switch {
	case k == strings.ToUpper(k):
		name = strings.ToUpper(name)
	case k == strings.ToLower(k):
		name = strings.ToLower(name)
	}
	if !fm && len(name) < padTo {
		name += strings.Repeat(" ", padTo-len(name))
	}
	return name
}

// formatKeyword is one keyword's text, and its number for a TH suffix
// (-1 when it has none).
func formatKeyword(f dtFields, k string, fm bool) (string, int64) {
	hour12 := f.hour % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch strings.ToUpper(k) {
	case "YYYY":
		y := f.bcYear(f.year, false)
		return pad(y, 4, fm), y
	case "Y,YYY":
		y := f.bcYear(f.year, false)
		return fmt.Sprintf("%d,%03d", y/1000, y%1000), y
	case "YYY":
		y := f.bcYear(f.year, false)
		return pad(y%1000, 3, fm), y % 1000
	case "YY":
		y := f.bcYear(f.year, false)
		return pad(y%100, 2, fm), y % 100
	case "Y":
		y := f.bcYear(f.year, false)
		return pad(y%10, 1, fm), y % 10
	case "IYYY":
		y := f.bcYear(f.isoYear, true)
		return pad(y, 4, fm), y
	case "IYY":
		y := f.bcYear(f.isoYear, true)
		return pad(y%1000, 3, fm), y % 1000
	case "IY":
		y := f.bcYear(f.isoYear, true)
		return pad(y%100, 2, fm), y % 100
	case "I":
		y := f.bcYear(f.isoYear, true)
		return pad(y%10, 1, fm), y % 10
	case "MM":
		return pad(f.month, 2, fm), f.month
	case "DD":
		return pad(f.day, 2, fm), f.day
	case "DDD":
		return pad(f.yday, 3, fm), f.yday
	case "IDDD":
		d := (f.isoWeek-1)*7 + isoDow(f.wday)
		return pad(d, 3, fm), d
	case "D":
		return pad(f.wday+1, 1, fm), f.wday + 1
	case "ID":
		return pad(isoDow(f.wday), 1, fm), isoDow(f.wday)
	case "HH", "HH12":
		return pad(hour12, 2, fm), hour12
	case "HH24":
		return pad(f.hour, 2, fm), f.hour
	case "MI":
		return pad(f.min, 2, fm), f.min
	case "SS":
		return pad(f.sec, 2, fm), f.sec
	case "MS":
		return pad(f.usec/1000, 3, fm), f.usec / 1000
	case "US":
		return pad(f.usec, 6, fm), f.usec
	case "FF1", "FF2", "FF3", "FF4", "FF5", "FF6":
		n := int(k[2] - '0')
		v := f.usec
		for j := 6; j > n; j-- {
			v /= 10
		}
		return pad(v, n, false), -1
	case "SSSS", "SSSSS":
		s := f.hour*3600 + f.min*60 + f.sec
		return strconv.FormatInt(s, 10), s
	case "AM", "PM", "A.M.", "P.M.":
		s := "AM"
		if f.hour%24 >= 12 {
			s = "PM"
		}
		if strings.Contains(k, ".") {
			s = s[:1] + "." + s[1:] + "."
		}
		if k == strings.ToLower(k) {
			s = strings.ToLower(s)
		}
		return s, -1
	case "AD", "BC", "A.D.", "B.C.":
		s := "AD"
		if f.year < 0 {
			s = "BC"
		}
		if strings.Contains(k, ".") {
			s = s[:1] + "." + s[1:] + "."
		}
		if k == strings.ToLower(k) {
			s = strings.ToLower(s)
		}
		return s, -1
	case "MONTH":
		if f.month < 1 {
			return "", -1
		}
		return caseAs(k, monthNames[f.month-1], fm, 9), -1
	case "MON":
		if f.month < 1 {
			return "", -1
		}
		return caseAs(k, monthNames[f.month-1][:3], fm, 0), -1
	case "DAY":
		if f.interval {
			return "", -1
		}
		return caseAs(k, dayNames[f.wday], fm, 9), -1
	case "DY":
		if f.interval {
			return "", -1
		}
		return caseAs(k, dayNames[f.wday][:3], fm, 0), -1
	case "RM":
		if f.month < 1 {
			return "", -1
		}
		r := []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}[f.month-1]
		if k == "rm" {
			r = strings.ToLower(r)
		}
		if !fm {
			r = fmt.Sprintf("%-4s", r)
		}
		return r, -1
	case "W":
		w := (f.day-1)/7 + 1
		return pad(w, 1, fm), w
	case "WW":
		w := (f.yday-1)/7 + 1
		return pad(w, 2, fm), w
	case "IW":
		return pad(f.isoWeek, 2, fm), f.isoWeek
	case "Q":
		if f.month < 1 {
			return "", -1
		}
		q := (f.month-1)/3 + 1
		return pad(q, 1, fm), q
	case "CC":
		// Century 21 is 2001-2100, and 1 BC (astronomical year 0)
		// through 100 BC century -1: the years of a century end in 00.
		var c int64
		switch {
		case f.interval:
			c = f.year / 100
		case f.year > 0:
			c = (f.year-1)/100 + 1
		default:
			c = (f.year+1)/100 - 1
		}
		if c > 99 || c < -99 {
			return strconv.FormatInt(c, 10), c
		}
		// Two digits, after the sign.
		width := 2
		if c < 0 {
			width = 3
		}
		return pad(c, width, fm), c
	case "J":
		return strconv.FormatInt(f.julian, 10), f.julian
	case "TZ":
		if f.tz {
			if k == "tz" {
				return strings.ToLower(f.zone), -1
			}
			return f.zone, -1
		}
		return "", -1
	case "OF", "TZH", "TZM":
		if !f.tz {
			return "", -1
		}
		sign, off := "+", f.offset
		if off < 0 {
			sign, off = "-", -off
		}
		h, m := off/3600, off%3600/60
		switch strings.ToUpper(k) {
		case "TZH":
			return fmt.Sprintf("%s%02d", sign, h), -1
		case "TZM":
			return fmt.Sprintf("%02d", m), -1
		}
		if m != 0 {
			return fmt.Sprintf("%s%02d:%02d", sign, h, m), -1
		}
		return fmt.Sprintf("%s%02d", sign, h), -1
	}
	return k, -1
}

func isoDow(wday int64) int64 {
	if wday == 0 {
		return 7
	}
	return wday
}

// parseTemplate reads s by template tmpl, as to_timestamp and to_date do:
// the fields the template names, separators matched loosely; missing
// fields default to year 1, January, the 1st, midnight.
func parseTemplate(s, tmpl string) (time.Time, error) {
	year, month, day, hour, min, sec, usec := int64(1), int64(1), int64(1), int64(0), int64(0), int64(0), int64(0)
	yday := int64(0)
	pm, hasAMPM, hour12 := false, false, false
	pos := 0
	skipSpace := func() {
		for pos < len(s) && s[pos] == ' ' {
			pos++
		}
	}
	readInt := func(k string, maxDigits int) (int64, error) {
		skipSpace()
		start := pos
		if pos < len(s) && (s[pos] == '-' || s[pos] == '+') {
			pos++
		}
		for pos < len(s) && pos-start < maxDigits && s[pos] >= '0' && s[pos] <= '9' {
			pos++
		}
		if pos == start {
			rest := s[start:]
			if rest == "" {
				return 0, pgerror.Newf(codeInvalidDatetimeFormat, "source string too short for %q formatting field", k)
			}
			return 0, pgerror.Newf(codeInvalidDatetimeFormat, "invalid value %q for %q", firstWord(rest, maxDigits), k)
		}
		return strconv.ParseInt(s[start:pos], 10, 64)
	}
	readName := func(k string, names []string, abbrev bool) (int64, error) {
		skipSpace()
		for i, n := range names {
			if abbrev {
				n = n[:3]
			}
			if len(s)-pos >= len(n) && strings.EqualFold(s[pos:pos+len(n)], n) {
				pos += len(n)
				return int64(i), nil
			}
		}
		return 0, pgerror.Newf(codeInvalidDatetimeFormat, "invalid value %q for %q", firstWord(s[pos:], 0), k)
	}
	for i := 0; i < len(tmpl); {
		rest := tmpl[i:]
		if strings.HasPrefix(rest, "FM") || strings.HasPrefix(rest, "FX") || strings.HasPrefix(rest, "fm") || strings.HasPrefix(rest, "fx") {
			i += 2
			continue
		}
		k := matchKeyword(rest)
		if k == "" {
			c := rest[0]
			i++
			if c == '"' {
				for i < len(tmpl) && tmpl[i] != '"' {
					i++
					if pos < len(s) {
						pos++
					}
				}
				i++
				continue
			}
			// A separator in the template skips one character of the
			// input that is not a letter or digit.
			if pos < len(s) && !unicode.IsLetter(rune(s[pos])) && !unicode.IsDigit(rune(s[pos])) {
				pos++
			}
			continue
		}
		i += len(k)
		if strings.HasPrefix(tmpl[i:], "TH") || strings.HasPrefix(tmpl[i:], "th") {
			i += 2
		}
		var err error
		var v int64
		switch strings.ToUpper(k) {
		case "YYYY", "IYYY":
			year, err = readInt(k, 4)
		case "YYY", "IYY":
			v, err = readInt(k, 3)
			year = 2000 + v
			if v >= 70 && v < 100 {
				year = 1900 + v
			}
		case "YY", "IY":
			v, err = readInt(k, 2)
			year = 2000 + v
			if v >= 70 {
				year = 1900 + v
			}
		case "Y", "I":
			v, err = readInt(k, 1)
			year = 2000 + v
		case "MM":
			month, err = readInt(k, 2)
		case "DD":
			day, err = readInt(k, 2)
		case "DDD":
			yday, err = readInt(k, 3)
		case "HH", "HH12":
			hour, err = readInt(k, 2)
			hour12 = true
		case "HH24":
			hour, err = readInt(k, 2)
		case "MI":
			min, err = readInt(k, 2)
		case "SS":
			sec, err = readInt(k, 2)
		case "MS", "US":
			// Fewer digits than the field's are a fraction: .25 is 250 ms.
			width := 3
			if strings.ToUpper(k) == "US" {
				width = 6
			}
			start := pos
			v, err = readInt(k, width)
			for n := len(strings.TrimLeft(s[start:pos], " ")); n < width; n++ {
				v *= 10
			}
			if width == 3 {
				v *= 1000
			}
			usec = v
		case "AM", "PM", "A.M.", "P.M.":
			skipSpace()
			hasAMPM = true
			w := 2
			if strings.Contains(k, ".") {
				w = 4
			}
			if len(s)-pos < w {
				return time.Time{}, pgerror.Newf(codeInvalidDatetimeFormat, "invalid value %q for %q", s[pos:], k)
			}
			switch strings.ToUpper(strings.ReplaceAll(s[pos:pos+w], ".", "")) {
			case "AM":
			case "PM":
				pm = true
			default:
				return time.Time{}, pgerror.Newf(codeInvalidDatetimeFormat, "invalid value %q for %q", s[pos:pos+w], k)
			}
			pos += w
		case "MONTH":
			v, err = readName(k, monthNames, false)
			month = v + 1
		case "MON":
			v, err = readName(k, monthNames, true)
			month = v + 1
		case "DAY":
			_, err = readName(k, dayNames, false)
		case "DY":
			_, err = readName(k, dayNames, true)
		default:
			return time.Time{}, pgerror.Newf(pgerror.CodeFeatureNotSupported, "formatting field %q is only supported in to_char", k)
		}
		if err != nil {
			return time.Time{}, err
		}
	}
	if hour12 || hasAMPM {
		if hour < 1 || hour > 12 {
			return time.Time{}, pgerror.WithHint(pgerror.Newf(codeInvalidDatetimeFormat, "hour \"%d\" is invalid for the 12-hour clock", hour),
				"Use the 24-hour clock, or give an hour between 1 and 12.")
		}
		if pm && hour < 12 {
			hour += 12
		} else if !pm && hour == 12 {
			hour = 0
		}
	}
	gy := year
	if year < 0 {
		gy = year + 1
	}
	if yday > 0 {
		t := time.Date(int(gy), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(yday-1))
		month, day = int64(t.Month()), int64(t.Day())
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || time.Date(int(gy), time.Month(month), int(day), 0, 0, 0, 0, time.UTC).Day() != int(day) {
		return time.Time{}, pgerror.Newf(codeDatetimeOverflow, "date/time field value out of range: %q", s)
	}
	if hour > 24 || min > 59 || sec > 60 {
		return time.Time{}, pgerror.Newf(codeDatetimeOverflow, "date/time field value out of range: %q", s)
	}
	return time.Date(int(gy), time.Month(month), int(day), int(hour), int(min), int(sec), int(usec)*1000, time.UTC), nil
}

// codeInvalidDatetimeFormat is 22007, invalid_datetime_format.
const codeInvalidDatetimeFormat pgerror.Code = "22007"

func firstWord(s string, n int) string {
	if n > 0 && len(s) > n {
		s = s[:n]
	}
	if i := strings.IndexAny(s, " -/:."); i > 0 {
		s = s[:i]
	}
	return s
}
