package kvserver

import (
	"bytes"
	"context"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
	"google.golang.org/protobuf/proto"
)

// KeySender sends batches addressed by key, finding each key's range and
// its leaseholder: a DistSender. A replica reaches other transactions'
// records (pushes) and intents (resolution) through it.
type KeySender interface {
	Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// replicaTxnState is a replica's transaction state: its timestamp cache.
type replicaTxnState struct {
	once sync.Once
	tc   tsCache
	mu   struct {
		sync.Mutex
		// leaseSeq is the lease whose start the low-water mark reflects.
		leaseSeq int64
	}
}

func (r *Replica) tsCache() tsCache {
	r.txn.once.Do(func() { r.txn.tc = newTSCache() })
	return r.txn.tc
}

// noteLease raises the timestamp cache's low-water mark to the start of a
// lease this replica has not served under yet: reads under earlier leases
// (on other replicas) are unknown here and all happened before it.
func (r *Replica) noteLease(l *rangepb.Lease) {
	tc := r.tsCache()
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if l.GetSequence() != r.txn.mu.leaseSeq {
		tc.SetLowWater(tsFromProto(l.GetStart()))
		r.txn.mu.leaseSeq = l.GetSequence()
	}
}

// maxConflictRetries bounds how often one batch pushes conflicting
// transactions and evaluates again before it gives up with the conflict.
const maxConflictRetries = 8

// sendWithConflicts serves a batch, handling what evaluation runs into:
//
//   - another transaction's intent (kv.LockConflictError): push it (abort
//     for a writer, timestamp above the read for a reader), resolve the
//     intent, and evaluate again. A push of a live transaction succeeds
//     only for a pusher ahead of it in the wound-wait order (pusherWins:
//     priority, then age); a pusher behind it waits here until it
//     finishes (txnWaits), as long as that takes, and pushes again. Every
//     wait goes from a younger to an older transaction, so waits never
//     form a cycle, and no deadlock detection is needed.
//   - a committed value at or above a transaction's write timestamp
//     (kv.WriteTooOldError): move the write timestamp above it and
//     evaluate again; the coordinator sees the pushed write timestamp in
//     the response and refreshes its reads before it commits.
//
// range/concurrency (lock table queues, a txn wait queue with deadlock
// detection) can replace the waiting here later: it would serve waiters in
// arrival order and wake exactly the one that can go, where txnWaits wakes
// every waiter when any transaction on the store finishes.
func (r *Replica) sendWithConflicts(ctx context.Context, ba *rangepb.BatchRequest, desc *rangepb.RangeDescriptor) (*rangepb.BatchResponse, error) {
	var wait pusheeWait
	for attempt := 0; ; attempt++ {
		resp, err := r.sendOnce(ctx, ba, desc)
		if err == nil {
			r.afterServed(ba, resp)
			r.store.txnWaits.noteFinished(ba)
			return resp, nil
		}
		if attempt >= maxConflictRetries {
			return nil, err
		}
		var lce *kv.LockConflictError
		var wto *kv.WriteTooOldError
		var unc *kv.ReadWithinUncertaintyIntervalError
		switch {
		case errors.As(err, &lce) && r.store.cfg.TxnSender != nil:
			if perr := r.pushAndResolve(ctx, ba, lce); perr != nil {
				if !errors.Is(perr, errPushLost) {
					return nil, perr
				}
				// The holder is ahead of us (wound-wait): wait for it to
				// finish, however long that takes, as PostgreSQL's lock
				// waits do. Waiting is not a retry.
				if werr := wait.wait(ctx, r.store.txnWaits); werr != nil {
					// Waited enough for one attempt (or the caller gave up):
					// the conflict goes back; the client sends again.
					return nil, errors.Wrap(perr, werr.Error())
				}
				attempt--
			}
		case errors.As(err, &unc) && ba.Header.GetTxn() == nil:
			// A non-transactional read picks its own timestamp: move the
			// clock past the uncertain value (one this range holds, so
			// accepted by a clock before) and read again.
			r.store.clock.Forward(unc.ValueTimestamp)
		case errors.As(err, &wto) && ba.Header.GetTxn() != nil && batchWrites(ba):
			// A write: it may go above the newer value (its commit then
			// needs a refresh). A locking read's WriteTooOld goes back to
			// the coordinator, which moves its reads up and reads again.
			ba = proto.Clone(ba).(*rangepb.BatchRequest)
			m := ba.Header.Txn.Meta
			ts := tsFromProto(m.WriteTimestamp)
			ts.Forward(wto.ActualTimestamp)
			m.WriteTimestamp = tsToProto(ts)
		default:
			return nil, err
		}
	}
}

// batchWrites reports whether the batch writes user keys.
func batchWrites(ba *rangepb.BatchRequest) bool {
	for _, ru := range ba.Requests {
		switch ru.Value.(type) {
		case *rangepb.RequestUnion_Put, *rangepb.RequestUnion_ConditionalPut, *rangepb.RequestUnion_Increment,
			*rangepb.RequestUnion_Delete, *rangepb.RequestUnion_DeleteRange:
			return true
		}
	}
	return false
}

// batchLocks reports whether the batch has a locking read, which needs
// other transactions' intents gone, as a write does.
func batchLocks(ba *rangepb.BatchRequest) bool {
	for _, ru := range ba.Requests {
		if ru.GetGet().GetForUpdate() || ru.GetScan().GetForUpdate() {
			return true
		}
	}
	return false
}

// pushAndResolve pushes the transactions holding the locks of lce and
// resolves their intents. It returns lce, wrapped and marked
// errPushLost, if a push failed: the pushee is alive and ahead of the
// pusher.
func (r *Replica) pushAndResolve(ctx context.Context, ba *rangepb.BatchRequest, lce *kv.LockConflictError) error {
	pusher := ba.Header.GetTxn()
	typ := rangepb.PushTxnType_PUSH_TIMESTAMP
	if batchWrites(ba) || batchLocks(ba) {
		typ = rangepb.PushTxnType_PUSH_ABORT
	}
	// A reader needs the intent above everything it may not ignore: its
	// read timestamp and its uncertainty limit.
	pushTo := r.store.clock.Now()
	if pusher != nil {
		pushTo = tsFromProto(pusher.ReadTimestamp)
		pushTo.Forward(tsFromProto(pusher.GlobalUncertaintyLimit))
	}
	pushTo = pushTo.Next()

	pushed := map[kv.TxnID]*rangepb.Transaction{}
	resolve := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}}
	for _, l := range lce.Locks {
		pushee, ok := pushed[l.Txn.ID]
		if !ok {
			br, err := r.store.cfg.TxnSender.Send(ctx, &rangepb.BatchRequest{
				Header: &rangepb.BatchHeader{Txn: pusher},
				Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_PushTxn{PushTxn: &rangepb.PushTxnRequest{
					Key: l.Txn.Key, Pushee: metaFromKV(l.Txn), PushTo: tsToProto(pushTo), PushType: typ,
				}}}},
			})
			var tpe *TransactionPushError
			if errors.As(err, &tpe) {
				return errors.Mark(errors.Wrapf(lce, "pushing txn %s", l.Txn.ID.Short()), errPushLost)
			}
			if err != nil {
				return errors.Wrapf(err, "pushing txn %s", l.Txn.ID.Short())
			}
			pushee = br.Responses[0].GetPushTxn().PusheeTxn
			pushed[l.Txn.ID] = pushee
		}
		resolve.Requests = append(resolve.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ResolveIntent{ResolveIntent: &rangepb.ResolveIntentRequest{
			Key: l.Key, Txn: pushee.Meta, Status: pushee.Status, IgnoredSeqNums: pushee.IgnoredSeqNums,
		}}})
	}
	_, err := r.store.cfg.TxnSender.Send(ctx, resolve)
	return errors.Wrap(err, "resolving conflicting intents")
}

