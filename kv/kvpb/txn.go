package kvpb

import (
	"encoding/hex"

	"github.com/meridiandb/meridian/hlc"
)

// TxnID identifies a transaction.
type TxnID [16]byte

// Short is the ID's first 8 hex digits, for messages.
func (id TxnID) Short() string { return hex.EncodeToString(id[:4]) }

// String is the ID in hex.
func (id TxnID) String() string { return hex.EncodeToString(id[:]) }

// TxnMeta is the part of a transaction every intent records.
type TxnMeta struct {
	ID TxnID
	// Key anchors the transaction record.
	Key []byte
	// Epoch increments on every restart; intents of older epochs are
	// discarded.
	Epoch int32
	// WriteTimestamp is where the transaction writes, and (at least) where
	// it will commit.
	WriteTimestamp hlc.Timestamp
	// MinTimestamp is the transaction's first timestamp: no intent of it is
	// below.
	MinTimestamp hlc.Timestamp
	// Sequence numbers the transaction's writes within an epoch.
	Sequence int32
	// Priority decides who wins when one transaction pushes another.
	Priority int32
}

// TxnStatus is a transaction's state.
type TxnStatus int

const (
	// PENDING: still running.
	PENDING TxnStatus = iota
	// COMMITTED: its intents become committed values.
	COMMITTED
	// ABORTED: its intents are removed.
	ABORTED
)

func (s TxnStatus) String() string {
	switch s {
	case PENDING:
		return "PENDING"
	case COMMITTED:
		return "COMMITTED"
	case ABORTED:
		return "ABORTED"
	}
	return "UNKNOWN"
}

// SeqNumRange is an inclusive range [Start, End] of sequence numbers; a
// savepoint rollback ignores the writes in it.
type SeqNumRange struct {
	Start, End int32
}

// SeqIgnored reports whether seq lies in one of the ranges.
func SeqIgnored(seq int32, ignored []SeqNumRange) bool {
	for _, r := range ignored {
		if r.Start <= seq && seq <= r.End {
			return true
		}
	}
	return false
}

// Txn is a transaction as the MVCC operations see it.
type Txn struct {
	TxnMeta
	// ReadTimestamp is where the transaction reads.
	ReadTimestamp hlc.Timestamp
	// IgnoredSeqNums are the sequence numbers rolled back by savepoints.
	IgnoredSeqNums []SeqNumRange
}
