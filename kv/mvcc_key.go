package kv

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/errors"
	"github.com/cockroachdb/pebble/v2"
	"github.com/meridiandb/meridian/hlc"
)

// MVCCKey is a user key and, for a versioned key, the timestamp of one of
// its versions. An empty timestamp names the unversioned key, used for
// lock records and range-local metadata.
//
// Encoding, in engine order:
//
//	unversioned:  key 0x00
//	versioned:    key 0x00 wall(8, big endian) [logical(4, big endian)] len
//
// The 0x00 sentinel ends the user-key prefix, which is what Split returns
// so that Pebble's bloom filters and prefix iteration work on user keys:
// the prefix of every version of key is exactly the unversioned encoding
// of key. len is the byte length of the suffix after the sentinel, itself
// included (9 or 13); the logical component is omitted when zero, so a
// timestamp has exactly one encoding. The comparator orders the prefix
// bytewise, then the unversioned key, then versions newest first.
type MVCCKey struct {
	Key       []byte
	Timestamp hlc.Timestamp
}

const (
	mvccWallLen        = 8
	mvccWallLogicalLen = 12
	// MVCCVersionTimestampSize is the size stats charge for a version's
	// timestamp, whatever its encoding, as CockroachDB does.
	MVCCVersionTimestampSize = 12
)

// IsValue reports whether k names a version (it has a timestamp).
func (k MVCCKey) IsValue() bool { return !k.Timestamp.IsEmpty() }

// Less orders keys as the engine does.
func (k MVCCKey) Less(o MVCCKey) bool {
	if c := bytes.Compare(k.Key, o.Key); c != 0 {
		return c < 0
	}
	if !k.IsValue() {
		return o.IsValue()
	}
	if !o.IsValue() {
		return false
	}
	return o.Timestamp.Less(k.Timestamp)
}

// String formats k as key/timestamp, the form used in test output.
func (k MVCCKey) String() string {
	if !k.IsValue() {
		return fmt.Sprintf("%q", k.Key)
	}
	return fmt.Sprintf("%q/%s", k.Key, k.Timestamp)
}

// EncodedLen is the length of k's encoding.
func (k MVCCKey) EncodedLen() int {
	n := len(k.Key) + 1
	if k.Timestamp.Logical != 0 {
		n += mvccWallLogicalLen + 1
	} else if k.Timestamp.WallTime != 0 {
		n += mvccWallLen + 1
	}
	return n
}

// EncodeMVCCKey returns the encoding of k.
func EncodeMVCCKey(k MVCCKey) []byte {
	return AppendMVCCKey(make([]byte, 0, k.EncodedLen()), k)
}

// AppendMVCCKey appends the encoding of k to dst.
func AppendMVCCKey(dst []byte, k MVCCKey) []byte {
	dst = append(dst, k.Key...)
	dst = append(dst, 0)
	return appendTimestampSuffix(dst, k.Timestamp)
}

// appendTimestampSuffix appends the suffix after the sentinel.
func appendTimestampSuffix(dst []byte, ts hlc.Timestamp) []byte {
	switch {
	case ts.Logical != 0:
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts.WallTime))
		dst = binary.BigEndian.AppendUint32(dst, uint32(ts.Logical))
		return append(dst, mvccWallLogicalLen+1)
	case ts.WallTime != 0:
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts.WallTime))
		return append(dst, mvccWallLen+1)
	}
	return dst
}

// DecodeMVCCKey decodes an encoded key. The returned key aliases b. It
// returns an error, never panics, on malformed input.
func DecodeMVCCKey(b []byte) (MVCCKey, error) {
	if len(b) == 0 {
		return MVCCKey{}, errors.New("kv: empty encoded MVCC key")
	}
	n := int(b[len(b)-1])
	switch n {
	case 0:
		return MVCCKey{Key: b[: len(b)-1 : len(b)-1]}, nil
	case mvccWallLen + 1, mvccWallLogicalLen + 1:
	default:
		return MVCCKey{}, errors.Newf("kv: invalid MVCC key suffix length %d in %x", n, b)
	}
	// The suffix (n bytes) follows the sentinel.
	if len(b) < n+1 || b[len(b)-n-1] != 0 {
		return MVCCKey{}, errors.Newf("kv: malformed MVCC key %x", b)
	}
	keyEnd := len(b) - n - 1
	ts, err := decodeTimestampSuffix(b[keyEnd+1:])
	if err != nil {
		return MVCCKey{}, errors.Wrapf(err, "key %x", b)
	}
	return MVCCKey{Key: b[:keyEnd:keyEnd], Timestamp: ts}, nil
}

