package encoding

import (
	"fmt"

	"github.com/cockroachdb/errors"
)

// Markers: the first byte of each encoded value (see the package doc). The
// integer markers are the varint length prefixes defined in int.go.
const (
	nullAsc  = 0x00
	nullDesc = 0x01

	boolFalseAsc  = 0x10
	boolTrueAsc   = 0x11
	boolTrueDesc  = 0x12
	boolFalseDesc = 0x13

	floatAsc  = 0x14
	floatDesc = 0x15

	bytesAsc  = 0x16
	bytesDesc = 0x17

	timeAsc  = 0x18
	timeDesc = 0x19

	// Ascending decimal markers, one per class in ascending order.
	decimalNegInfAsc = 0x20
	decimalNegAsc    = 0x21
	decimalZeroAsc   = 0x22
	decimalPosAsc    = 0x23
	decimalPosInfAsc = 0x24
	decimalNaNAsc    = 0x25
	// Descending decimal markers mirror the ascending ones:
	// descMarker = decimalDescBase + (decimalNaNAsc - ascMarker).
	decimalDescBase   = 0x30
	decimalNaNDesc    = decimalDescBase
	decimalNegInfDesc = decimalDescBase + decimalNaNAsc - decimalNegInfAsc
)

// ErrInvalidEncoding is the cause of every error a decoder returns for
// malformed input: truncated, non-canonical, or a marker of the wrong type.
// Test for it with errors.Is.
var ErrInvalidEncoding = errors.New("invalid key encoding")

// decodeError is the error decoders return; it unwraps to
// ErrInvalidEncoding. It formats its message only when asked and records no
// stack trace, so that a failed decode stays cheap: callers probe values
// with the wrong decoder (and fuzzing does little else), and a stack trace
// would cost more than the decoding itself.
type decodeError struct {
	format string
	args   []interface{}
}

func (e *decodeError) Error() string { return fmt.Sprintf(e.format, e.args...) }

// Unwrap makes errors.Is(err, ErrInvalidEncoding) true.
func (e *decodeError) Unwrap() error { return ErrInvalidEncoding }

// invalidf returns a decodeError.
func invalidf(format string, args ...interface{}) error {
	return &decodeError{format: format, args: args}
}

// errEmpty reports a decode from an empty slice.
func errEmpty(what string) error {
	return invalidf("decoding %s: no bytes left", what)
}

// errMarker reports an unexpected first byte.
func errMarker(what string, b []byte) error {
	return invalidf("decoding %s: unexpected marker %#02x (%s)", what, b[0], PeekType(b))
}

// Type is the type of an encoded value as its marker tells it.
type Type int

// The types PeekType reports.
const (
	// Unknown is a marker no encoder writes, or an empty slice.
	Unknown Type = iota
	// Null is NULL in an ascending or descending column.
	Null
	// Int is a varint or uvarint, ascending or descending (the marker does
	// not tell which).
	Int
	// Float is a float64.
	Float
	// Decimal is an apd.Decimal.
	Decimal
	// Bytes is a byte string or a string.
	Bytes
	// Time is a time.Time.
	Time
	// Bool is a bool.
	Bool
)

// String returns the type's name.
func (t Type) String() string {
	switch t {
	case Null:
		return "NULL"
	case Int:
		return "int"
	case Float:
		return "float"
	case Decimal:
		return "decimal"
	case Bytes:
		return "bytes"
	case Time:
		return "time"
	case Bool:
		return "bool"
	default:
		return "unknown"
	}
}

// PeekType returns the type of the value at the start of b, from its marker
// alone: it does not check that the rest of the value is well formed.
func PeekType(b []byte) Type {
	if len(b) == 0 {
		return Unknown
	}
	m := b[0]
	switch {
	case m == nullAsc || m == nullDesc:
		return Null
	case m >= boolFalseAsc && m <= boolFalseDesc:
		return Bool
	case m == floatAsc || m == floatDesc:
		return Float
	case m == bytesAsc || m == bytesDesc:
		return Bytes
	case m == timeAsc || m == timeDesc:
		return Time
	case m >= decimalNegInfAsc && m <= decimalNaNAsc,
		m >= decimalNaNDesc && m <= decimalNegInfDesc:
		return Decimal
	case m >= intMin && m <= intMax:
		return Int
	default:
		return Unknown
	}
}

