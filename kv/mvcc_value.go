package kv

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// Stored value layout:
//
//	checksum(4, big endian) type(1) payload
//	checksum(4, big endian) type|0x80(1) local timestamp(8+4) payload
//
// The checksum is CRC-32C over the user key and everything after the
// checksum, so a value that is corrupted, truncated or attached to the
// wrong key is detected on read. The type byte doubles as the format
// version: an unknown type is an error. The second form is a version
// written here with a timestamp above the clock of the time (an intent a
// push moved up, committed there): the local timestamp is that clock, at
// or below the version's timestamp, which a reader's uncertainty check
// needs (see Uncertainty). Without it the local timestamp is the
// version's own.
const (
	valueHeaderLen   = 5
	valueLocalTsFlag = 0x80
	valueLocalTsLen  = 12
	valueTypeMask    = 0x7f
	localTsHeaderLen = valueHeaderLen + valueLocalTsLen
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodedValueLen is the stored length of v.
func encodedValueLen(v Value) int { return valueHeaderLen + len(v.RawBytes) }

// appendValue appends the stored form of v, checksummed for key.
func appendValue(dst []byte, key []byte, v Value) []byte {
	return appendValueLocal(dst, key, v, hlc.Timestamp{})
}

// appendValueLocal appends the stored form of v with local timestamp
// localTs (none if empty), checksummed for key.
func appendValueLocal(dst []byte, key []byte, v Value, localTs hlc.Timestamp) []byte {
	start := len(dst)
	if localTs.IsEmpty() {
		dst = append(dst, 0, 0, 0, 0, byte(v.Type))
	} else {
		dst = append(dst, 0, 0, 0, 0, byte(v.Type)|valueLocalTsFlag)
		dst = appendTS(dst, localTs)
	}
	dst = append(dst, v.RawBytes...)
	binary.BigEndian.PutUint32(dst[start:], valueChecksum(key, dst[start+4:]))
	return dst
}

func valueChecksum(key, typeAndPayload []byte) uint32 {
	c := crc32.Update(0, castagnoli, key)
	return crc32.Update(c, castagnoli, typeAndPayload)
}

// ChecksumError reports a stored value that fails its checksum or cannot
// be decoded. It names the key, so the damage can be located.
type ChecksumError struct {
	Key    MVCCKey
	Reason string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("kv: corrupt value at key %s: %s", e.Key, e.Reason)
}

// decodeValue decodes a stored value for key, verifying its checksum. The
// returned value aliases b; an error holds a copy of key.
func decodeValue(key MVCCKey, b []byte) (Value, error) {
	if len(b) < valueHeaderLen {
		return Value{}, newChecksumError(key, fmt.Sprintf("value too short (%d bytes)", len(b)))
	}
	if want, got := binary.BigEndian.Uint32(b), valueChecksum(key.Key, b[4:]); want != got {
		return Value{}, newChecksumError(key, fmt.Sprintf("checksum mismatch: stored %08x, computed %08x", want, got))
	}
	v, err := DecodeValueUnchecked(b)
	if err != nil {
		return Value{}, newChecksumError(key, err.Error())
	}
	return v, nil
}

// newChecksumError returns a ChecksumError for key, copying it: callers
// pass keys that alias iterator memory or reused buffers.
func newChecksumError(key MVCCKey, reason string) *ChecksumError {
	key.Key = append([]byte(nil), key.Key...)
	return &ChecksumError{Key: key, Reason: reason}
}

// DecodeValueUnchecked decodes a stored value without verifying its
// checksum (which needs the key): for tools and fuzzing. It returns an
// error, never panics, on malformed input.
func DecodeValueUnchecked(b []byte) (Value, error) {
	if len(b) < valueHeaderLen {
		return Value{}, errors.Newf("kv: stored value too short (%d bytes)", len(b))
	}
	v := Value{Type: ValueType(b[4]), RawBytes: b[valueHeaderLen:]}
	if b[4]&valueLocalTsFlag != 0 {
		if len(b) < localTsHeaderLen {
			return Value{}, errors.Newf("kv: stored value with a local timestamp too short (%d bytes)", len(b))
		}
		v = Value{Type: ValueType(b[4] & valueTypeMask), RawBytes: b[localTsHeaderLen:]}
		if lts := decodeTS(b[valueHeaderLen:localTsHeaderLen]); lts.IsEmpty() || lts.WallTime < 0 || lts.Logical < 0 {
			return Value{}, errors.Newf("kv: stored value with an invalid local timestamp %s", lts)
		}
	}
	switch v.Type {
	case ValueTypeTombstone:
		if len(v.RawBytes) != 0 {
			return Value{}, errors.New("kv: tombstone with a payload")
		}
		v.RawBytes = nil
	case ValueTypeBytes:
	case ValueTypeInt:
		if len(v.RawBytes) != 8 {
			return Value{}, errors.Newf("kv: int value of %d bytes", len(v.RawBytes))
		}
	default:
		return Value{}, errors.Newf("kv: unknown value type %d", b[4])
	}
	return v, nil
}

func decodeTS(b []byte) hlc.Timestamp {
	return hlc.Timestamp{WallTime: int64(binary.BigEndian.Uint64(b)), Logical: int32(binary.BigEndian.Uint32(b[8:]))}
}

// storedLocalTimestamp returns the local timestamp of the stored version
// raw at key (see Uncertainty), verifying it as decodeValue does.
func storedLocalTimestamp(key MVCCKey, raw []byte) (hlc.Timestamp, error) {
	if _, err := decodeValue(key, raw); err != nil {
		return hlc.Timestamp{}, err
	}
	if raw[4]&valueLocalTsFlag == 0 {
		return key.Timestamp, nil
	}
	return decodeTS(raw[valueHeaderLen:localTsHeaderLen]), nil
}

// valueIsTombstone reads the type of a stored value without checking it;
// callers that act on the answer decode the value properly first or treat
// a malformed value as live.
func valueIsTombstone(b []byte) bool {
	return len(b) >= valueHeaderLen && ValueType(b[4]&valueTypeMask) == ValueTypeTombstone
}