// decodeVersionOf decodes the encoded key b as a version of the user key
// key: same is false when b belongs to another user key. It is
// DecodeMVCCKey followed by a comparison of the user keys, without the
// work of finding the user key when b's prefix is key's.
func decodeVersionOf(b, key []byte) (ts hlc.Timestamp, same bool, err error) {
	if len(b) > len(key) && b[len(key)] == 0 && string(b[:len(key)]) == string(key) {
		switch s := b[len(key)+1:]; len(s) {
		case 0:
			return hlc.Timestamp{}, true, nil
		case mvccWallLen + 1, mvccWallLogicalLen + 1:
			if int(s[len(s)-1]) == len(s) {
				if ts, err = decodeTimestampSuffix(s); err != nil {
					return hlc.Timestamp{}, false, errors.Wrapf(err, "key %x", b)
				}
				return ts, true, nil
			}
		}
	}
	k, err := DecodeMVCCKey(b)
	if err != nil {
		return hlc.Timestamp{}, false, err
	}
	return k.Timestamp, bytes.Equal(k.Key, key), nil
}

// decodeTimestampSuffix decodes the suffix after the sentinel (timestamp
// plus length byte); it must be 9 or 13 bytes.
func decodeTimestampSuffix(s []byte) (hlc.Timestamp, error) {
	var ts hlc.Timestamp
	switch len(s) {
	case mvccWallLen + 1:
		ts.WallTime = int64(binary.BigEndian.Uint64(s))
	case mvccWallLogicalLen + 1:
		ts.WallTime = int64(binary.BigEndian.Uint64(s))
		ts.Logical = int32(binary.BigEndian.Uint32(s[8:]))
		if ts.Logical == 0 {
			return ts, errors.New("kv: non-canonical MVCC timestamp: zero logical encoded")
		}
	default:
		return ts, errors.Newf("kv: invalid MVCC timestamp length %d", len(s))
	}
	if ts.WallTime < 0 || ts.Logical < 0 || ts.IsEmpty() {
		return ts, errors.Newf("kv: invalid MVCC timestamp %s", ts)
	}
	return ts, nil
}

// mvccSplit returns the length of the user-key prefix of an encoded key,
// sentinel included. It accepts any bytes: Pebble may call it on keys it
// synthesised itself.
func mvccSplit(k []byte) int {
	if len(k) == 0 {
		return 0
	}
	n := int(k[len(k)-1])
	if n > len(k) {
		return len(k)
	}
	return len(k) - n
}

// mvccCompare orders encoded keys: prefix bytewise, then the empty suffix,
// then suffixes by descending timestamp. Because the logical component is
// omitted when zero, comparing the suffix bytes (without the length byte)
// in reverse orders timestamps descending.
func mvccCompare(a, b []byte) int {
	ap, bp := mvccSplit(a), mvccSplit(b)
	if c := bytes.Compare(a[:ap], b[:bp]); c != 0 {
		return c
	}
	return mvccCompareSuffixes(a[ap:], b[bp:])
}

// mvccCompareSuffixes returns -1, 0 or +1 and nothing else, as Pebble's
// Compare contract says: its columnar blocks switch on +1 exactly (a
// binary search over range-deletion boundaries took any other positive
// value for "less", and an iterator positioning over a flushed range
// tombstone then never ended).
func mvccCompareSuffixes(a, b []byte) int {
	if len(a) == 0 || len(b) == 0 {
		return cmp.Compare(len(a), len(b))
	}
	return bytes.Compare(b[:len(b)-1], a[:len(a)-1])
}

// mvccComparer is the engine's Pebble comparer. Its name is persisted in
// the store; changing the ordering requires a new name.
var mvccComparer = &pebble.Comparer{
	Compare:              mvccCompare,
	Equal:                func(a, b []byte) bool { return bytes.Equal(a, b) },
	ComparePointSuffixes: mvccCompareSuffixes,
	CompareRangeSuffixes: mvccCompareSuffixes,
	Split:                mvccSplit,
	AbbreviatedKey: func(k []byte) uint64 {
		return pebble.DefaultComparer.AbbreviatedKey(k[:mvccSplit(k)])
	},
	FormatKey: func(k []byte) fmt.Formatter {
		if mk, err := DecodeMVCCKey(k); err == nil {
			return fmtString(mk.String())
		}
		return fmtString(fmt.Sprintf("%x", k))
	},
	Separator: func(dst, a, b []byte) []byte {
		// Shortening keys only saves index space; copying a is always
		// correct and keeps every separator a valid encoded key.
		return append(dst, a...)
	},
	Successor: func(dst, a []byte) []byte {
		if len(a) == 0 {
			return append(dst, 0) // the unversioned empty key
		}
		return append(dst, a...)
	},
	ImmediateSuccessor: func(dst, a []byte) []byte {
		// a is a bare prefix "key 0x00"; the next prefix is "key 0x00 0x00",
		// the unversioned encoding of key+0x00.
		return append(append(dst, a...), 0)
	},
	Name: "meridian.mvcc.v1",
}

type fmtString string

func (s fmtString) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s)) }
