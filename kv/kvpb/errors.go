package kvpb

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// The MVCC layer's typed errors. Callers check them with errors.As; the
// layers above turn them into waits (LockConflictError), retries at a higher
// timestamp (WriteTooOldError, ReadWithinUncertaintyIntervalError) or
// results (ConditionFailedError).

// Lock is one lock held on a key by a transaction.
type Lock struct {
	Key []byte
	Txn TxnMeta
}

// LockNotAvailableError: a request was told not to wait for another
// transaction's lock (NoWait: SELECT … FOR UPDATE NOWAIT), or not longer
// than its lock timeout (SQL's lock_timeout), and the lock was still held.
// Nothing the request would have done was done.
type LockNotAvailableError struct {
	Lock
	// NoWait: the request waited not at all; else its lock timeout passed.
	NoWait bool
}

func (e *LockNotAvailableError) Error() string {
	if e.NoWait {
		return fmt.Sprintf("could not obtain the lock on %q held by txn %s without waiting", e.Key, e.Txn.ID.Short())
	}
	return fmt.Sprintf("the lock on %q held by txn %s was not released within the lock timeout", e.Key, e.Txn.ID.Short())
}

// BatchTimestampBeforeGCError: a request would read or write at Timestamp,
// at or below the range's GC threshold: versions it would need may have
// been garbage collected (see MVCCGarbageCollect). Nothing was done.
type BatchTimestampBeforeGCError struct {
	Timestamp, Threshold hlc.Timestamp
}

func (e *BatchTimestampBeforeGCError) Error() string {
	return fmt.Sprintf("batch timestamp %s must be after the range's GC threshold %s", e.Timestamp, e.Threshold)
}

// LockConflictError reports locks (intents) of other transactions that a
// request ran into. The request may wait for or push the named
// transactions and retry.
type LockConflictError struct {
	Locks []Lock
}

func (e *LockConflictError) Error() string {
	var b strings.Builder
	b.WriteString("conflicting locks on ")
	for i, l := range e.Locks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q held by txn %s", l.Key, l.Txn.ID.Short())
	}
	return b.String()
}

// WriteTooOldError reports a write at Timestamp to a key that already has a
// committed version at or above it. A retry must write at or above
// ActualTimestamp.
type WriteTooOldError struct {
	Key             []byte
	Timestamp       hlc.Timestamp
	ActualTimestamp hlc.Timestamp
}

func (e *WriteTooOldError) Error() string {
	return fmt.Sprintf("WriteTooOldError: write for key %q at timestamp %s too old; must write at or above %s",
		e.Key, e.Timestamp, e.ActualTimestamp)
}

// ReadNotFreshError reports a transaction's write that depends on the
// key's value (MVCCWriteOptions.FreshRead) finding a committed version
// newer than its read timestamp. The transaction must move its reads to
// ActualTimestamp, or restart, before it writes again.
type ReadNotFreshError struct {
	Key             []byte
	ReadTimestamp   hlc.Timestamp
	ActualTimestamp hlc.Timestamp
}

func (e *ReadNotFreshError) Error() string {
	return fmt.Sprintf("ReadNotFreshError: key %q has a value newer than the read timestamp %s; must read at or above %s",
		e.Key, e.ReadTimestamp, e.ActualTimestamp)
}

// ReadWithinUncertaintyIntervalError reports a committed value above the
// read timestamp that the reader cannot order before itself: its timestamp
// lies in (ReadTimestamp, the reader's uncertainty limit]. The reader must
// retry above ValueTimestamp.
type ReadWithinUncertaintyIntervalError struct {
	Key                    []byte
	ReadTimestamp          hlc.Timestamp
	ValueTimestamp         hlc.Timestamp
	GlobalUncertaintyLimit hlc.Timestamp
	LocalUncertaintyLimit  hlc.Timestamp
}

func (e *ReadWithinUncertaintyIntervalError) Error() string {
	return fmt.Sprintf("ReadWithinUncertaintyIntervalError: read at time %s encountered previous write with future timestamp %s on key %q within uncertainty interval `t <= (local=%s, global=%s)`",
		e.ReadTimestamp, e.ValueTimestamp, e.Key, e.LocalUncertaintyLimit, e.GlobalUncertaintyLimit)
}

// RetryTimestamp is the lowest timestamp at which a retried read no
// longer finds the value uncertain.
func (e *ReadWithinUncertaintyIntervalError) RetryTimestamp() hlc.Timestamp {
	return e.ValueTimestamp.Next()
}

// ConditionFailedError reports a ConditionalPut or InitPut whose condition
// did not hold. ActualValue is the value found, nil if there was none.
type ConditionFailedError struct {
	Key         []byte
	ActualValue *Value
}

func (e *ConditionFailedError) Error() string {
	if e.ActualValue == nil {
		return fmt.Sprintf("unexpected value at key %q: no value", e.Key)
	}
	return fmt.Sprintf("unexpected value at key %q: %s", e.Key, e.ActualValue)
}

// ErrUnknownStoreVersion marks an attempt to open a store written in a
// format this binary does not know.
var ErrUnknownStoreVersion = errors.New("kv: unknown store format version")

// ErrSequenceRegression marks a transactional write whose sequence number
// is below the one already written for the key in the same epoch.
var ErrSequenceRegression = errors.New("kv: transaction sequence number regression")
