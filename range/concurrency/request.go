package concurrency

import (
	"time"

	"bytes"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

// Span is a key or a key range: [Key, EndKey), or the single key Key when
// EndKey is nil.
type Span struct {
	Key, EndKey []byte
}

// end returns the exclusive end of s as a key range.
func (s Span) end() []byte {
	if s.EndKey == nil {
		return append(s.Key[:len(s.Key):len(s.Key)], 0)
	}
	return s.EndKey
}

// contains reports whether key lies in s.
func (s Span) contains(key []byte) bool {
	return bytes.Compare(s.Key, key) <= 0 && bytes.Compare(key, s.end()) < 0
}

// Access is how a request touches a span's locks.
type Access int8

const (
	// Read requests wait only for locks at or below their timestamp.
	Read Access = iota
	// Write requests wait for every lock of another transaction, and for
	// writers queued ahead of them.
	Write
)

func (a Access) String() string {
	if a == Read {
		return "read"
	}
	return "write"
}

// LockSpan is one span a request touches, with its access.
type LockSpan struct {
	Span
	Access Access
}

// Request is what the manager needs to know of a KV request to sequence
// it. The manager keeps Spans (not a copy) until FinishReq: do not modify
// them meanwhile.
type Request struct {
	// Txn is the request's transaction; nil for a non-transactional
	// request, which never holds locks and cannot be pushed.
	Txn *kvpb.TxnMeta
	// Timestamp is where the request reads (a transaction's read
	// timestamp). Reads below a lock's timestamp do not wait for it.
	Timestamp hlc.Timestamp
	// UncertaintyLimit, if set, is the reader's global uncertainty limit,
	// when Timestamp is a lower one (its local limit on this node). A lock
	// above Timestamp that evaluation found in the read's way (an intent
	// in the uncertainty interval after all: written here before the
	// reader began, and moved up since) is pushed above this limit.
	UncertaintyLimit hlc.Timestamp
	// Spans are the keys the request touches; the lock table is scanned in
	// this order.
	Spans []LockSpan
	// LatchSpans, if set, are the latches the manager takes for the
	// request instead of ones derived from Spans: a replica latches more
	// than the keys whose locks matter (transaction records, whole spans
	// of resolutions) and knows best which.
	LatchSpans []spanlatch.LatchSpan
	// LockTimeout bounds each wait for another transaction's lock (SQL's
	// lock_timeout); NoWait forbids waiting for a live holder at all
	// (FOR UPDATE NOWAIT). Either ends the wait with a
	// kvpb.LockNotAvailableError. Zero values wait as long as needed. A
	// holder that expired or finished is still pushed and cleaned up: only
	// a live one is waited for.
	LockTimeout time.Duration
	NoWait      bool
}

// writes reports whether the request writes key.
func (r *Request) writes(key []byte) bool {
	for _, s := range r.Spans {
		if s.Access == Write && s.contains(key) {
			return true
		}
	}
	return false
}

// LockUpdate is the resolution of a transaction's locks over a span: the
// transaction committed or aborted (locks released), or was pushed to a
// higher timestamp (locks move there).
type LockUpdate struct {
	Span
	Txn    kvpb.TxnMeta
	Status kvpb.TxnStatus
	// IgnoredSeqNums are the writes the transaction rolled back (savepoints):
	// a commit must not keep them.
	IgnoredSeqNums []kvpb.SeqNumRange
}
