// Package pgformat is PostgreSQL's text and binary formats of values, as
// they cross the wire: result columns out, parameters and COPY data in.
package pgformat

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/uuid"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// Values cross the wire in PostgreSQL's text or binary format (the
// protocol chapter of the PostgreSQL documentation, and the send/recv
// functions of each type for binary).

// pgEpoch is 2000-01-01, PostgreSQL's epoch for binary dates and times.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Style is how a session writes values in the text format: the settings
// that change it.
type Style struct {
	// Loc is the session's TimeZone, where a timestamptz is shown; nil
	// is UTC.
	Loc *time.Location
	// DateStyle writes dates and timestamps (the zero value is ISO,
	// MDY).
	DateStyle pgdate.DateStyle
	// ByteaEscape: bytea_output = escape (the default is hex).
	ByteaEscape bool
}

// EncodeText is d in PostgreSQL's text format; nil for NULL. A
// timestamptz is shown in UTC (EncodeTextIn shows it in a session's zone).
func EncodeText(d tree.Datum) []byte { return EncodeTextStyle(d, Style{}) }

// EncodeTextIn is EncodeText with a timestamptz shown in loc, as
// PostgreSQL shows it in the session's TimeZone.
func EncodeTextIn(d tree.Datum, loc *time.Location) []byte {
	return EncodeTextStyle(d, Style{Loc: loc})
}

// EncodeTextStyle is d in PostgreSQL's text format as a session with the
// settings st writes it; nil for NULL.
func EncodeTextStyle(d tree.Datum, st Style) []byte { return EncodeTextAs(d, nil, st) }

// EncodeTextAs is EncodeTextStyle for a value of type t (nil: the
// datum's own type), which tells a float4 from a float8: both are
// DFloats, and a float4 is written in its own shortest form
// (4.56789e+15).
func EncodeTextAs(d tree.Datum, t *types.T, st Style) []byte {
	if d == tree.DNull {
		return nil
	}
	// Not nil for an empty value: nil is NULL.
	return appendText([]byte{}, d, t, st)
}