// newEvalCtx prepares the evaluation of ba at ts.
func (r *Replica) newEvalCtx(ba *rangepb.BatchRequest, desc *rangepb.RangeDescriptor, now hlc.Timestamp) *evalCtx {
	ec := &evalCtx{r: r, desc: desc, now: now}
	if h := ba.Header; h.GetTimestamp() != nil && tsFromProto(h.Timestamp) == now {
		ec.historical = true
	}
	if t := ba.Header.GetTxn(); t != nil && t.Meta != nil {
		ec.txn = proto.Clone(t).(*rangepb.Transaction)
		ec.onePhase = isOnePhaseCommit(ba, desc)
		// Later writes here (non-transactional ones at the clock) must be
		// above this transaction's reads and writes.
		_, _ = r.store.clock.Update(tsFromProto(t.Meta.WriteTimestamp))
	}
	return ec
}

// spanOf returns the keys a KV request reads or writes.
func spanOf(ru *rangepb.RequestUnion) (key, end []byte, read, write bool) {
	switch req := ru.Value.(type) {
	case *rangepb.RequestUnion_Get:
		return req.Get.Key, nil, true, false
	case *rangepb.RequestUnion_Scan:
		return req.Scan.Span.GetKey(), req.Scan.Span.GetEndKey(), true, false
	case *rangepb.RequestUnion_Refresh:
		return req.Refresh.Key, nil, true, false
	case *rangepb.RequestUnion_RefreshRange:
		return req.RefreshRange.Span.GetKey(), req.RefreshRange.Span.GetEndKey(), true, false
	case *rangepb.RequestUnion_Put:
		return req.Put.Key, nil, false, true
	case *rangepb.RequestUnion_ConditionalPut:
		return req.ConditionalPut.Key, nil, false, true
	case *rangepb.RequestUnion_Increment:
		return req.Increment.Key, nil, false, true
	case *rangepb.RequestUnion_Delete:
		return req.Delete.Key, nil, false, true
	case *rangepb.RequestUnion_DeleteRange:
		// It reads the span to find what to delete.
		return req.DeleteRange.Span.GetKey(), req.DeleteRange.Span.GetEndKey(), true, true
	}
	return nil, nil, false, false
}