// PeekLength returns the length in bytes of the value at the start of b, so
// that a reader can skip it. It reads only as far as it must to find the end
// of the value and does not check the value is canonical; an error means the
// value is truncated or its marker unknown.
func PeekLength(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errEmpty("value length")
	}
	m := b[0]
	switch PeekType(b) {
	case Null, Bool:
		return 1, nil
	case Int:
		n := 1 + varintPayloadLen(m)
		if len(b) < n {
			return 0, invalidf("peeking int length: need %d bytes, have %d", n, len(b))
		}
		return n, nil
	case Float:
		if len(b) < 1+floatPayloadLen {
			return 0, invalidf("peeking float length: need %d bytes, have %d", 1+floatPayloadLen, len(b))
		}
		return 1 + floatPayloadLen, nil
	case Bytes:
		return peekBytesLength(b)
	case Time:
		return peekTimeLength(b)
	case Decimal:
		return peekDecimalLength(b)
	default:
		return 0, invalidf("peeking value length: unknown marker %#02x", m)
	}
}

// EncodeNullAscending appends NULL for an ascending column.
func EncodeNullAscending(b []byte) []byte { return append(b, nullAsc) }

// EncodeNullDescending appends NULL for a descending column. It sorts before
// every descending value, as the ascending NULL does among ascending values.
func EncodeNullDescending(b []byte) []byte { return append(b, nullDesc) }

// DecodeIfNull reports whether b starts with a NULL of either direction and,
// if it does, returns the bytes after it.
func DecodeIfNull(b []byte) (rest []byte, isNull bool) {
	if len(b) > 0 && (b[0] == nullAsc || b[0] == nullDesc) {
		return b[1:], true
	}
	return b, false
}

// EncodeBoolAscending appends v, false before true.
func EncodeBoolAscending(b []byte, v bool) []byte {
	if v {
		return append(b, boolTrueAsc)
	}
	return append(b, boolFalseAsc)
}

// EncodeBoolDescending appends v, true before false.
func EncodeBoolDescending(b []byte, v bool) []byte {
	if v {
		return append(b, boolTrueDesc)
	}
	return append(b, boolFalseDesc)
}

// DecodeBoolAscending decodes a value written by EncodeBoolAscending.
func DecodeBoolAscending(b []byte) (rest []byte, v bool, err error) {
	return decodeBool(b, boolFalseAsc, boolTrueAsc, "bool ascending")
}

// DecodeBoolDescending decodes a value written by EncodeBoolDescending.
func DecodeBoolDescending(b []byte) (rest []byte, v bool, err error) {
	return decodeBool(b, boolFalseDesc, boolTrueDesc, "bool descending")
}

func decodeBool(b []byte, falseM, trueM byte, what string) ([]byte, bool, error) {
	if len(b) == 0 {
		return b, false, errEmpty(what)
	}
	switch b[0] {
	case falseM:
		return b[1:], false, nil
	case trueM:
		return b[1:], true, nil
	default:
		return b, false, errMarker(what, b)
	}
}

// invert complements every byte of b in place.
func invert(b []byte) {
	for i := range b {
		b[i] = ^b[i]
	}
}

// invertedPrefix copies up to len(dst) bytes of b into dst complemented, so
// that a complemented fixed- or prefix-length payload can be decoded by the
// ascending decoder without allocating.
func invertedPrefix(dst, b []byte) []byte {
	n := copy(dst, b)
	invert(dst[:n])
	return dst[:n]
}

// consumed is the number of bytes of b a decoder used, given what it left.
func consumed(b, rest []byte) int { return len(b) - len(rest) }
