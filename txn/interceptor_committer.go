package txn

import (
	"context"

	"github.com/meridiandb/meridian/range/rangepb"
)

// txnCommitter finishes the transaction: it tracks the lock spans (every
// span a write was sent to, before it is sent: a write whose outcome is
// unknown may have left an intent) and hands them, with the anchor, to
// EndTxn, so that the record's range resolves the intents. A transaction
// that wrote nothing has no record and no intents: its EndTxn is answered
// here.
//
// The spans of locking reads go to EndTxn too, when the transaction
// wrote something: resolving them releases the ranges' unreplicated locks
// (a read-only transaction's locks are released by whoever meets them
// and finds it finished).
//
// Parallel commits (v2) live here: EndTxn would write a STAGING record
// listing the in-flight writes, sent in parallel with them.
type txnCommitter struct {
	wrapped   lockedSender
	lockSpans []*rangepb.Span
	// readLocks are the spans of locking reads.
	readLocks []*rangepb.Span
	seen      map[string]bool
	// deadline checks the commits answered here, which reach no range.
	deadline *txnDeadline
}

// lockingReadSpan returns the span of a locking read.
func lockingReadSpan(ru *rangepb.RequestUnion) (key, end []byte, ok bool) {
	switch req := ru.Value.(type) {
	case *rangepb.RequestUnion_Get:
		return req.Get.Key, nil, req.Get.ForUpdate
	case *rangepb.RequestUnion_Scan:
		return req.Scan.Span.GetKey(), req.Scan.Span.GetEndKey(), req.Scan.ForUpdate
	}
	return nil, nil, false
}

func (c *txnCommitter) setWrapped(w lockedSender) { c.wrapped = w }

// Intents of older epochs are still to be resolved: the lock spans stay.
func (c *txnCommitter) epochBumpedLocked() {}
func (c *txnCommitter) closeLocked()       {}

func (c *txnCommitter) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	for _, ru := range ba.Requests {
		key, end, write := writeSpan(ru)
		list, kind := &c.lockSpans, "w"
		if !write {
			var locking bool
			if key, end, locking = lockingReadSpan(ru); !locking {
				continue
			}
			// Its own kind in seen: a write to the same span must still
			// count as a write (it decides whether there is anything to
			// commit).
			list, kind = &c.readLocks, "r"
		}
		id := kind + string(key) + "\x00" + string(end)
		if !c.seen[id] {
			if c.seen == nil {
				c.seen = map[string]bool{}
			}
			c.seen[id] = true
			*list = append(*list, &rangepb.Span{Key: key, EndKey: end})
		}
	}
	for i, ru := range ba.Requests {
		et := ru.GetEndTxn()
		if et == nil {
			continue
		}
		if len(c.lockSpans) == 0 && len(ba.Requests) == 1 {
			// Nothing written: nothing to commit or clean up, and the
			// reads were all at one timestamp.
			txn := ba.Header.Txn
			if et.Commit {
				// Its reads hold at the read timestamp; the write
				// timestamp, never below, is the conservative side.
				if err := c.deadline.check(txn, tsFromProto(txn.Meta.WriteTimestamp)); err != nil {
					return nil, err
				}
			}
			txn.Status = rangepb.TransactionStatus_ABORTED
			if et.Commit {
				txn.Status = rangepb.TransactionStatus_COMMITTED
			}
			return &rangepb.BatchResponse{Txn: txn, Responses: []*rangepb.ResponseUnion{{Value: &rangepb.ResponseUnion_EndTxn{EndTxn: &rangepb.EndTxnResponse{Txn: txn}}}}}, nil
		}
		ba.Requests[i] = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_EndTxn{EndTxn: &rangepb.EndTxnRequest{
			Key: ba.Header.Txn.Meta.Key, Commit: et.Commit, LockSpans: append(append([]*rangepb.Span(nil), c.lockSpans...), c.readLocks...),
		}}}
	}
	return c.wrapped.SendLocked(ctx, ba)
}
