package txn

import (
	"context"

	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/protobuf/proto"
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
// Parallel commits (RFC 20180324_parallel_commit) live here: a commit's
// EndTxn lists the writes not known to be durable — the pipeliner's
// in-flight writes, proven in the same batch, and the batch's own point
// writes — so the range stages the record (STAGING) while the senders
// send the writes at once, in parallel with it: one round of consensus.
// If every part succeeded with no write pushed above the staged
// timestamp, the transaction is implicitly committed and the client is
// answered; the record is made COMMITTED (and the intents resolved) by an
// EndTxn sent in the background (makeExplicit). If a write was pushed
// above it, the staged record does not commit: the committer sends a plain
// EndTxn at the new timestamp, refreshed first by the refresher below.
type txnCommitter struct {
	wrapped lockedSender
	// parallel: parallel commits on (Options.DisableParallelCommits).
	parallel bool
	// sender and stopper send the explicit commit after an implicit one.
	sender    Sender
	stopper   *stop.Stopper
	lockSpans []*rangepb.Span
	// readLocks are the spans of locking reads.
	readLocks []*rangepb.Span
	seen      map[string]bool
	// deadline checks the commits answered here, which reach no range.
	deadline *txnDeadline
}

// lockingReadSpan returns the span of a locking read.
func lockingReadSpan(ru *rangepb.RequestUnion) (key, end []byte, ok bool) {
	if r, locking := ru.Inner().(rangepb.LockingRequest); locking && r.GetForUpdate() {
		return r.Addr()
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
		if len(c.lockSpans) == 0 && len(c.readLocks) == 0 && len(ba.Requests) == 1 {
			// Nothing written and nothing locked: nothing to commit or
			// clean up, and the reads were all at one timestamp. (Locks of
			// locking reads need the EndTxn to go: the ranges hold them
			// until the transaction finishes.)
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
			InFlightWrites: c.inFlightWrites(ba, et),
		}}}
	}
	br, err := c.wrapped.SendLocked(ctx, ba)
	if err != nil {
		return nil, err
	}
	return c.maybeImplicitCommit(ctx, ba, br)
}

// inFlightWrites lists a commit's writes not known to be durable: what
// the pipeliner proves in this batch and the batch's point writes. None
// (a plain commit, sent after the writes) with parallel commits off, when
// the batch has a ranged write, which a record cannot list, or when there
// are more than maxInFlightWrites: a bulk load's held writes (thousands)
// would make the STAGING record as large as a Raft command and its
// recovery a QueryIntent for each; on one range the commit needs no list
// (the writes and the EndTxn share its command), across ranges it goes
// after them.
func (c *txnCommitter) inFlightWrites(ba *rangepb.BatchRequest, et *rangepb.EndTxnRequest) []*rangepb.SequencedWrite {
	if !c.parallel || !et.Commit {
		return nil
	}
	ws := et.InFlightWrites
	for _, ru := range ba.Requests {
		key, end, write := writeSpan(ru)
		if !write {
			continue
		}
		if len(end) > 0 {
			return nil
		}
		if len(ws) == maxInFlightWrites {
			return nil
		}
		ws = append(ws, &rangepb.SequencedWrite{Key: key, Sequence: writeSequence(ru)})
	}
	return ws
}

// maybeImplicitCommit finishes a parallel commit whose EndTxn staged the
// record (see the type's comment).
func (c *txnCommitter) maybeImplicitCommit(ctx context.Context, ba *rangepb.BatchRequest, br *rangepb.BatchResponse) (*rangepb.BatchResponse, error) {
	last := len(br.Responses) - 1
	if last < 0 || ba.Requests[len(ba.Requests)-1].GetEndTxn() == nil {
		return br, nil
	}
	staged := br.Responses[last].GetEndTxn().GetTxn()
	if staged.GetStatus() != rangepb.TransactionStatus_STAGING || br.Txn.GetMeta() == nil {
		return br, nil
	}
	et := ba.Requests[len(ba.Requests)-1].GetEndTxn()
	stagedTs := tsFromProto(staged.Meta.WriteTimestamp)
	if wts := tsFromProto(br.Txn.Meta.WriteTimestamp); wts.LessEq(stagedTs) {
		// Every write durable at or below the staged timestamp: committed.
		txn := proto.Clone(staged).(*rangepb.Transaction)
		txn.Status = rangepb.TransactionStatus_COMMITTED
		txn.InFlightWrites = nil
		br.Txn = txn
		br.Responses[last] = &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_EndTxn{EndTxn: &rangepb.EndTxnResponse{Txn: txn}}}
		c.makeExplicit(staged, et.LockSpans)
		return br, nil
	}
	// A write landed above the staged timestamp: not committed there.
	// Every write of the batch is durable now (its part succeeded), so a
	// plain commit at the new timestamp finishes it, once the refresher
	// below has moved the reads up.
	txn := proto.Clone(br.Txn).(*rangepb.Transaction)
	txn.Status = rangepb.TransactionStatus_PENDING
	txn.InFlightWrites = nil
	again := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: txn}, Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_EndTxn{
		EndTxn: &rangepb.EndTxnRequest{Key: et.Key, Commit: true, LockSpans: et.LockSpans}}}}}
	br2, err := c.wrapped.SendLocked(ctx, again)
	if err != nil {
		return nil, err
	}
	br.Txn = br2.Txn
	br.Responses[last] = br2.Responses[0]
	return br, nil
}

// makeExplicit turns an implicitly committed transaction's STAGING record
// into COMMITTED, resolving its intents, in the background: the client has
// its answer already. If it fails, the record stays STAGING until someone
// who meets an intent recovers it (the heartbeats stop with the commit).
func (c *txnCommitter) makeExplicit(staged *rangepb.Transaction, lockSpans []*rangepb.Span) {
	if c.sender == nil || c.stopper == nil {
		return
	}
	txn := proto.Clone(staged).(*rangepb.Transaction)
	txn.InFlightWrites = nil
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: txn}, Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_EndTxn{
		EndTxn: &rangepb.EndTxnRequest{Key: txn.Meta.Key, Commit: true, LockSpans: lockSpans}}}}}
	sender := c.sender
	_ = c.stopper.RunAsyncTask("txn-explicit-commit", func(ctx context.Context) {
		_, _ = sender.Send(ctx, ba)
	})
}
