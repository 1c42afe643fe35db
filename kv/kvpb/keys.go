package kvpb

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
	// StoreIdentKey holds, unversioned and unreplicated, the store's
	// identity (cluster, node and store IDs; server/serverpb.StoreIdent),
	// written once when its node joins a cluster.
	StoreIdentKey = []byte{0x01, 's', 'i', 'd', 'n', 't'}
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

// The addressing and system keyspace, right above the local keys (DESIGN.md
// §3):
//
//	0x02 0x01 + key   /Meta1/<key>  (reserved: one meta2 range for now)
//	0x02 0x02 + key   /Meta2/<key>: the descriptor of the range ending at key
//	0x02 0x03 ...     /System/...: the range ID and node ID generators,
//	                  node descriptors, and node liveness records
//	                  (0x02 "liveness/", see range/liveness)
//	0x03 ...          user keys (tables)
//
// In this first version [KeyMin, NoSplitMax) — the meta records and the
// range ID generator — stays in the first range: no range splits below
// NoSplitMax (see range/kvserver/replica_split.go), so the range holding
// meta2 and the range ID generator is always range 1. The system keys above
// the generator (node liveness, ...) may move to ranges of their own.
var (
	// Meta1Prefix starts the meta1 records (unused until meta2 can split).
	Meta1Prefix = []byte{0x02, 0x01}
	// Meta2Prefix starts the meta2 records: Meta2Prefix + a range's end key
	// holds that range's descriptor, so the range holding key k is the one
	// of the first record after Meta2Prefix + k.
	Meta2Prefix = []byte{0x02, 0x02}
	// Meta2Max ends the meta2 records.
	Meta2Max = []byte{0x02, 0x03}
	// MetaMax ends the addressing keyspace.
	MetaMax = Meta2Max
	// SystemPrefix starts the system keys.
	SystemPrefix = []byte{0x02, 0x03}
	// SystemMax ends the system keyspace.
	SystemMax = []byte{0x03}
	// RangeIDGeneratorKey holds the last range ID handed out (an MVCC
	// integer incremented by each split). It sorts before every other
	// system key.
	RangeIDGeneratorKey = append(append([]byte{}, SystemPrefix...), "\x00range-idgen"...)
	// NoSplitMax is the lowest key a range may be split at: right after the
	// range ID generator.
	NoSplitMax = KeyNext(RangeIDGeneratorKey)
	// NodeIDGeneratorKey holds the last node ID handed out (an MVCC
	// integer incremented by each node that joins).
	NodeIDGeneratorKey = append(append([]byte{}, SystemPrefix...), "node-idgen"...)
	// NodeDescPrefix starts the node descriptors: NodeDescPrefix + the node
	// ID as 4 big-endian bytes (server/serverpb.NodeDescriptor).
	NodeDescPrefix = append(append([]byte{}, SystemPrefix...), "nodes/"...)
)

// Meta2Key returns the key of the meta2 record of a range ending at end.
func Meta2Key(end []byte) []byte {
	out := make([]byte, 0, len(Meta2Prefix)+len(end))
	return append(append(out, Meta2Prefix...), end...)
}

// KeyNext returns the smallest key greater than key.
func KeyNext(key []byte) []byte {
	out := make([]byte, len(key)+1)
	copy(out, key)
	return out
}
