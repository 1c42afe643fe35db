package catalog

import (
	"bytes"

	"github.com/meridiandb/meridian/kv/encoding"
)

// leasePrefix starts the descriptor lease records (sql/lease):
// + descriptor ID + node ID → the lease's expiration.
var leasePrefix = []byte{0x04, 'l'}

// DescIDOfKey returns the descriptor ID of a descriptor's key.
func DescIDOfKey(key []byte) (uint32, bool) {
	if !bytes.HasPrefix(key, descPrefix) {
		return 0, false
	}
	_, id, err := encoding.DecodeUvarintAscending(key[len(descPrefix):])
	return uint32(id), err == nil
}

// IsSchemaKey reports whether key holds a part of the schema: a
// descriptor, a name, the descriptor ID counter, a database or a schema.
func IsSchemaKey(key []byte) bool {
	return bytes.HasPrefix(key, descPrefix) || bytes.HasPrefix(key, namespacePrefix) || bytes.Equal(key, descIDKey) ||
		bytes.HasPrefix(key, nsPrefix) || bytes.HasPrefix(key, typeNamePrefix) || bytes.HasPrefix(key, typeDescPrefix)
}

// LeaseKey is the key of node's lease record on descriptor id.
func LeaseKey(id uint32, node int32) []byte {
	k := encoding.EncodeUvarintAscending(append([]byte(nil), leasePrefix...), uint64(id))
	return encoding.EncodeUvarintAscending(k, uint64(node))
}

// LeaseSpan is the span of every lease record on descriptor id.
func LeaseSpan(id uint32) (start, end []byte) {
	start = encoding.EncodeUvarintAscending(append([]byte(nil), leasePrefix...), uint64(id))
	return start, PrefixEnd(start)
}

// LeaseNodeOfKey returns the node of a lease record's key.
func LeaseNodeOfKey(key []byte) (int32, bool) {
	if !bytes.HasPrefix(key, leasePrefix) {
		return 0, false
	}
	rest, _, err := encoding.DecodeUvarintAscending(key[len(leasePrefix):])
	if err != nil {
		return 0, false
	}
	_, node, err := encoding.DecodeUvarintAscending(rest)
	return int32(node), err == nil
}
