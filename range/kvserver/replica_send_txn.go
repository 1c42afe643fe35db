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

// batchWrites reports whether the batch writes user keys.
func batchWrites(ba *rangepb.BatchRequest) bool {
	for _, ru := range ba.Requests {
		if ru.Flags().Has(rangepb.WritesUserKeys) {
			return true
		}
	}
	return false
}

// newEvalCtx prepares the evaluation of ba at ts.
func (r *Replica) newEvalCtx(ba *rangepb.BatchRequest, desc *rangepb.RangeDescriptor, now hlc.Timestamp) *evalCtx {
	ec := &evalCtx{r: r, desc: desc, now: now}
	if h := ba.Header; h.GetTimestamp() != nil && tsFromProto(h.Timestamp) == now {
		ec.historical = true
	}
	if t := ba.Header.GetTxn(); t != nil && t.Meta != nil {
		ec.txn = proto.Clone(t).(*rangepb.Transaction)
		ec.readSeq = ba.Header.GetReadSequence()
		ec.observe()
		ec.onePhase, ec.committedWrites = isOnePhaseCommit(ba, desc)
		// Later writes here (non-transactional ones at the clock) must be
		// above this transaction's reads and writes.
		_, _ = r.store.clock.Update(tsFromProto(t.Meta.WriteTimestamp))
	}
	return ec
}

// spanOf returns the user keys a KV request reads or writes.
func spanOf(ru *rangepb.RequestUnion) (key, end []byte, read, write bool) {
	req := ru.Inner()
	if req == nil {
		return nil, nil, false, false
	}
	f := req.Method().Flags()
	read, write = f.Has(rangepb.ReadsUserKeys), f.Has(rangepb.WritesUserKeys)
	if !read && !write {
		return nil, nil, false, false
	}
	key, end, _ = req.Addr()
	return key, end, read, write
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
			if at, replay := r.replayedAt(ec, ru); replay {
				// The write is where its intent is.
				wts.Forward(at)
				continue
			}
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

// replayedAt reports whether ru is a transaction's write its intent
// already holds (the same epoch, at this sequence or a later one): a retry
// of a write that applied, which MVCC leaves as it is; at is the intent's
// timestamp. Such a write is where its intent is, whatever the timestamp
// cache says now: the answer must say that, no higher (a coordinator told
// its parallel-commit write moved up restarts a transaction that a
// recovery would find committed, every intent at or below the staged
// timestamp) and no lower (the first evaluation may itself have been
// pushed above a read: committing below it would slip the value under
// that read). Asked only when the timestamp cache would push the write.
func (r *Replica) replayedAt(ec *evalCtx, ru *rangepb.RequestUnion) (at hlc.Timestamp, replay bool) {
	w, ok := ru.Inner().(rangepb.SequencedRequest)
	if ec.txn == nil || !ok {
		return hlc.Timestamp{}, false
	}
	key, end, _ := w.Addr()
	if len(end) > 0 {
		return hlc.Timestamp{}, false
	}
	lock, err := kv.MVCCGetLock(r.store.engine, key)
	if err != nil || lock == nil || lock.Txn.ID != txnID(ec.txn.Meta) || lock.Txn.Epoch != ec.txn.Meta.Epoch ||
		lock.Txn.Sequence < w.GetSequence() {
		return hlc.Timestamp{}, false
	}
	return lock.Txn.WriteTimestamp, true
}

// recordFailedCondition adds the read of a conditional write whose
// condition failed to the timestamp cache: the batch fails, but what it
// read is an answer (an INSERT's duplicate key; ON CONFLICT DO NOTHING
// inserting nothing and committing), which a write below it must not
// change.
func (r *Replica) recordFailedCondition(ec *evalCtx, err error, ts hlc.Timestamp) {
	var cfe *kv.ConditionFailedError
	if !errors.As(err, &cfe) {
		return
	}
	var id kv.TxnID
	if ec.txn != nil {
		// Read where the transaction writes (as recordReads has it).
		id, ts = txnID(ec.txn.Meta), tsFromProto(ec.txn.Meta.WriteTimestamp)
	}
	r.tsCache().Add(cfe.Key, nil, ts, id)
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

// asyncResolveBatch is how many intents one Raft command of the
// resolution after a commit resolves. Larger than maxSyncResolveSpans
// (which bounds what a commit resolves before it answers): here no client
// waits for the command, but readers that meet the intents still left wait
// for a Raft command each, so the sooner the last batch applies, the
// better. Measured on the 2-core VM, pgbench -S for the 10 s right after
// pgbench -i (which commits its 100,000 rows in one transaction and
// leaves their intents), as a share of the next 10 s, five runs each: 0.84 on average
// (0.75-0.95) with batches of 128, 0.97 (0.84-1.07) with 1,024.
const asyncResolveBatch = 1024

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
			n := min(len(reqs), asyncResolveBatch)
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
