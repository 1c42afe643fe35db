package kvpb

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/cockroachdb/errors"
)

// ValueType tags what a value's payload holds.
type ValueType byte

const (
	// ValueTypeTombstone marks a deletion: a version with no value.
	ValueTypeTombstone ValueType = 1
	// ValueTypeBytes holds opaque bytes.
	ValueTypeBytes ValueType = 2
	// ValueTypeInt holds a signed 64-bit integer (8 bytes, big endian), the
	// type Increment reads and writes.
	ValueTypeInt ValueType = 3
)

// String names the type.
func (t ValueType) String() string {
	switch t {
	case ValueTypeTombstone:
		return "tombstone"
	case ValueTypeBytes:
		return "bytes"
	case ValueTypeInt:
		return "int"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// Value is a typed value: what MVCC operations read and write.
type Value struct {
	Type ValueType
	// RawBytes is the payload. For ValueTypeInt it is 8 bytes, big endian.
	RawBytes []byte
}

// MakeBytesValue returns a bytes value.
func MakeBytesValue(b []byte) Value { return Value{Type: ValueTypeBytes, RawBytes: b} }

// MakeIntValue returns an integer value.
func MakeIntValue(i int64) Value {
	return Value{Type: ValueTypeInt, RawBytes: binary.BigEndian.AppendUint64(nil, uint64(i))}
}

// TombstoneValue is the value of a deletion.
var TombstoneValue = Value{Type: ValueTypeTombstone}

// IsTombstone reports whether v marks a deletion.
func (v Value) IsTombstone() bool { return v.Type == ValueTypeTombstone }

// GetInt returns the integer of an int value.
func (v Value) GetInt() (int64, error) {
	if v.Type != ValueTypeInt || len(v.RawBytes) != 8 {
		return 0, errors.Newf("kv: value of type %s is not an integer", v.Type)
	}
	return int64(binary.BigEndian.Uint64(v.RawBytes)), nil
}

// Equal reports whether v and o hold the same typed value.
func (v Value) Equal(o Value) bool {
	return v.Type == o.Type && string(v.RawBytes) == string(o.RawBytes)
}

// String formats v for errors and test output.
func (v Value) String() string {
	switch v.Type {
	case ValueTypeTombstone:
		return "<tombstone>"
	case ValueTypeInt:
		if i, err := v.GetInt(); err == nil {
			return "int:" + strconv.FormatInt(i, 10)
		}
	case ValueTypeBytes:
		return fmt.Sprintf("%q", v.RawBytes)
	}
	return fmt.Sprintf("%s:%x", v.Type, v.RawBytes)
}
