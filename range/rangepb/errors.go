package rangepb

import "fmt"

// The range layer's typed errors are these messages themselves: a replica
// returns them, they cross the wire in an Error's detail as they are, and
// the transaction layer and the clients act on their types (errors.As),
// whether the replica was local or remote.

// Error implements error: the transaction must restart at a higher
// timestamp. Txn is its state as the range saw it (a pushed write
// timestamp).
func (e *TransactionRetryError) Error() string {
	return fmt.Sprintf("TransactionRetryError: retry txn (%s): %s", e.Reason, e.Extra)
}

// Error implements error: the transaction's record is ABORTED.
func (e *TransactionAbortedError) Error() string {
	return fmt.Sprintf("TransactionAbortedError: txn %s is aborted", txnIDString(e.Txn.GetMeta()))
}

// Error implements error: a push failed because the pushee is alive and
// wins on priority.
func (e *TransactionPushError) Error() string {
	return fmt.Sprintf("failed to push txn %s: it is alive and has priority %d",
		txnIDString(e.Pushee.GetMeta()), e.Pushee.GetMeta().GetPriority())
}

// Error implements error: a request that does not fit the state of the
// transaction's record (no record, already finalized, stale epoch). It is
// not retryable: it points at a bug or bad input.
func (e *TransactionStatusError) Error() string {
	return fmt.Sprintf("TransactionStatusError: txn %s: %s", txnIDString(e.Txn.GetMeta()), e.Reason)
}

// Error implements error: a push met a STAGING record it would have won
// against (or an expired one); the transaction may have committed
// implicitly. The pusher recovers it (RecoverTxn) and pushes again.
func (e *IndeterminateCommitError) Error() string {
	return fmt.Sprintf("IndeterminateCommitError: txn %s is STAGING with %d in-flight writes",
		txnIDString(e.StagingTxn.GetMeta()), len(e.StagingTxn.GetInFlightWrites()))
}

func txnIDString(m *TxnMeta) string {
	id := m.GetId()
	if len(id) > 4 {
		id = id[:4]
	}
	return fmt.Sprintf("%x", id)
}

// Error implements error: the replica does not hold a lease valid for
// the request; Lease, if set, is the lease it knows of (where to try).
func (e *NotLeaseHolderError) Error() string {
	s := fmt.Sprintf("r%d: not the leaseholder: %s", e.RangeId, e.Reason)
	if e.Lease != nil && e.Lease.Replica != nil {
		s += fmt.Sprintf("; try replica %d on node %d", e.Lease.Replica.ReplicaId, e.Lease.Replica.NodeId)
	}
	return s
}

// Error implements error: the node holds no replica of the range.
func (e *RangeNotFoundError) Error() string {
	return fmt.Sprintf("r%d not found on node %d", e.RangeId, e.NodeId)
}

// Error implements error: Key is outside Desc, the range as the replica
// knows it.
func (e *RangeKeyMismatchError) Error() string {
	return fmt.Sprintf("key %q is outside range r%d [%q, %q)", e.Key, e.Desc.GetRangeId(), e.Desc.GetStartKey(), e.Desc.GetEndKey())
}

// Error implements error: an AdminSplit named a key the range cannot be
// split at. Nothing changed.
func (e *InvalidSplitKeyError) Error() string {
	return fmt.Sprintf("cannot split r%d [%q, %q) at %q: %s",
		e.Desc.GetRangeId(), e.Desc.GetStartKey(), e.Desc.GetEndKey(), e.Key, e.Reason)
}

// Error implements error: the command may or may not have applied.
func (e *AmbiguousResultError) Error() string { return "result is ambiguous: " + e.Reason }

// Error implements error: the range has no right-hand neighbour it can
// merge with.
func (e *CannotMergeError) Error() string {
	return fmt.Sprintf("cannot merge r%d with its right-hand neighbour: %s", e.RangeId, e.Reason)
}
