package kv

import (
	"bytes"

	"github.com/cockroachdb/errors"
)

// The store's keyspace, in engine order (DESIGN.md §3):
//
//	0x01 'i' ...   /Local/RangeID: per-replica state (raft log, HardState, ...)
//	0x01 'k' ...   /Local/Range: range-local replicated keys (descriptors, txn records)
//	0x01 'z' 'k' + key
//	               the lock table: one lock record per locked key
//	0x02 ...       user keys (meta, system, tables) sort after every local key
//
// Local keys other than lock-table keys are unversioned (see
// MVCCPutUnversioned). The range layer builds the /Local/RangeID and
// /Local/Range keys on top of the prefixes defined here.
var (
	// LocalPrefix starts every local key.
	LocalPrefix = []byte{0x01}
	// LocalMax is the first key after the local keyspace; every user key is
	// at or above it.
	LocalMax = []byte{0x02}
	// LocalRangeIDPrefix starts the per-replica, RangeID-addressed keys.
	LocalRangeIDPrefix = []byte{0x01, 'i'}
	// LocalRangePrefix starts the range-local keys addressed by a user key.
	LocalRangePrefix = []byte{0x01, 'k'}
	// LocalLockTablePrefix starts the lock table: a lock record for key k is
	// stored, unversioned, at LocalLockTablePrefix + k.
	LocalLockTablePrefix = []byte{0x01, 'z', 'k'}
	// LocalLockTableMax is the end of the lock table keyspace.
	LocalLockTableMax = []byte{0x01, 'z', 'l'}
	// KeyMin is the smallest key.
	KeyMin = []byte{}
	// KeyMax is larger than every key the engine stores for a user.
	KeyMax = []byte{0xff, 0xff}
)

// LockTableKey returns the key of the lock record for key.
func LockTableKey(key []byte) []byte {
	out := make([]byte, 0, len(LocalLockTablePrefix)+len(key))
	return append(append(out, LocalLockTablePrefix...), key...)
}

// DecodeLockTableKey returns the key a lock-table key locks.
func DecodeLockTableKey(lk []byte) ([]byte, error) {
	if !bytes.HasPrefix(lk, LocalLockTablePrefix) {
		return nil, errors.Newf("kv: %q is not a lock table key", lk)
	}
	return lk[len(LocalLockTablePrefix):], nil
}

// IsLockTableKey reports whether key lies in the lock table keyspace.
func IsLockTableKey(key []byte) bool { return bytes.HasPrefix(key, LocalLockTablePrefix) }

// IsLocal reports whether key lies in the local keyspace.
func IsLocal(key []byte) bool { return bytes.HasPrefix(key, LocalPrefix) }

// Span is the key interval [Key, EndKey). An empty EndKey names the single
// key Key.
type Span struct {
	Key, EndKey []byte
}

// String formats the span for errors and test output.
func (s Span) String() string {
	if len(s.EndKey) == 0 {
		return string(s.Key)
	}
	return string(s.Key) + "-" + string(s.EndKey)
}

// keyNext returns the smallest key greater than key.
func keyNext(key []byte) []byte {
	out := make([]byte, len(key)+1)
	copy(out, key)
	return out
}

// lockTableSpan maps a span of keys to the span of their lock records.
func lockTableSpan(start, end []byte) (lo, hi []byte) {
	lo = LockTableKey(start)
	if len(end) == 0 {
		return lo, LocalLockTableMax
	}
	return lo, LockTableKey(end)
}