// cacheSpan normalises a request's span for the timestamp cache: nil end
// for a single key; ok false for an empty span, which reads nothing (and
// which the cache refuses).
func cacheSpan(key, end []byte) ([]byte, []byte, bool) {
	if len(end) == 0 {
		return key, nil, true
	}
	return key, end, bytes.Compare(key, end) < 0
}

// forwardWriteTs moves the batch's write timestamp above every read of the
// keys it writes that the timestamp cache knows (other than the
// transaction's own), and returns the timestamp for non-transactional
// writes.
func (r *Replica) forwardWriteTs(ec *evalCtx, ba *rangepb.BatchRequest, ts hlc.Timestamp) hlc.Timestamp {
	tc := r.tsCache()
	var own kv.TxnID
	wts := ts
	if ec.txn != nil {
		own, wts = txnID(ec.txn.Meta), tsFromProto(ec.txn.Meta.WriteTimestamp)
	}
	orig := wts
	for _, ru := range ba.Requests {
		key, end, _, write := spanOf(ru)
		key, end, ok := cacheSpan(key, end)
		if !write || !ok {
			continue
		}
		if max, by := tc.GetMax(key, end); wts.LessEq(max) && (ec.txn == nil || by != own) {
			wts = max.Next()
		}
	}
	if ec.txn == nil {
		return wts
	}
	if orig != wts {
		ec.txn.Meta.WriteTimestamp = tsToProto(wts)
	}
	return ts
}

// recordReads adds the batch's reads to the timestamp cache.
func (r *Replica) recordReads(ec *evalCtx, ba *rangepb.BatchRequest, ts hlc.Timestamp) {
	tc := r.tsCache()
	var id kv.TxnID
	rts := ts
	if ec.txn != nil {
		id, rts = txnID(ec.txn.Meta), tsFromProto(ec.txn.ReadTimestamp)
	}
	for _, ru := range ba.Requests {
		key, end, read, write := spanOf(ru)
		key, end, ok := cacheSpan(key, end)
		if !read || !ok {
			continue
		}
		at := rts
		if write && ec.txn != nil {
			at = tsFromProto(ec.txn.Meta.WriteTimestamp)
		}
		tc.Add(key, end, at, id)
	}
}

// resolveAfterApply resolves, in the background, the intents an EndTxn
// left outside its range. Failures are left for the next reader or writer
// that runs into an intent: it pushes, finds the record final, and
// resolves it.
func (r *Replica) resolveAfterApply(ec *evalCtx) {
	if len(ec.afterApply) == 0 || r.store.cfg.TxnSender == nil {
		return
	}
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}}
	for _, u := range ec.afterApply {
		st := rangepb.TransactionStatus_ABORTED
		if u.Status == kv.COMMITTED {
			st = rangepb.TransactionStatus_COMMITTED
		}
		ru := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ResolveIntent{ResolveIntent: &rangepb.ResolveIntentRequest{
			Key: u.Span.Key, Txn: metaFromKV(u.Txn), Status: st, IgnoredSeqNums: seqRangesFromKV(u.IgnoredSeqNums),
		}}}
		if len(u.Span.EndKey) > 0 {
			ru = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ResolveIntentRange{ResolveIntentRange: &rangepb.ResolveIntentRangeRequest{
				Span: &rangepb.Span{Key: u.Span.Key, EndKey: u.Span.EndKey}, Txn: metaFromKV(u.Txn), Status: st,
				IgnoredSeqNums: seqRangesFromKV(u.IgnoredSeqNums),
			}}}
		}
		ba.Requests = append(ba.Requests, ru)
	}
	sender := r.store.cfg.TxnSender
	_ = r.store.stopper.RunAsyncTask("resolve-intents", func(ctx context.Context) {
		// In batches of a bounded size, each one Raft command small
		// enough to apply well within a request's timeout. Best effort:
		// a reader that meets a leftover intent resolves it itself.
		for reqs := ba.Requests; len(reqs) > 0; {
			n := min(len(reqs), maxSyncResolveSpans)
			if _, err := sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: reqs[:n]}); err != nil && ctx.Err() != nil {
				return
			}
			reqs = reqs[n:]
		}
	})
}

// drainForLeaseTransfer prepares a lease transfer: it waits for the
// requests evaluating under the current lease (they hold latches; a write
// latch over the whole range waits for all of them and holds back new
// ones until release) and returns the lowest start the new lease may
// have: above every read this replica served, which the new leaseholder's
// timestamp cache only knows as its low-water mark, the lease start. (A
// read may be above the clock: a transaction's read timestamp can be
// ahead of it.)
func (r *Replica) drainForLeaseTransfer(ctx context.Context) (release func(), minStart hlc.Timestamp, err error) {
	desc := r.Desc()
	end := desc.GetEndKey()
	if len(end) == 0 {
		end = kv.KeyMax
	}
	g, err := r.latches.Acquire(ctx, []spanlatch.LatchSpan{{Span: spanlatch.Span{Key: desc.GetStartKey(), EndKey: end}, Access: spanlatch.Write}})
	if err != nil {
		return nil, hlc.Timestamp{}, err
	}
	max, _ := r.tsCache().GetMax(desc.GetStartKey(), end)
	return func() { r.latches.Release(g) }, max, nil
}
