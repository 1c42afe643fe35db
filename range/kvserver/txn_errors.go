package kvserver

import (
	"fmt"

	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The transaction layer's typed errors, as the ranges return them. The
// coordinator (package txn) switches on their types: a retry error
// restarts the transaction (a new epoch at a higher timestamp), an aborted
// error starts it over as a new one, a status error is final.

// TransactionRetryError: the transaction must restart at a higher
// timestamp. Txn is its state as the range saw it (a pushed write
// timestamp).
type TransactionRetryError struct {
	Reason rangepb.TransactionRetryReason
	Txn    *rangepb.Transaction
	Extra  string
}

func (e *TransactionRetryError) Error() string {
	return fmt.Sprintf("TransactionRetryError: retry txn (%s): %s", e.Reason, e.Extra)
}

// TransactionAbortedError: the transaction's record is ABORTED.
type TransactionAbortedError struct {
	Txn *rangepb.Transaction
}

func (e *TransactionAbortedError) Error() string {
	return fmt.Sprintf("TransactionAbortedError: txn %s is aborted", txnIDString(e.Txn.GetMeta()))
}

// TransactionPushError: a push failed because the pushee is alive and
// wins on priority.
type TransactionPushError struct {
	Pushee *rangepb.Transaction
}

func (e *TransactionPushError) Error() string {
	return fmt.Sprintf("failed to push txn %s: it is alive and has priority %d",
		txnIDString(e.Pushee.GetMeta()), e.Pushee.GetMeta().GetPriority())
}

// TransactionStatusError: a request that does not fit the state of the
// transaction's record (no record, already finalized, stale epoch). It is
// not retryable: it points at a bug or bad input.
type TransactionStatusError struct {
	Reason string
	Txn    *rangepb.Transaction
}

func (e *TransactionStatusError) Error() string {
	return fmt.Sprintf("TransactionStatusError: txn %s: %s", txnIDString(e.Txn.GetMeta()), e.Reason)
}

func txnIDString(m *rangepb.TxnMeta) string {
	id := m.GetId()
	if len(id) > 4 {
		id = id[:4]
	}
	return fmt.Sprintf("%x", id)
}

// TxnMetaToKV converts a transaction's wire metadata to the MVCC layer's.
func TxnMetaToKV(m *rangepb.TxnMeta) kv.TxnMeta { return metaToKV(m) }

// TxnMetaFromKV converts the MVCC layer's transaction metadata to its wire
// form.
func TxnMetaFromKV(m kv.TxnMeta) *rangepb.TxnMeta { return metaFromKV(m) }

// IndeterminateCommitError: a push met a STAGING record it would have won
// against (or an expired one); the transaction may have committed
// implicitly. The pusher recovers it (RecoverTxn) and pushes again.
type IndeterminateCommitError struct {
	StagingTxn *rangepb.Transaction
}

func (e *IndeterminateCommitError) Error() string {
	return fmt.Sprintf("IndeterminateCommitError: txn %s is STAGING with %d in-flight writes",
		txnIDString(e.StagingTxn.GetMeta()), len(e.StagingTxn.GetInFlightWrites()))
}
