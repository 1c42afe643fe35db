package encoding

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Varints. The first byte (the prefix, intMin..intMax) orders the value's
// range and says how many big-endian bytes follow:
//
//	0x80..0x87  negative, 8..1 bytes follow: the low bytes of v's two's
//	            complement (1 byte covers -256..-1, 2 bytes -65536..-257, …)
//	0x88..0xf5  0..109, the value is prefix-0x88 and nothing follows
//	0xf6..0xfd  110 and up, 1..8 bytes follow
//
// More bytes means a value further from zero, so the prefix orders values of
// different lengths and the bytes order values of equal length. Each value has
// exactly one encoding: it uses the fewest bytes, and decoders reject any
// other.
//
// A descending uvarint uses 0x80..0x88: 0x88 is zero, and 0x88-n is followed
// by the n bytes of ^v for a v that needs n bytes. A descending varint is the
// ascending varint of ^v.
const (
	intMin      = 0x80
	intMaxWidth = 8
	intZero     = intMin + intMaxWidth             // 0x88
	intMax      = 0xfd                             // last prefix
	intSmall    = intMax - intZero - intMaxWidth   // 109, largest one-byte value
	intPosBase  = intMax - intMaxWidth             // 0xf5: prefix of an n-byte positive is intPosBase+n
	maxVarint   = 1 + intMaxWidth                  // longest varint in bytes
	_           = uint(intSmall - 100)             // compile-time check: intSmall >= 100
	_           = uint(0xff - intMax - 2)          // compile-time check: 0xfe and 0xff stay free
	_           = uint(intMin - decimalNegInfDesc) // compile-time check: markers do not overlap
	_           = uint(decimalNegInfDesc - 0x35)
)

// byteLen is the number of bytes needed to hold v (0 for 0).
func byteLen(v uint64) int { return (bits.Len64(v) + 7) / 8 }

