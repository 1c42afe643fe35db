// Package kvapi is what the SQL layer needs from the transaction layer:
// serializable transactions over the sorted key space. It is a leaf, so
// that every stage of the SQL pipeline (catalog, row encoding, execution)
// and the in-memory store for their tests (sql/memkv) can name it without
// importing the session package.
package kvapi

import (
	"context"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/hlc"
)

// DB is what the SQL layer needs from the transaction layer: serializable
// transactions over the sorted key space. The txn package provides it over
// the cluster; sql/memkv is an in-memory one for the SQL layer's own tests.
type DB interface {
	NewTxn(ctx context.Context) (Txn, error)
}

// Txn is one serializable transaction. An error that a retry of the whole
// transaction may cure carries SQLSTATE 40001 (sql/pgerror): implicit
// transactions are retried in the server, explicit ones return it to the
// client. Not safe for concurrent use.
type Txn interface {
	// Get returns the value at key, nil if there is none.
	Get(ctx context.Context, key []byte) ([]byte, error)
	// Scan returns the pairs in [start, end) in key order, at most limit of
	// them (0: all).
	Scan(ctx context.Context, start, end []byte, limit int64) ([]KeyValue, error)
	// GetForUpdate and ScanForUpdate are Get and Scan as locking reads,
	// the reads of an UPDATE or DELETE: they read the latest committed
	// values (the transaction's reads move up to them if need be), so that
	// the write that follows needs no refresh past a value it did not see.
	GetForUpdate(ctx context.Context, key []byte) ([]byte, error)
	ScanForUpdate(ctx context.Context, start, end []byte, limit int64) ([]KeyValue, error)
	// GetMany reads several keys at once (nil for a missing one).
	GetMany(ctx context.Context, keys [][]byte) ([][]byte, error)
	Put(ctx context.Context, key, value []byte) error
	// PutMany writes several pairs at once.
	PutMany(ctx context.Context, kvs []KeyValue) error
	Del(ctx context.Context, key []byte) error
	// DelMany deletes several keys at once.
	DelMany(ctx context.Context, keys [][]byte) error
	// DelRange deletes every key in [start, end) in one request per range
	// and returns how many there were.
	DelRange(ctx context.Context, start, end []byte) (int64, error)
	Commit(ctx context.Context) error
	// Rollback aborts the transaction; after Commit it does nothing.
	Rollback(ctx context.Context) error
	// Savepoint marks the transaction's writes so far;
	// RollbackToSavepoint undoes every write made after sp (what was read
	// stays read). A transaction that must restart (40001) cannot roll
	// back to a savepoint: it fails with that error again.
	Savepoint(ctx context.Context) (Savepoint, error)
	RollbackToSavepoint(ctx context.Context, sp Savepoint) error
}

// LockWaiter is a Txn whose waits for other transactions' locks can be
// bounded: by a timeout (lock_timeout) for all its requests from now on,
// or not at all (NoWait: FOR UPDATE NOWAIT) while set. A request that
// would wait longer fails with SQLSTATE 55P03 (lock_not_available) and
// does nothing. sql/memkv, which never waits, does not implement it.
type LockWaiter interface {
	SetLockTimeout(d time.Duration)
	SetLockNoWait(on bool)
}

// WriteFlusher is a Txn that may hold its writes back (the cluster's
// transactions send them with the first read of their keys, or with the
// commit). FlushWrites sends them now, so that they are in place, as
// locks others wait for, before the transaction reads on: what a schema
// change's claim on a descriptor needs (sql/lease). A Txn that writes at
// once (sql/memkv) does not implement it.
type WriteFlusher interface {
	FlushWrites(ctx context.Context) error
}

// AbsentInserter is a Txn that can write keys that must have no value (a
// new row's primary key) with the check done where the write lands: a
// key found taken fails with a KeyExistsError. The writes may be held
// back (WriteFlusher) and go with a later read of their keys or with the
// commit, which then fails with that error: a statement that commits
// right after uses it to save a read's round trip. A Txn without it
// (sql/memkv) reads before it writes.
type AbsentInserter interface {
	InsertAbsent(ctx context.Context, kvs []KeyValue) error
}

// KeyExistsError: an AbsentInserter's write found its key taken.
type KeyExistsError struct{ Key []byte }

func (e *KeyExistsError) Error() string { return fmt.Sprintf("key %q exists", e.Key) }

// Savepoint is a transaction's mark, opaque to the SQL layer.
type Savepoint any

// Snapshotter is a Txn whose reads can be pinned at a point in its own
// writes: Snapshot marks the writes so far, and the Txn At returns reads
// as of that mark; the transaction's writes go through the transaction
// itself, not the view. A statement reads through it so that its own
// writes do not change what it reads: PostgreSQL's command snapshot,
// which the parts of a statement with data-modifying WITH queries share.
// A Txn that wraps another forwards both, nil from Snapshot when the
// wrapped one has none.
type Snapshotter interface {
	Snapshot() Snapshot
	At(s Snapshot) Txn
}

// Snapshot is a point in a transaction's own writes, opaque to the SQL
// layer.
type Snapshot any

// Timestamped is what a cluster's Txn offers besides: its place in HLC
// time. Descriptor leases (sql/lease) need it; on a Txn without it
// (sql/memkv) every statement reads the descriptors it uses in its own
// transaction.
type Timestamped interface {
	// ReadTimestamp is the timestamp the transaction reads at; after a
	// commit, the commit timestamp.
	ReadTimestamp() hlc.Timestamp
	// UpdateDeadline makes the commit fail (40001) at or after ts.
	UpdateDeadline(ts hlc.Timestamp)
	// ForwardTimestamp moves the transaction's reads and writes up to ts
	// now; if what it read changed before ts, 40001.
	ForwardTimestamp(ctx context.Context, ts hlc.Timestamp) error
}

// HistoricalDB is a DB whose transactions can read the data as it was at
// a past timestamp (AS OF SYSTEM TIME). sql/memkv keeps no history and is
// not one.
type HistoricalDB interface {
	// NewHistoricalTxn returns a read-only transaction that reads at ts.
	NewHistoricalTxn(ctx context.Context, ts hlc.Timestamp) (Txn, error)
}

// Historical is a Txn that reads at a fixed past timestamp.
type Historical interface {
	AsOfSystemTime() hlc.Timestamp
}

// KeyValue is one pair a Scan returns.
type KeyValue struct {
	Key, Value []byte
}
