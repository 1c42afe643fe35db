package encoding

import (
	"bytes"
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/errors"
)

// decimalTerm ends the digit pairs of a finite non-zero decimal. Digit pair
// bytes are 1..100, so the terminator sorts below any further pair: a shorter
// mantissa sorts first.
const decimalTerm = 0x00

// maxUint64Digits is the most decimal digits that always fit a uint64.
const maxUint64Digits = 19

// decimalMarker returns the marker for a class given by its ascending
// marker, in the requested direction.
func decimalMarker(asc byte, desc bool) byte {
	if desc {
		return decimalDescBase + decimalNaNAsc - asc
	}
	return asc
}

// EncodeDecimalAscending appends d in PostgreSQL's numeric order: -Infinity,
// negatives, zero, positives, +Infinity, NaN. Equal values share one
// encoding whatever their representation (1.0 and 1.00, -0 and 0, NaN and
// sNaN). d's coefficient must be non-negative, as apd requires; the
// magnitude of a negative one is used.
func EncodeDecimalAscending(b []byte, d *apd.Decimal) []byte { return encodeDecimal(b, d, false) }

// EncodeDecimalDescending appends d in the reverse order: NaN first.
func EncodeDecimalDescending(b []byte, d *apd.Decimal) []byte { return encodeDecimal(b, d, true) }

func encodeDecimal(b []byte, d *apd.Decimal, desc bool) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(b, decimalMarker(decimalNaNAsc, desc))
	case apd.Infinite:
		if d.Negative {
			return append(b, decimalMarker(decimalNegInfAsc, desc))
		}
		return append(b, decimalMarker(decimalPosInfAsc, desc))
	}
	if d.Coeff.Sign() == 0 {
		return append(b, decimalMarker(decimalZeroAsc, desc))
	}
	var buf [maxUint64Digits + 1]byte
	var digits []byte
	if d.Coeff.IsUint64() {
		digits = strconv.AppendUint(buf[:0], d.Coeff.Uint64(), 10)
	} else {
		digits = d.Coeff.Append(buf[:0], 10)
		if digits[0] == '-' {
			digits = digits[1:]
		}
	}
	// d = 0.digits × 10^e; dropping trailing zeros leaves e unchanged.
	e := int64(d.Exponent) + int64(len(digits))
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	digits = digits[:n]

	class := byte(decimalPosAsc)
	if d.Negative {
		class = decimalNegAsc
	}
	b = append(b, decimalMarker(class, desc))
	start := len(b)
	b = EncodeVarintAscending(b, e)
	for i := 0; i < n; i += 2 {
		pair := (digits[i] - '0') * 10
		if i+1 < n {
			pair += digits[i+1] - '0'
		}
		b = append(b, pair+1)
	}
	b = append(b, decimalTerm)
	// A negative value reverses the order of magnitudes, and so does a
	// descending column; both together cancel.
	if d.Negative != desc {
		invert(b[start:])
	}
	return b
}

// DecodeDecimalAscending decodes a value written by EncodeDecimalAscending.
// The result is normalised: no trailing zeros in the coefficient, +0 for
// zero, NaN for any NaN.
func DecodeDecimalAscending(b []byte) (rest []byte, d apd.Decimal, err error) {
	return decodeDecimal(b, false)
}

// DecodeDecimalDescending decodes a value written by
// EncodeDecimalDescending, normalised as DecodeDecimalAscending's result.
func DecodeDecimalDescending(b []byte) (rest []byte, d apd.Decimal, err error) {
	return decodeDecimal(b, true)
}

// decimalClass returns the ascending marker for the class of the decimal at
// the start of b (non-empty) and whether its payload is complemented.
func decimalClass(b []byte, desc bool) (class byte, inverted bool, ok bool) {
	m := b[0]
	if desc {
		if m < decimalNaNDesc || m > decimalNegInfDesc {
			return 0, false, false
		}
		class = decimalDescBase + decimalNaNAsc - m
	} else {
		if m < decimalNegInfAsc || m > decimalNaNAsc {
			return 0, false, false
		}
		class = m
	}
	return class, (class == decimalNegAsc) != desc, true
}

