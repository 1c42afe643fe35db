package encoding

import "time"

const nanosPerSecond = 1e9

// EncodeTimeAscending appends t as its Unix seconds (varint) and the
// nanoseconds within that second (uvarint), in time order. The location and
// monotonic reading are not encoded.
func EncodeTimeAscending(b []byte, t time.Time) []byte {
	b = EncodeVarintAscending(append(b, timeAsc), t.Unix())
	return EncodeUvarintAscending(b, uint64(t.Nanosecond()))
}

// EncodeTimeDescending appends t so that later instants sort first.
func EncodeTimeDescending(b []byte, t time.Time) []byte {
	start := len(b)
	b = EncodeTimeAscending(b, t)
	b[start] = timeDesc
	invert(b[start+1:])
	return b
}

// DecodeTimeAscending decodes a value written by EncodeTimeAscending. The
// result is in UTC.
func DecodeTimeAscending(b []byte) (rest []byte, t time.Time, err error) {
	return decodeTime(b, false)
}

// DecodeTimeDescending decodes a value written by EncodeTimeDescending. The
// result is in UTC.
func DecodeTimeDescending(b []byte) (rest []byte, t time.Time, err error) {
	return decodeTime(b, true)
}

func decodeTime(b []byte, desc bool) ([]byte, time.Time, error) {
	what, marker := "time", byte(timeAsc)
	if desc {
		what, marker = "time descending", timeDesc
	}
	if len(b) == 0 {
		return b, time.Time{}, errEmpty(what)
	}
	if b[0] != marker {
		return b, time.Time{}, errMarker(what, b)
	}
	r := b[1:]
	var tmp [maxVarint]byte
	p := r
	if desc {
		p = invertedPrefix(tmp[:], r)
	}
	pr, sec, err := DecodeVarintAscending(p)
	if err != nil {
		return b, time.Time{}, err
	}
	r = r[consumed(p, pr):]
	p = r
	if desc {
		p = invertedPrefix(tmp[:], r)
	}
	pr, nsec, err := DecodeUvarintAscending(p)
	if err != nil {
		return b, time.Time{}, err
	}
	if nsec >= nanosPerSecond {
		return b, time.Time{}, invalidf("decoding %s: %d nanoseconds is not below one second", what, nsec)
	}
	return r[consumed(p, pr):], time.Unix(sec, int64(nsec)).UTC(), nil
}

// peekTimeLength returns the length of the time value at the start of b.
func peekTimeLength(b []byte) (int, error) {
	var mask byte
	if b[0] == timeDesc {
		mask = 0xff
	}
	n := 1
	for range 2 { // seconds, then nanoseconds
		if len(b) <= n {
			return 0, invalidf("peeking time length: truncated")
		}
		m := b[n] ^ mask
		if m < intMin || m > intMax {
			return 0, invalidf("peeking time length: unexpected varint prefix %#02x", m)
		}
		n += 1 + varintPayloadLen(m)
	}
	if len(b) < n {
		return 0, invalidf("peeking time length: need %d bytes, have %d", n, len(b))
	}
	return n, nil
}
