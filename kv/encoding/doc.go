// Package encoding turns typed values into byte strings whose bytewise order
// (bytes.Compare) is the order of the values. MVCC keys and SQL row and index
// keys are built from it: a key is the concatenation of its encoded columns,
// so comparing two keys as bytes compares their columns lexicographically,
// exactly as a sorted KV store iterates them. The model is CockroachDB's
// util/encoding; the details below are ours.
//
// # API
//
// Every Encode function appends to a slice and returns it, so a key is built
// in one buffer without allocating:
//
//	key = EncodeUvarintAscending(key, tableID)
//	key = EncodeStringAscending(key, name)
//
// Every Decode function takes the remaining key and returns what is left
// after the value, the value, and an error:
//
//	key, tableID, err = DecodeUvarintAscending(key)
//
// Each type has an Ascending and a Descending variant; a descending column
// sorts its values in reverse. A value must be decoded with the variant that
// encoded it; the markers catch a mismatch except for integers, whose
// descending form is an ascending varint of ^v. Decoders never panic on arbitrary input: a malformed value is
// reported as an error for which errors.Is(err, ErrInvalidEncoding) holds.
//
// Byte strings decode by appending to a caller's buffer, so a reused buffer
// decodes them without allocating. EncodeUint32Ascending and friends write
// fixed-width big-endian integers with no marker, for fixed key suffixes.
//
// # Markers
//
// Each value starts with a one-byte marker that names its type, its
// direction and, where it helps ordering, a class of value (NULL, the sign of
// a decimal, true or false). PeekType and PeekLength read the marker so that a
// reader can skip a column without decoding it.
//
//	0x00        NULL, ascending column
//	0x01        NULL, descending column
//	0x10..0x13  bool: false↑, true↑, true↓, false↓ (the value is the marker)
//	0x14, 0x15  float64 ↑, ↓, then 8 bytes
//	0x16, 0x17  bytes and strings ↑, ↓, escaped and terminated
//	0x18, 0x19  time ↑, ↓: varint seconds, uvarint nanoseconds
//	0x20..0x25  decimal ↑: -Inf, negative, zero, positive, +Inf, NaN
//	0x30..0x35  decimal ↓: NaN, +Inf, positive, zero, negative, -Inf
//	0x80..0xfd  integers: the marker is the varint's length prefix
//
// Integers carry no separate marker: the first byte of the variable-length
// encoding already says how many bytes follow, and small values (0 to 109)
// take that byte alone, which keeps table and index IDs at one byte each.
// 0xfe and 0xff are never the first byte of a value, so a key prefix followed
// by 0xff sorts after every key that extends the prefix with a value.
//
// # NULL ordering
//
// DESIGN.md puts NULLs first. Both NULL markers are below every value marker,
// so a NULL sorts before every non-NULL value in an ascending column and also
// in a descending one (PostgreSQL's NULLS FIRST, not its default NULLS LAST
// for DESC). The descending NULL has a marker of its own only so that a key
// can be read back unambiguously; it orders the same.
//
// # Descending values
//
// Descending integers encode the complement of the value (^v) in the same
// varint format, keeping them compact. Every other type uses its own
// descending marker followed by the bitwise complement of the ascending
// payload. Complementing reverses bytewise order only among byte strings none
// of which is a prefix of another; every payload here is self-delimiting
// (fixed width, length-prefixed or terminated), so the rule holds.
//
// # Bytes and strings
//
// A byte string may contain any byte, and a longer string must sort after its
// prefixes ("ab" < "ab\x00" < "abc"), so the value cannot simply be copied
// and followed by a separator. Each 0x00 in the value is escaped as 0x00 0xff
// and the value ends with 0x00 0x01. The terminator is smaller than every
// escaped or literal byte that could follow at the same position, so a prefix
// sorts first, and the key can continue with more columns after it. Strings
// and byte strings share the encoding.
//
// # Floats
//
// float64 values sort as PostgreSQL sorts float8: -Inf < negative < 0 <
// positive < +Inf < NaN, with all NaNs equal. The IEEE bits are mapped so
// that unsigned comparison of the 8 bytes gives that order: positive values
// get the sign bit set, negative ones are complemented. -0 equals +0 in SQL,
// so -0 is encoded as +0 and decodes as +0; every NaN is encoded as the one
// NaN that math.NaN returns. Decoding rejects the bytes that only a -0 or a
// different NaN would produce, so each value has exactly one encoding.
//
// # Decimals
//
// An apd.Decimal sorts as PostgreSQL sorts numeric: -Inf < negative < 0 <
// positive < +Inf < NaN. A finite non-zero value is written as
// 0.d1d2…dn × 10^E with d1 ≠ 0 and dn ≠ 0 (trailing zeros dropped): the
// marker gives the sign, then E as a varint, then the digits in pairs, one
// byte per pair (pair+1, so 1..100; an odd last digit is paired with 0), then
// a 0x00 terminator. For a positive value a larger E means a larger value, and
// for equal E the digit bytes compare as the mantissas do, a shorter mantissa
// first; a negative value complements E and digits to reverse that order.
//
// Values that are equal but written differently (1.0, 1.00, 10E-1) therefore
// have one encoding, and decoding returns the normalised form: the
// coefficient without trailing zeros (1.00 decodes as 1, 100 as 1E+2), +0 for
// -0, NaN for signalling or negative NaN. Compare decoded values with Cmp, not
// by their fields. A value whose normalised exponent does not fit apd's int32
// exponent (a coefficient with trailing zeros and an exponent near
// math.MaxInt32) encodes, but its encoding fails to decode.
//
// # Timestamps
//
// A time.Time is encoded as its Unix seconds (varint) and nanoseconds within
// the second (uvarint, below 1e9), so nanoseconds survive and the order is
// time order. Decoding returns the instant in UTC: the location and any
// monotonic clock reading are not part of a key; compare with Time.Equal.
// Within 2,000 years of the ends of time.Time's range (about 292 billion
// years either side of year 1) Unix seconds overflow int64 and wrap; such
// instants round-trip but do not sort in time order.
//
// # Canonical form
//
// Every decoder rejects non-minimal or non-canonical input (a varint with
// leading zero bytes, an unnormalised decimal, a NaN other than the canonical
// one). So when a decoder accepts a value, encoding the result gives back the
// same bytes: a key has one spelling, and equal keys are equal values.
package encoding
