package txn

import (
	"context"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
)

// txnDeadline refuses a commit at or after the transaction's deadline
// (Txn.UpdateDeadline). It sits at the bottom of the stack, below the
// refresher, so that it sees the timestamp each commit attempt is sent at:
// a range commits a transaction at its write timestamp or refuses it.
type txnDeadline struct {
	wrapped lockedSender
	// deadline is empty while there is none.
	deadline hlc.Timestamp
}

func (d *txnDeadline) setWrapped(w lockedSender) { d.wrapped = w }

// A restart keeps the deadline: what the transaction used still expires.
func (d *txnDeadline) epochBumpedLocked() {}
func (d *txnDeadline) closeLocked()       {}

// updateLocked sets the deadline to ts if that is earlier.
func (d *txnDeadline) updateLocked(ts hlc.Timestamp) {
	if d.deadline.IsEmpty() || ts.Less(d.deadline) {
		d.deadline = ts
	}
}

// check returns a TransactionRetryError if a commit at ts is too late.
// A nil txnDeadline (an interceptor tested alone) has no deadline.
func (d *txnDeadline) check(txn *rangepb.Transaction, ts hlc.Timestamp) error {
	if d == nil || d.deadline.IsEmpty() || ts.Less(d.deadline) {
		return nil
	}
	return &rangepb.TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_COMMIT_DEADLINE_EXCEEDED, Txn: txn,
		Extra: "the commit timestamp " + ts.String() + " is not before the deadline " + d.deadline.String()}
}

func (d *txnDeadline) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if hasCommit(ba) {
		if err := d.check(ba.Header.Txn, tsFromProto(ba.Header.Txn.Meta.WriteTimestamp)); err != nil {
			return nil, err
		}
	}
	return d.wrapped.SendLocked(ctx, ba)
}
