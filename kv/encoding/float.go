package encoding

import (
	"encoding/binary"
	"math"
)

const (
	floatPayloadLen = 8
	signBit         = 1 << 63
	// canonicalNaN is the bit pattern of math.NaN(), the only NaN encoded.
	canonicalNaN = 0x7ff8000000000001
	// negZeroKey is what -0 would encode to; it is never written.
	negZeroKey = ^uint64(signBit)
)

// floatKey maps f to an unsigned integer with the same order as PostgreSQL's
// float8: non-negative floats get the sign bit set (so they sort above all
// negatives, in the order of their bits), negative floats are complemented
// (so larger magnitudes sort lower). -0 maps as +0 and every NaN as the
// canonical one, which sorts above +Inf.
func floatKey(f float64) uint64 {
	switch {
	case f == 0:
		return signBit
	case f != f:
		return canonicalNaN | signBit
	}
	u := math.Float64bits(f)
	if u&signBit != 0 {
		return ^u
	}
	return u | signBit
}

// floatFromKey inverts floatKey, rejecting keys floatKey never returns.
func floatFromKey(k uint64) (float64, error) {
	var u uint64
	if k&signBit != 0 {
		u = k &^ signBit
	} else {
		if k == negZeroKey {
			return 0, invalidf("decoding float: -0 is encoded as +0")
		}
		u = ^k
	}
	f := math.Float64frombits(u)
	if f != f && u != canonicalNaN {
		return 0, invalidf("decoding float: non-canonical NaN %#016x", u)
	}
	return f, nil
}

// EncodeFloatAscending appends f in PostgreSQL's float8 order: -Inf,
// negatives, zero, positives, +Inf, NaN.
func EncodeFloatAscending(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, floatAsc), floatKey(f))
}

// EncodeFloatDescending appends f in the reverse of EncodeFloatAscending's
// order: NaN first.
func EncodeFloatDescending(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, floatDesc), ^floatKey(f))
}

// DecodeFloatAscending decodes a value written by EncodeFloatAscending. -0
// decodes as +0.
func DecodeFloatAscending(b []byte) (rest []byte, f float64, err error) {
	return decodeFloat(b, floatAsc, 0, "float")
}

// DecodeFloatDescending decodes a value written by EncodeFloatDescending.
func DecodeFloatDescending(b []byte) (rest []byte, f float64, err error) {
	return decodeFloat(b, floatDesc, ^uint64(0), "float descending")
}

func decodeFloat(b []byte, marker byte, mask uint64, what string) ([]byte, float64, error) {
	if len(b) == 0 {
		return b, 0, errEmpty(what)
	}
	if b[0] != marker {
		return b, 0, errMarker(what, b)
	}
	if len(b) < 1+floatPayloadLen {
		return b, 0, invalidf("decoding %s: need %d bytes, have %d", what, 1+floatPayloadLen, len(b))
	}
	f, err := floatFromKey(binary.BigEndian.Uint64(b[1:]) ^ mask)
	if err != nil {
		return b, 0, err
	}
	return b[1+floatPayloadLen:], f, nil
}

// EncodeFloatValue appends f for a stored value: EncodeFloatAscending's
// encoding, except that -0 keeps its sign (PostgreSQL stores and prints
// -0), in the one payload EncodeFloatAscending never writes. Keys do
// not tell -0 from +0, which are equal.
func EncodeFloatValue(b []byte, f float64) []byte {
	if f == 0 && math.Signbit(f) {
		return binary.BigEndian.AppendUint64(append(b, floatAsc), negZeroKey)
	}
	return EncodeFloatAscending(b, f)
}

// DecodeFloatValue decodes a value written by EncodeFloatValue (or by
// EncodeFloatAscending).
func DecodeFloatValue(b []byte) (rest []byte, f float64, err error) {
	if len(b) >= 1+floatPayloadLen && b[0] == floatAsc && binary.BigEndian.Uint64(b[1:]) == negZeroKey {
		return b[1+floatPayloadLen:], math.Copysign(0, -1), nil
	}
	return DecodeFloatAscending(b)
}
