package encoding

import (
	"bytes"
	"strings"
)

// The ascending escapes. A descending value uses their complements.
const (
	escape       = 0x00 // starts an escape sequence
	escapedZero  = 0xff // escape, escapedZero is a 0x00 of the value
	escapedEnd   = 0x01 // escape, escapedEnd ends the value
	escapeDesc   = ^byte(escape)
	escapedZeroD = ^byte(escapedZero)
	escapedEndD  = ^byte(escapedEnd)
)

// EncodeBytesAscending appends v escaped and terminated (see the package
// doc), so that it sorts as bytes.Compare sorts the raw values.
func EncodeBytesAscending(b []byte, v []byte) []byte {
	b = append(b, bytesAsc)
	for {
		i := bytes.IndexByte(v, escape)
		if i < 0 {
			break
		}
		b = append(append(b, v[:i]...), escape, escapedZero)
		v = v[i+1:]
	}
	return append(append(b, v...), escape, escapedEnd)
}

// EncodeStringAscending appends s exactly as EncodeBytesAscending appends
// []byte(s), without converting it.
func EncodeStringAscending(b []byte, s string) []byte {
	b = append(b, bytesAsc)
	for {
		i := strings.IndexByte(s, escape)
		if i < 0 {
			break
		}
		b = append(append(b, s[:i]...), escape, escapedZero)
		s = s[i+1:]
	}
	return append(append(b, s...), escape, escapedEnd)
}

// EncodeBytesDescending appends v so that larger values sort first: the
// complement of the ascending payload, after its own marker.
func EncodeBytesDescending(b []byte, v []byte) []byte {
	start := len(b)
	b = EncodeBytesAscending(b, v)
	b[start] = bytesDesc
	invert(b[start+1:])
	return b
}

// EncodeStringDescending appends s exactly as EncodeBytesDescending appends
// []byte(s).
func EncodeStringDescending(b []byte, s string) []byte {
	start := len(b)
	b = EncodeStringAscending(b, s)
	b[start] = bytesDesc
	invert(b[start+1:])
	return b
}

// DecodeBytesAscending decodes a value written by EncodeBytesAscending or
// EncodeStringAscending, appending the raw value to buf and returning it:
// pass a reused buffer's buf[:0] to decode without allocating. out never
// aliases b. On error, out is buf unchanged.
func DecodeBytesAscending(b []byte, buf []byte) (rest []byte, out []byte, err error) {
	return decodeBytes(b, buf, false)
}

// DecodeBytesDescending decodes a value written by EncodeBytesDescending or
// EncodeStringDescending, appending the raw value to buf.
func DecodeBytesDescending(b []byte, buf []byte) (rest []byte, out []byte, err error) {
	return decodeBytes(b, buf, true)
}

// DecodeStringAscending decodes a value written by EncodeStringAscending or
// EncodeBytesAscending.
func DecodeStringAscending(b []byte) (rest []byte, s string, err error) {
	if len(b) > 0 && b[0] == bytesAsc {
		// Fast path: no escaped zero, so the value is one slice of b and the
		// string conversion is the only copy.
		if i := bytes.IndexByte(b[1:], escape); i >= 0 && i+2 < len(b) && b[i+2] == escapedEnd {
			return b[i+3:], string(b[1 : i+1]), nil
		}
	}
	rest, out, err := decodeBytes(b, nil, false)
	return rest, string(out), err
}

// DecodeStringDescending decodes a value written by EncodeStringDescending
// or EncodeBytesDescending.
func DecodeStringDescending(b []byte) (rest []byte, s string, err error) {
	rest, out, err := decodeBytes(b, nil, true)
	return rest, string(out), err
}

func decodeBytes(b []byte, buf []byte, desc bool) ([]byte, []byte, error) {
	what, marker, esc, zero, end := "bytes", byte(bytesAsc), byte(escape), byte(escapedZero), byte(escapedEnd)
	if desc {
		what, marker, esc, zero, end = "bytes descending", bytesDesc, escapeDesc, escapedZeroD, escapedEndD
	}
	if len(b) == 0 {
		return b, buf, errEmpty(what)
	}
	if b[0] != marker {
		return b, buf, errMarker(what, b)
	}
	orig, r := buf, b[1:]
	for {
		i := bytes.IndexByte(r, esc)
		if i < 0 || i+1 >= len(r) {
			return b, orig, invalidf("decoding %s: no terminator", what)
		}
		start := len(buf)
		buf = append(buf, r[:i]...)
		if desc {
			invert(buf[start:])
		}
		switch r[i+1] {
		case end:
			return r[i+2:], buf, nil
		case zero:
			buf = append(buf, 0)
			r = r[i+2:]
		default:
			return b, orig, invalidf("decoding %s: invalid escape %#02x %#02x", what, r[i], r[i+1])
		}
	}
}

// peekBytesLength returns the length of the bytes value at the start of b.
func peekBytesLength(b []byte) (int, error) {
	esc, end := byte(escape), byte(escapedEnd)
	if b[0] == bytesDesc {
		esc, end = escapeDesc, escapedEndD
	}
	for i := 1; ; {
		j := bytes.IndexByte(b[i:], esc)
		if j < 0 || i+j+1 >= len(b) {
			return 0, invalidf("peeking bytes length: no terminator")
		}
		i += j + 2
		if b[i-1] == end {
			return i, nil
		}
	}
}