// appendText appends d (not NULL) in the text format; t is its type when
// the container knows it better than the datum (a float4 array's
// elements), else nil.
func appendText(dst []byte, d tree.Datum, t *types.T, st Style) []byte {
	switch v := tree.UnwrapDOidWrapper(d).(type) {
	case *tree.DBool:
		if *v {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case *tree.DString:
		return append(dst, *v...)
	case *tree.DBytes:
		return AppendBytea(dst, []byte(*v), st.ByteaEscape)
	case *tree.DJSON:
		return append(dst, pgjson.Format(v.JSON)...)
	case *tree.DEnum:
		return append(dst, v.LogicalRep...)
	case *tree.DTimestampTZ:
		loc := st.Loc
		if loc == nil {
			loc = time.UTC
		}
		if st.DateStyle.Style != pgdate.Style_ISO && isFinite(v.Time) {
			return append(dst, formatTimestampStyled(v.Time.In(loc), true, st.DateStyle)...)
		}
		return append(dst, formatTimestamp(v.Time.In(loc), true)...)
	case *tree.DTimestamp:
		if st.DateStyle.Style != pgdate.Style_ISO && isFinite(v.Time) {
			return append(dst, formatTimestampStyled(v.Time.UTC(), false, st.DateStyle)...)
		}
		return append(dst, formatTimestamp(v.Time, false)...)
	case *tree.DDate:
		if t, err := v.Date.ToTime(); err == nil && v.Date.IsFinite() {
			return append(dst, formatDate(t, st.DateStyle)...)
		}
	case *tree.DDecimal:
		switch {
		case v.Form == apd.NaN || v.Form == apd.NaNSignaling:
			// numeric's NaN has no sign (- 'NaN'::numeric is NaN).
			return append(dst, "NaN"...)
		case v.Form == apd.Finite && v.IsZero() && v.Exponent > 0:
			// A zero of a positive exponent (1e20 - 1e20) is 0, not
			// its coefficient's zero padded to the exponent.
			return append(dst, '0')
		case v.Negative && v.Form == apd.Finite && v.IsZero():
			// numeric has no -0 (-0.04 rounded to one digit is 0.0).
			var z apd.Decimal
			z.Abs(&v.Decimal)
			return append(dst, z.Text('f')...)
		}
		return append(dst, v.Decimal.Text('f')...)
	case *tree.DOid:
		// An object identifier type (regclass, regtype, ...) prints the
		// name its cast found, already quoted and qualified as
		// PostgreSQL's output function does (regtype's as format_type
		// does, unquoted: double precision); one whose object does not
		// exist prints its number, and 0 prints as "-".
		if v.ResolvedType().Oid() != oid.T_oid {
			if v.Oid == 0 {
				return append(dst, '-')
			}
			if v.Name() != "" {
				return append(dst, v.Name()...)
			}
		}
		return strconv.AppendUint(dst, uint64(v.Oid), 10)
	case *tree.DArray:
		return appendArrayText(dst, v, st)
	case *tree.DTuple:
		return appendTupleText(dst, v, st)
	case *tree.DFloat:
		if t == nil {
			t = d.ResolvedType()
		}
		bits := 64
		if t.Oid() == oid.T_float4 {
			bits = 32
		}
		return append(dst, formatFloat(float64(*v), bits)...)
	}
	return append(dst, tree.AsStringWithFlags(d, tree.FmtPgwireText)...)
}

// appendArrayText is array_out: {a,b,...}, NULL for a NULL element, an
// element quoted (with " and \ backslash-escaped) when it is empty, NULL
// spelled as a string, or holds a brace, the delimiter, a quote, a
// backslash or white space. int2vector and oidvector (pg_index.indkey,
// ...) are their elements space-separated, without braces. Lower bounds
// other than 1 come first, as each dimension's [lower:upper] then =.
func appendArrayText(dst []byte, a *tree.DArray, st Style) []byte {
	if o := a.ResolvedType().Oid(); o == oid.T_int2vector || o == oid.T_oidvector {
		for i, e := range a.Array {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendText(dst, e, a.ParamTyp, st)
		}
		return dst
	}
	if pgarray.HasBounds(a) {
		dst = append(append(dst, pgarray.DimsText(a)...), '=')
	}
	dst = append(dst, '{')
	var buf []byte
	for i, e := range a.Array {
		if i > 0 {
			dst = append(dst, ',')
		}
		if e == tree.DNull {
			dst = append(dst, "NULL"...)
			continue
		}
		if inner, ok := tree.UnwrapDOidWrapper(e).(*tree.DArray); ok {
			// A sub-array is written as is, as array_out writes the
			// inner dimensions of a multidimensional array.
			dst = appendArrayText(dst, inner, st)
			continue
		}
		buf = appendText(buf[:0], e, a.ParamTyp, st)
		dst = appendQuoted(dst, buf, arrayNeedsQuote(buf), true)
	}
	return append(dst, '}')
}

// appendTupleText is record_out: (a,b,...), nothing for a NULL field, a
// field quoted (with " and \ doubled) when it is empty or holds a
// parenthesis, a comma, a quote, a backslash or white space.
func appendTupleText(dst []byte, tup *tree.DTuple, st Style) []byte {
	dst = append(dst, '(')
	tc := tup.ResolvedType().TupleContents()
	var buf []byte
	for i, e := range tup.D {
		if i > 0 {
			dst = append(dst, ',')
		}
		if e == tree.DNull {
			continue
		}
		var t *types.T
		if i < len(tc) {
			t = tc[i]
		}
		buf = appendText(buf[:0], e, t, st)
		dst = appendQuoted(dst, buf, len(buf) == 0 || containsAny(buf, "()\",\\ \t\n\r\v\f"), false)
	}
	return append(dst, ')')
}

func arrayNeedsQuote(s []byte) bool {
	if len(s) == 0 || (len(s) == 4 && strings.EqualFold(string(s), "null")) {
		return true
	}
	return containsAny(s, "{}\",\\ \t\n\r\v\f")
}

func containsAny(s []byte, chars string) bool {
	for _, c := range s {
		if strings.IndexByte(chars, c) >= 0 {
			return true
		}
	}
	return false
}

// appendQuoted appends s, in double quotes if quote; a quote or backslash
// in it is escaped with a backslash (arrays) or doubled (records).
func appendQuoted(dst, s []byte, quote, backslash bool) []byte {
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			if backslash {
				dst = append(dst, '\\')
			} else {
				dst = append(dst, c)
			}
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// formatFloat prints f as PostgreSQL 12+ does by default: the shortest
// digits that read back exactly, in fixed notation unless the decimal
// exponent is below -4 or at least 15 (DBL_DIG; 6 for float4).
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	prec := shortestPrec(f, bits)
	e := strconv.FormatFloat(f, 'e', prec, bits)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return e
	}
	if prec < 0 {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	return fixedNotation(e, exp)
}

// fixedNotation is e ("-d.ddde+XX", exponent exp) in fixed notation
// with the same digits.
func fixedNotation(e string, exp int) string {
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	digits := strings.Replace(e[:strings.IndexByte(e, 'e')], ".", "", 1)
	switch point := exp + 1; {
	case point <= 0:
		digits = "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		digits += strings.Repeat("0", point-len(digits))
	default:
		digits = digits[:point] + "." + digits[point:]
	}
	return sign + digits
}

// shortestPrec is the precision (digits after the first, in 'e'
// notation) PostgreSQL's float output prints f with, or -1 for Go's
// shortest. They differ when Go's shortest digits lie exactly halfway
// between f and a neighbouring float: Go accepts that bound when f's
// mantissa is even (round-half-even reads it back as f), PostgreSQL's
// Ryū is built without STRICTLY_SHORTEST and never does, so it prints
// one digit more (-44.7::float4 * 1e15::float8 is
// -4.4700000762939456e+16, not -4.470000076293946e+16).
func shortestPrec(f float64, bits int) int {
	if f == 0 || !onHalfwayBound(f, strconv.FormatFloat(f, 'e', -1, bits), bits) {
		return -1
	}
	maxDigits := 17
	if bits == 32 {
		maxDigits = 9
	}
	for prec := 1; prec < maxDigits; prec++ {
		s := strconv.FormatFloat(f, 'e', prec, bits)
		if r, err := strconv.ParseFloat(s, bits); err == nil && r == f && !onHalfwayBound(f, s, bits) {
			return prec
		}
	}
	return maxDigits - 1
}

// onHalfwayBound reports whether the decimal s is exactly halfway
// between f and the float (of bits) next to it either way.
func onHalfwayBound(f float64, s string, bits int) bool {
	d, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	var below, above float64
	if bits == 32 {
		below = float64(math.Nextafter32(float32(f), float32(math.Inf(-1))))
		above = float64(math.Nextafter32(float32(f), float32(math.Inf(1))))
	} else {
		below, above = math.Nextafter(f, math.Inf(-1)), math.Nextafter(f, math.Inf(1))
	}
	for _, n := range []float64{below, above} {
		if math.IsInf(n, 0) {
			continue
		}
		mid := new(big.Rat).SetFloat64(f)
		mid.Add(mid, new(big.Rat).SetFloat64(n))
		mid.Quo(mid, big.NewRat(2, 1))
		if mid.Cmp(d) == 0 {
			return true
		}
	}
	return false
}

// EncodeBinary is d in PostgreSQL's binary format for type t.
func EncodeBinary(d tree.Datum, t *types.T) ([]byte, error) {
	if d == tree.DNull {
		return nil, nil
	}
	switch v := tree.UnwrapDOidWrapper(d).(type) {
	case *tree.DVoid:
		return []byte{}, nil
	case *tree.DInt:
		switch t.Oid() {
		case oid.T_int2:
			return binary.BigEndian.AppendUint16(nil, uint16(*v)), nil
		case oid.T_int4:
			return binary.BigEndian.AppendUint32(nil, uint32(*v)), nil
		}
		return binary.BigEndian.AppendUint64(nil, uint64(*v)), nil
	case *tree.DFloat:
		if t.Oid() == oid.T_float4 {
			return binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(*v))), nil
		}
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(float64(*v))), nil
	case *tree.DBool:
		if *v {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case *tree.DString:
		return []byte(*v), nil
	case *tree.DBytes:
		return []byte(*v), nil
	case *tree.DUuid:
		return v.GetBytes(), nil
	case *tree.DTimestamp:
		return binary.BigEndian.AppendUint64(nil, uint64(v.Time.Sub(pgEpoch).Microseconds())), nil
	case *tree.DTimestampTZ:
		return binary.BigEndian.AppendUint64(nil, uint64(v.Time.Sub(pgEpoch).Microseconds())), nil
	case *tree.DDate:
		return binary.BigEndian.AppendUint32(nil, uint32(v.PGEpochDays())), nil
	case *tree.DDecimal:
		return encodeNumericBinary(&v.Decimal), nil
	case *tree.DArray:
		return encodeArrayBinary(v, t)
	case *tree.DJSON:
		return encodeJSONBinary(v), nil
	case *tree.DEnum:
		// enum_send: the label's text.
		return []byte(v.LogicalRep), nil
	case *tree.DOid:
		// oid_send, and the object identifier types' (regclass, ...):
		// the 4-byte number.
		return binary.BigEndian.AppendUint32(nil, uint32(v.Oid)), nil
	}
	if b, ok := encodeDatetimeBinary(tree.UnwrapDOidWrapper(d)); ok {
		return b, nil
	}
	return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "binary format for type %s is not supported yet", t.SQLString())
}