// appendBigEndian appends the low n bytes of v, most significant first.
func appendBigEndian(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// readBigEndian reads n (1..8) bytes as an unsigned integer.
func readBigEndian(b []byte, n int) uint64 {
	var v uint64
	for _, c := range b[:n] {
		v = v<<8 | uint64(c)
	}
	return v
}

// varintPayloadLen is the number of bytes after a varint prefix m, for any
// prefix in intMin..intMax, ascending or descending.
func varintPayloadLen(m byte) int {
	switch {
	case m < intZero:
		return int(intZero - m)
	case m <= intZero+intSmall:
		return 0
	default:
		return int(m - intPosBase)
	}
}

// EncodeUvarintAscending appends v as an ascending varint: 1 byte for values
// up to 109, else 1 + the bytes v needs.
func EncodeUvarintAscending(b []byte, v uint64) []byte {
	if v <= intSmall {
		return append(b, intZero+byte(v))
	}
	n := byteLen(v)
	return appendBigEndian(append(b, intPosBase+byte(n)), v, n)
}

// DecodeUvarintAscending decodes a value written by EncodeUvarintAscending
// (or a non-negative EncodeVarintAscending).
func DecodeUvarintAscending(b []byte) (rest []byte, v uint64, err error) {
	if len(b) == 0 {
		return b, 0, errEmpty("uvarint")
	}
	m := b[0]
	switch {
	case m >= intZero && m <= intZero+intSmall:
		return b[1:], uint64(m - intZero), nil
	case m > intZero+intSmall && m <= intMax:
		n := int(m - intPosBase)
		if len(b) < 1+n {
			return b, 0, invalidf("decoding uvarint: need %d bytes, have %d", 1+n, len(b))
		}
		v = readBigEndian(b[1:], n)
		if (n == 1 && v <= intSmall) || (n > 1 && b[1] == 0) {
			return b, 0, invalidf("decoding uvarint: non-minimal %d-byte encoding of %d", n, v)
		}
		return b[1+n:], v, nil
	case m >= intMin && m < intZero:
		return b, 0, invalidf("decoding uvarint: negative varint prefix %#02x", m)
	default:
		return b, 0, errMarker("uvarint", b)
	}
}

// EncodeUvarintDescending appends v so that larger values sort first.
func EncodeUvarintDescending(b []byte, v uint64) []byte {
	if v == 0 {
		return append(b, intZero)
	}
	n := byteLen(v)
	return appendBigEndian(append(b, intZero-byte(n)), ^v, n)
}

// DecodeUvarintDescending decodes a value written by EncodeUvarintDescending.
func DecodeUvarintDescending(b []byte) (rest []byte, v uint64, err error) {
	if len(b) == 0 {
		return b, 0, errEmpty("uvarint descending")
	}
	m := b[0]
	if m < intMin || m > intZero {
		if m > intZero && m <= intMax {
			return b, 0, invalidf("decoding uvarint descending: prefix %#02x is not descending", m)
		}
		return b, 0, errMarker("uvarint descending", b)
	}
	n := int(intZero - m)
	if n == 0 {
		return b[1:], 0, nil
	}
	if len(b) < 1+n {
		return b, 0, invalidf("decoding uvarint descending: need %d bytes, have %d", 1+n, len(b))
	}
	if b[1] == 0xff {
		return b, 0, invalidf("decoding uvarint descending: non-minimal %d-byte encoding", n)
	}
	v = ^readBigEndian(b[1:], n)
	if n < 8 {
		v &= 1<<(8*uint(n)) - 1
	}
	return b[1+n:], v, nil
}

// EncodeVarintAscending appends v as an ascending varint: 1 byte for 0..109,
// else 1 + the bytes the value needs.
func EncodeVarintAscending(b []byte, v int64) []byte {
	if v >= 0 {
		return EncodeUvarintAscending(b, uint64(v))
	}
	// v >= -(1 << 8n) exactly when ^v < 1 << 8n.
	n := max(byteLen(uint64(^v)), 1)
	return appendBigEndian(append(b, intZero-byte(n)), uint64(v), n)
}

// DecodeVarintAscending decodes a value written by EncodeVarintAscending.
func DecodeVarintAscending(b []byte) (rest []byte, v int64, err error) {
	if len(b) == 0 {
		return b, 0, errEmpty("varint")
	}
	m := b[0]
	if m >= intZero {
		rest, u, err := DecodeUvarintAscending(b)
		if err != nil {
			return b, 0, err
		}
		if u > math.MaxInt64 {
			return b, 0, invalidf("decoding varint: %d overflows int64", u)
		}
		return rest, int64(u), nil
	}
	if m < intMin {
		return b, 0, errMarker("varint", b)
	}
	n := int(intZero - m)
	if len(b) < 1+n {
		return b, 0, invalidf("decoding varint: need %d bytes, have %d", 1+n, len(b))
	}
	u := readBigEndian(b[1:], n)
	if n < 8 {
		u |= ^uint64(0) << (8 * uint(n)) // sign-extend
	} else if u < 1<<63 {
		return b, 0, invalidf("decoding varint: negative prefix with non-negative value %d", u)
	}
	if n > 1 && b[1] == 0xff {
		return b, 0, invalidf("decoding varint: non-minimal %d-byte encoding of %d", n, int64(u))
	}
	return b[1+n:], int64(u), nil
}

// EncodeVarintDescending appends v so that larger values sort first.
func EncodeVarintDescending(b []byte, v int64) []byte {
	return EncodeVarintAscending(b, ^v)
}

// DecodeVarintDescending decodes a value written by EncodeVarintDescending.
func DecodeVarintDescending(b []byte) (rest []byte, v int64, err error) {
	rest, v, err = DecodeVarintAscending(b)
	if err != nil {
		return b, 0, err
	}
	return rest, ^v, nil
}

// Fixed-width integers carry no marker: they are for places where the type
// and width are known, such as suffixes of internal keys.

// EncodeUint32Ascending appends v as 4 big-endian bytes.
func EncodeUint32Ascending(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// EncodeUint32Descending appends ^v as 4 big-endian bytes.
func EncodeUint32Descending(b []byte, v uint32) []byte { return EncodeUint32Ascending(b, ^v) }

// EncodeUint64Ascending appends v as 8 big-endian bytes.
func EncodeUint64Ascending(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// EncodeUint64Descending appends ^v as 8 big-endian bytes.
func EncodeUint64Descending(b []byte, v uint64) []byte { return EncodeUint64Ascending(b, ^v) }

// DecodeUint32Ascending decodes a value written by EncodeUint32Ascending.
func DecodeUint32Ascending(b []byte) (rest []byte, v uint32, err error) {
	if len(b) < 4 {
		return b, 0, invalidf("decoding uint32: need 4 bytes, have %d", len(b))
	}
	return b[4:], binary.BigEndian.Uint32(b), nil
}

// DecodeUint32Descending decodes a value written by EncodeUint32Descending.
func DecodeUint32Descending(b []byte) (rest []byte, v uint32, err error) {
	rest, v, err = DecodeUint32Ascending(b)
	return rest, ^v, err
}

// DecodeUint64Ascending decodes a value written by EncodeUint64Ascending.
func DecodeUint64Ascending(b []byte) (rest []byte, v uint64, err error) {
	if len(b) < 8 {
		return b, 0, invalidf("decoding uint64: need 8 bytes, have %d", len(b))
	}
	return b[8:], binary.BigEndian.Uint64(b), nil
}

// DecodeUint64Descending decodes a value written by EncodeUint64Descending.
func DecodeUint64Descending(b []byte) (rest []byte, v uint64, err error) {
	rest, v, err = DecodeUint64Ascending(b)
	return rest, ^v, err
}