func decodeDecimal(b []byte, desc bool) ([]byte, apd.Decimal, error) {
	what := "decimal"
	if desc {
		what = "decimal descending"
	}
	var d apd.Decimal
	if len(b) == 0 {
		return b, d, errEmpty(what)
	}
	class, inv, ok := decimalClass(b, desc)
	if !ok {
		return b, d, errMarker(what, b)
	}
	switch class {
	case decimalNaNAsc:
		d.Form = apd.NaN
		return b[1:], d, nil
	case decimalPosInfAsc:
		d.Form = apd.Infinite
		return b[1:], d, nil
	case decimalNegInfAsc:
		d.Form, d.Negative = apd.Infinite, true
		return b[1:], d, nil
	case decimalZeroAsc:
		return b[1:], d, nil
	}

	r := b[1:]
	var mask byte
	var tmp [maxVarint]byte
	p := r
	if inv {
		mask = 0xff
		p = invertedPrefix(tmp[:], r)
	}
	pr, e, err := DecodeVarintAscending(p)
	if err != nil {
		return b, d, invalidf("decoding %s exponent: %v", what, err)
	}
	r = r[consumed(p, pr):]
	end := bytes.IndexByte(r, decimalTerm^mask)
	if end < 0 {
		return b, d, invalidf("decoding %s: no terminator", what)
	}
	pairs := r[:end]
	if len(pairs) == 0 {
		return b, d, invalidf("decoding %s: no digits", what)
	}
	for i, c := range pairs {
		v := c ^ mask
		if v > 100 {
			return b, d, invalidf("decoding %s: invalid digit pair byte %#02x", what, v)
		}
		if i == 0 && v <= 10 {
			return b, d, invalidf("decoding %s: leading zero digit", what)
		}
	}
	last := (pairs[len(pairs)-1] ^ mask) - 1
	if last == 0 {
		return b, d, invalidf("decoding %s: trailing zero digits", what)
	}
	nd := 2 * len(pairs)
	if last%10 == 0 {
		nd-- // the last pair holds one digit
	}
	if e > math.MaxInt32+int64(nd) || e < math.MinInt32+int64(nd) {
		return b, d, invalidf("decoding %s: exponent %d with %d digits is out of range", what, e, nd)
	}

	if nd <= maxUint64Digits {
		var u uint64
		for i, c := range pairs {
			v := uint64(c^mask) - 1
			if i == len(pairs)-1 && nd%2 == 1 {
				u = u*10 + v/10
			} else {
				u = u*100 + v
			}
		}
		d.Coeff.SetUint64(u)
	} else {
		digits := make([]byte, 0, 2*len(pairs))
		for _, c := range pairs {
			v := (c ^ mask) - 1
			digits = append(digits, '0'+v/10, '0'+v%10)
		}
		if _, ok := d.Coeff.SetString(string(digits[:nd]), 10); !ok {
			return b, d, errors.AssertionFailedf("decimal digits %q did not parse", digits[:nd])
		}
	}
	d.Negative = class == decimalNegAsc
	d.Exponent = int32(e - int64(nd))
	return r[end+1:], d, nil
}

// peekDecimalLength returns the length of the decimal at the start of b.
func peekDecimalLength(b []byte) (int, error) {
	class, inv, ok := decimalClass(b, b[0] >= decimalDescBase)
	if !ok {
		return 0, invalidf("peeking decimal length: unknown marker %#02x", b[0])
	}
	if class != decimalNegAsc && class != decimalPosAsc {
		return 1, nil
	}
	var mask byte
	if inv {
		mask = 0xff
	}
	if len(b) < 2 {
		return 0, invalidf("peeking decimal length: truncated")
	}
	m := b[1] ^ mask
	if m < intMin || m > intMax {
		return 0, invalidf("peeking decimal length: unexpected exponent prefix %#02x", m)
	}
	n := 2 + varintPayloadLen(m)
	if len(b) < n {
		return 0, invalidf("peeking decimal length: need %d bytes, have %d", n, len(b))
	}
	end := bytes.IndexByte(b[n:], decimalTerm^mask)
	if end < 0 {
		return 0, invalidf("peeking decimal length: no terminator")
	}
	return n + end + 1, nil
}