// encodeArrayBinary is an array in PostgreSQL's binary format
// (array_send): dimensions, a has-NULLs flag, the element type's OID,
// each dimension's length and lower bound, then each element as a
// length (-1 for NULL) and its binary form.
func encodeArrayBinary(a *tree.DArray, t *types.T) ([]byte, error) {
	elem := t.ArrayContents()
	for elem != nil && elem.Family() == types.ArrayFamily {
		elem = elem.ArrayContents()
	}
	if elem == nil {
		elem = a.ParamTyp
	}
	out := make([]byte, 0, 20+8*len(a.Array))
	dims := pgarray.Dims(a)
	hasNulls := uint32(0)
	if a.HasNulls {
		hasNulls = 1
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(dims)))
	out = binary.BigEndian.AppendUint32(out, hasNulls)
	out = binary.BigEndian.AppendUint32(out, uint32(elem.Oid()))
	lower := pgarray.LowerOrOnes(a)
	for i, n := range dims {
		out = binary.BigEndian.AppendUint32(out, uint32(n))
		out = binary.BigEndian.AppendUint32(out, uint32(int32(lower[i])))
	}
	for _, d := range pgarray.Flat(a) {
		if d == tree.DNull {
			out = binary.BigEndian.AppendUint32(out, 0xffffffff)
			continue
		}
		b, err := EncodeBinary(d, elem)
		if err != nil {
			return nil, err
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// encodeNumericBinary writes PostgreSQL's numeric binary form: ndigits,
// weight (of the first base-10000 digit), sign, dscale, then the
// base-10000 digits.
func encodeNumericBinary(d *apd.Decimal) []byte {
	if d.Form != apd.Finite {
		return []byte{0, 0, 0, 0, 0xC0, 0, 0, 0} // NaN
	}
	s := d.Coeff.String()
	var intPart, frac string
	if d.Exponent >= 0 {
		intPart = s + strings.Repeat("0", int(d.Exponent))
	} else if k := int(-d.Exponent); len(s) > k {
		intPart, frac = s[:len(s)-k], s[len(s)-k:]
	} else {
		frac = strings.Repeat("0", k-len(s)) + s
	}
	dscale := len(frac)
	intPart = strings.Repeat("0", (4-len(intPart)%4)%4) + intPart
	frac += strings.Repeat("0", (4-len(frac)%4)%4)
	all := intPart + frac
	groups := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		var g uint16
		for _, c := range all[i : i+4] {
			g = g*10 + uint16(c-'0')
		}
		groups = append(groups, g)
	}
	weight := len(intPart)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(0)
	if len(groups) == 0 {
		weight = 0
	} else if d.Negative {
		sign = 0x4000
	}
	b := binary.BigEndian.AppendUint16(nil, uint16(len(groups)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, g := range groups {
		b = binary.BigEndian.AppendUint16(b, g)
	}
	return b
}

// DecodeParam decodes a parameter value of type t sent in format (0 text,
// 1 binary); nil is NULL.
// pc is how text values are read: against the statement's time ('now',
// 'today'), in the session's zone and DateStyle order.
func DecodeParam(v []byte, t *types.T, format int16, pc tree.ParseContext) (tree.Datum, error) {
	if v == nil {
		return tree.DNull, nil
	}
	if t.Family() == types.JsonFamily {
		return decodeJSON(v, t, format)
	}
	if t.Family() == types.EnumFamily && t.TypeMeta.EnumData != nil {
		// enum_recv reads the label's text, as enum_in does.
		e, err := tree.MakeDEnumFromLogicalRepresentation(t, string(v))
		if err != nil {
			return nil, pgerror.Newf(pgerror.CodeInvalidTextRepresentation, "invalid input value for enum %s: %q", t.TypeMeta.Name.Name, string(v))
		}
		return &e, nil
	}
	if format == 0 {
		if t.Family() == types.StringFamily || t.Family() == types.UnknownFamily {
			return tree.NewDString(string(v)), nil
		}
		if t.Family() == types.BytesFamily {
			b, err := ParseBytea(string(v))
			if err != nil {
				return nil, err
			}
			return tree.NewDBytes(tree.DBytes(b)), nil
		}
		switch t.Oid() {
		case oid.T_regclass, oid.T_regtype, oid.T_regnamespace, oid.T_regrole, oid.T_regproc, oid.T_regprocedure:
			// An object identifier type's text is an OID or a name; a
			// name is looked up when the statement runs, in its catalog
			// (sem's evaluation of the parameter).
			s := string(v)
			if n, err := strconv.ParseUint(s, 10, 32); err == nil {
				return tree.NewDOidWithType(oid.Oid(n), t), nil
			}
			return tree.NewDString(s), nil
		}
		if t.Family() == types.ArrayFamily {
			// array_in, multidimensional arrays included.
			return pgarray.Parse(string(v), t.ArrayContents(), func(el string) (tree.Datum, error) {
				return DecodeParam([]byte(el), t.ArrayContents(), 0, pc)
			})
		}
		d, _, err := tree.ParseAndRequireString(t, string(v), pc)
		if err != nil {
			return nil, pgerror.WithCode(err, pgerror.CodeInvalidTextRepresentation)
		}
		return d, nil
	}
	if t.Family() == types.ArrayFamily {
		return decodeArrayBinary(v, t, pc)
	}
	bad := func() error {
		return pgerror.Newf(pgerror.CodeInvalidBinaryRepresentation, "invalid binary value of %d bytes for type %s", len(v), t.SQLString())
	}
	switch t.Oid() {
	case oid.T_int2:
		if len(v) != 2 {
			return nil, bad()
		}
		return tree.NewDInt(tree.DInt(int16(binary.BigEndian.Uint16(v)))), nil
	case oid.T_int4:
		if len(v) != 4 {
			return nil, bad()
		}
		return tree.NewDInt(tree.DInt(int32(binary.BigEndian.Uint32(v)))), nil
	case oid.T_int8:
		if len(v) != 8 {
			return nil, bad()
		}
		return tree.NewDInt(tree.DInt(int64(binary.BigEndian.Uint64(v)))), nil
	case oid.T_float4:
		if len(v) != 4 {
			return nil, bad()
		}
		return tree.NewDFloat(tree.DFloat(math.Float32frombits(binary.BigEndian.Uint32(v)))), nil
	case oid.T_float8:
		if len(v) != 8 {
			return nil, bad()
		}
		return tree.NewDFloat(tree.DFloat(math.Float64frombits(binary.BigEndian.Uint64(v)))), nil
	case oid.T_bool:
		if len(v) != 1 {
			return nil, bad()
		}
		return tree.MakeDBool(v[0] != 0), nil
	case oid.T_text, oid.T_varchar, oid.T_bpchar, oid.T_name, oid.T_unknown:
		return tree.NewDString(string(v)), nil
	case oid.T_bytea:
		return tree.NewDBytes(tree.DBytes(v)), nil
	case oid.T_uuid:
		u, err := uuid.FromBytes(v)
		if err != nil {
			return nil, bad()
		}
		return tree.NewDUuid(tree.DUuid{UUID: u}), nil
	case oid.T_timestamp, oid.T_timestamptz:
		if len(v) != 8 {
			return nil, bad()
		}
		ts := pgEpoch.Add(time.Duration(int64(binary.BigEndian.Uint64(v))) * time.Microsecond)
		if t.Oid() == oid.T_timestamp {
			return &tree.DTimestamp{Time: ts}, nil
		}
		return &tree.DTimestampTZ{Time: ts}, nil
	case oid.T_date:
		if len(v) != 4 {
			return nil, bad()
		}
		d, err := pgdate.MakeDateFromPGEpoch(int32(binary.BigEndian.Uint32(v)))
		if err != nil {
			return nil, bad()
		}
		return tree.NewDDate(d), nil
	case oid.T_numeric:
		return decodeNumericBinary(v)
	case oid.T_oid, oid.T_regclass, oid.T_regtype, oid.T_regnamespace, oid.T_regrole, oid.T_regproc, oid.T_regprocedure:
		// oid_recv: the 4-byte number (an object identifier type's value
		// prints as a number until cast again by name).
		if len(v) != 4 {
			return nil, bad()
		}
		return tree.NewDOidWithType(oid.Oid(binary.BigEndian.Uint32(v)), t), nil
	}
	if d, ok := decodeDatetimeBinary(v, t.Oid()); ok {
		if d == nil {
			return nil, bad()
		}
		return d, nil
	}
	return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "binary format for type %s is not supported yet", t.SQLString())
}

func decodeNumericBinary(v []byte) (tree.Datum, error) {
	if len(v) < 8 {
		return nil, pgerror.New(pgerror.CodeInvalidBinaryRepresentation, "invalid numeric")
	}
	n := int(binary.BigEndian.Uint16(v))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	dscale := int(binary.BigEndian.Uint16(v[6:]))
	if len(v) != 8+2*n {
		return nil, pgerror.New(pgerror.CodeInvalidBinaryRepresentation, "invalid numeric")
	}
	d := &tree.DDecimal{}
	if sign == 0xC000 {
		d.Form = apd.NaN
		return d, nil
	}
	coeff := new(big.Int)
	for i := 0; i < n; i++ {
		coeff.Mul(coeff, big.NewInt(10000))
		coeff.Add(coeff, big.NewInt(int64(binary.BigEndian.Uint16(v[8+2*i:]))))
	}
	// value = coeff * 10000^(weight-n+1), shown with dscale digits.
	d.Coeff.SetMathBigInt(coeff)
	d.Exponent = int32(4 * (weight - n + 1))
	d.Negative = sign == 0x4000
	// Quantize needs the digits to fit its precision (the exact context,
	// precision 0, would make NaN of every value).
	qctx := apd.BaseContext.WithPrecision(uint32(4*n + dscale + 8))
	if _, err := qctx.Quantize(&d.Decimal, &d.Decimal, int32(-dscale)); err != nil {
		return nil, pgerror.WithCode(err, pgerror.CodeInvalidBinaryRepresentation)
	}
	return d, nil
}

// TypeSize is a type's pg_type.typlen.
func TypeSize(t *types.T) int16 {
	switch t.Oid() {
	case oid.T_int2:
		return 2
	case oid.T_int4, oid.T_float4, oid.T_date,
		oid.T_oid, oid.T_regclass, oid.T_regtype, oid.T_regnamespace, oid.T_regrole, oid.T_regproc, oid.T_regprocedure:
		return 4
	case oid.T_int8, oid.T_float8, oid.T_timestamp, oid.T_timestamptz, oid.T_time:
		return 8
	case oid.T_timetz:
		return 12
	case oid.T_interval:
		return 16
	case oid.T_bool:
		return 1
	case oid.T_uuid:
		return 16
	}
	return -1
}
