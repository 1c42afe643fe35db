package kvserver

// Range merges, after CockroachDB's AdminMerge.
//
// AdminMerge goes to the leaseholder of the left range L and merges its
// right-hand neighbour R into it; R's replicas must be on the same stores
// as L's (the data does not move: every store's replica of L takes over
// the keys its replica of R holds). It runs as an internal transaction
// (replica_internal_txn.go) anchored at L's start key:
//
//  1. It writes meta2 as intents: L's old record (at L's end key) goes, the
//     merged descriptor replaces R's record (at R's end key).
//  2. Subsume, sent to R's leaseholder, freezes R: under latches over all of
//     R, a Raft command marks R frozen by the merge transaction (a
//     replicated range-ID key, mergeFreezeKey, applied with a synced
//     batch), so no replica of R, whichever holds the lease, serves
//     anything but lease requests until the transaction is final. It
//     waits until every replica of R has applied the freeze and answers
//     with R's stats and a timestamp above every read R served.
//  3. The EndTxn, evaluated on L with a merge trigger under latches over
//     all of L, commits the record and the merge in one Raft command. Each
//     replica of L applies it in one batch with its store's replica of R
//     (which has applied the freeze, so holds all of R's data): L's
//     descriptor grows over R, its stats take R's, R's range-ID state is
//     deleted and a tombstone keeps R from coming back. The leaseholder's
//     timestamp cache takes R's freeze timestamp for R's keys, so no write
//     lands below a read R served.
//
// If the transaction aborts instead (it lost a race, its coordinator died
// and a push aborted it), R's replicas learn it from its record: each
// frozen replica watches the record (watchMerge) and R's leaseholder thaws
// R with another command. Requests waiting at a merged-away replica of R
// get a RangeNotFoundError, and their DistSender finds the merged range in
// meta2.
//
// A replica of L that reaches the merge by a snapshot (it fell behind
// past log truncation after the merge committed) still holds its replica
// of R: the snapshot, of a higher generation and covering R's span,
// removes it first (Store.handleSnapshot).

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"sort"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
	"google.golang.org/protobuf/proto"
)

// errFrozen: the range is frozen by a merge; the request waits and tries
// again (see Replica.Send).
var errFrozen = errors.New("the range is frozen by a merge")

// CannotMergeError: the range cannot be merged with its neighbour (none,
// or not colocated). Nothing changed.
type CannotMergeError = rangepb.CannotMergeError

// adminMerge merges the range with its right-hand neighbour, retrying a
// merge that lost a race.
func (r *Replica) adminMerge(ctx context.Context) (*rangepb.AdminMergeResponse, error) {
	for attempt := 0; ; attempt++ {
		res, err := r.adminMergeOnce(ctx)
		if err == nil || !isInternalTxnRetry(err) || attempt >= 10 || ctx.Err() != nil {
			return res, err
		}
		if err := sleepCtx(ctx, pollInterval*time.Duration(attempt+1)); err != nil {
			return nil, err
		}
	}
}

func (r *Replica) adminMergeOnce(ctx context.Context) (*rangepb.AdminMergeResponse, error) {
	if _, err := r.redirectOrAcquireLease(ctx); err != nil {
		return nil, err
	}
	left, err := r.waitNotJoint(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkAllVoters(left); err != nil {
		return nil, err
	}
	if len(left.EndKey) == 0 || bytes.Equal(left.EndKey, kv.KeyMax) {
		return nil, &CannotMergeError{RangeId: int64(r.rangeID), Reason: "it is the last range"}
	}
	var right *rangepb.RangeDescriptor
	for _, d := range r.store.descsContaining(left.EndKey, r.rangeID) {
		if bytes.Equal(d.StartKey, left.EndKey) {
			right = d
		}
	}
	if right == nil {
		return nil, &CannotMergeError{RangeId: int64(r.rangeID), Reason: "this store holds no replica of it"}
	}
	for _, id := range r.store.cfg.ExpirationLeaseRanges {
		if int64(id) == left.RangeId || int64(id) == right.RangeId {
			// The liveness range keeps its own expiration-based leases:
			// merged with a neighbour, its records would sit under an
			// epoch-based lease that rests on them.
			return nil, &CannotMergeError{RangeId: int64(r.rangeID), Reason: errors.Newf("r%d keeps expiration-based leases", id).Error()}
		}
	}
	if !sameStores(left, right) {
		return nil, &CannotMergeError{RangeId: int64(r.rangeID), Reason: errors.Newf("its replicas (r%d) are not on the same stores", right.RangeId).Error()}
	}
	if err := checkAllVoters(right); err != nil {
		return nil, err
	}
	merged := proto.Clone(left).(*rangepb.RangeDescriptor)
	merged.EndKey = append([]byte(nil), right.EndKey...)
	merged.Generation = max(left.Generation, right.Generation) + 1

	t, err := r.beginInternalTxn(ctx, "merge", left)
	if err != nil {
		return nil, err
	}
	err = t.write(ctx,
		&rangepb.RequestUnion{Value: &rangepb.RequestUnion_Delete{Delete: &rangepb.DeleteRequest{Key: kv.Meta2Key(descEndKey(left))}}},
		&rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: meta2Put(merged)}})
	var sub *rangepb.SubsumeResponse
	if err == nil {
		sub, err = r.sendSubsume(ctx, left, right, t.txn.Meta)
	}
	if err == nil {
		if h := r.store.mergeHook.Load(); h != nil {
			err = (*h)(RangeID(right.RangeId))
		}
	}
	if err == nil {
		err = t.commit(ctx, &mergeTrigger{mt: &rangepb.MergeTrigger{
			LeftDesc: merged, RightDesc: right, RightStats: sub.Stats, FreezeStart: sub.FreezeStart, RightGcThreshold: sub.GcThreshold,
			ExpectedGeneration: left.Generation, RightAppliedIndex: sub.AppliedIndex,
		}})
	}
	if err != nil {
		// A frozen right-hand range thaws once it sees the record aborted.
		if !errors.Is(err, ErrAbandonMerge) {
			t.rollback(ctx)
		}
		return nil, errors.Wrapf(err, "r%d: merging r%d", r.rangeID, right.RangeId)
	}
	return &rangepb.AdminMergeResponse{Merged: merged}, nil
}

// sameStores reports whether a and b have replicas on the same stores.
func sameStores(a, b *rangepb.RangeDescriptor) bool {
	stores := func(d *rangepb.RangeDescriptor) []int32 {
		var out []int32
		for _, rd := range d.Replicas {
			out = append(out, rd.StoreId)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	sa, sb := stores(a), stores(b)
	if len(sa) != len(sb) {
		return false
	}
	for i := range sa {
		if sa[i] != sb[i] {
			return false
		}
	}
	return true
}

func (r *Replica) sendSubsume(ctx context.Context, left, right *rangepb.RangeDescriptor, txn *rangepb.TxnMeta) (*rangepb.SubsumeResponse, error) {
	if r.store.cfg.MetaSender == nil {
		return nil, errors.New("merging needs StoreConfig.MetaSender")
	}
	data, err := proto.Marshal(txn)
	if err != nil {
		return nil, err
	}
	br, err := r.store.cfg.MetaSender.Send(ctx, RangeID(right.RangeId), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Subsume{
		Subsume: &rangepb.SubsumeRequest{LeftDesc: left, RightDesc: right, MergeTxn: data},
	}})
	if err != nil {
		return nil, errors.Wrapf(err, "subsuming r%d", right.RangeId)
	}
	return br.Responses[0].GetSubsume(), nil
}

// subsume freezes this range for the merge of req (see the file comment).
func (r *Replica) subsume(ctx context.Context, req *rangepb.SubsumeRequest) (*rangepb.SubsumeResponse, error) {
	if _, err := r.redirectOrAcquireLease(ctx); err != nil {
		return nil, err
	}
	g, err := r.latches.Acquire(ctx, wholeRangeLatches(r.Desc()))
	if err != nil {
		return nil, err
	}
	var pending <-chan error
	defer func() { r.releaseAfter(pending, func() { r.latches.Release(g) }) }()
	lease, err := r.redirectOrAcquireLease(ctx)
	if err != nil {
		return nil, err
	}
	desc := r.Desc()
	if desc.RangeId != req.RightDesc.GetRangeId() || desc.Generation != req.RightDesc.GetGeneration() ||
		!bytes.Equal(desc.StartKey, req.LeftDesc.GetEndKey()) || isJoint(desc) {
		return nil, errors.Mark(errors.Newf("r%d: the right-hand range changed (generation %d, planned on %d)",
			r.rangeID, desc.Generation, req.RightDesc.GetGeneration()), errDescChanged)
	}
	r.mu.Lock()
	cur := r.mu.mergeFreeze
	r.mu.Unlock()
	switch {
	case cur != nil && !bytes.Equal(cur.MergeTxn, req.MergeTxn):
		return nil, errors.Mark(errors.Newf("r%d is frozen by another merge", r.rangeID), errDescChanged)
	case cur == nil:
		p := newProposal(&rangepb.RaftCommand{
			ProposerLeaseSequence: lease.Sequence,
			Result:                &rangepb.ReplicatedResult{Freeze: &rangepb.MergeFreeze{MergeTxn: req.MergeTxn}},
		}, &rangepb.BatchResponse{})
		if _, pending, err = r.proposeAndWait(ctx, p); err != nil {
			return nil, errors.Wrapf(err, "r%d: freezing for a merge", r.rangeID)
		}
	}
	idx := r.AppliedIndex()
	for _, rd := range desc.Replicas {
		if rd.ReplicaId == r.ReplicaID() {
			continue
		}
		if _, err := r.store.transport.SendBatch(ctx, NodeID(rd.NodeId), &rangepb.BatchRequest{
			Header: &rangepb.BatchHeader{RangeId: int64(r.rangeID), Replica: rd},
			Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_WaitApplied{
				WaitApplied: &rangepb.WaitAppliedRequest{AppliedIndex: idx},
			}}},
		}); err != nil {
			return nil, errors.Wrapf(err, "r%d: waiting for replica %d to apply the freeze", r.rangeID, rd.ReplicaId)
		}
	}
	freeze, _ := r.tsCache().GetMax(desc.StartKey, descEndKey(desc))
	freeze.Forward(r.store.clock.Now())
	r.mu.Lock()
	stats := proto.Clone(r.mu.state.Stats).(*rangepb.MVCCStats)
	applied, gcThreshold := r.mu.state.RaftAppliedIndex, r.mu.state.GcThreshold
	r.mu.Unlock()
	return &rangepb.SubsumeResponse{Stats: stats, FreezeStart: tsToProto(freeze), AppliedIndex: applied, GcThreshold: gcThreshold}, nil
}

// waitApplied waits until this replica has applied index.
func (r *Replica) waitApplied(ctx context.Context, index uint64) error {
	for r.AppliedIndex() < index {
		r.mu.Lock()
		destroyed := r.mu.destroyed
		r.mu.Unlock()
		if destroyed != nil {
			return destroyed
		}
		if err := sleepCtx(ctx, pollInterval); err != nil {
			return errors.Wrapf(err, "r%d: waiting to apply index %d", r.rangeID, index)
		}
	}
	return nil
}

// mergeTrigger is the commit trigger of a merge transaction.
type mergeTrigger struct {
	mt *rangepb.MergeTrigger
}

func (t *mergeTrigger) latchSpans(desc *rangepb.RangeDescriptor) []spanlatch.LatchSpan {
	return wholeRangeLatches(desc)
}

func (t *mergeTrigger) eval(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, res *rangepb.ReplicatedResult) error {
	if ec.txn.GetStatus() != rangepb.TransactionStatus_COMMITTED {
		return errors.AssertionFailedf("r%d: a merge trigger with an EndTxn that did not commit", ec.r.rangeID)
	}
	if err := checkMerge(ec.r.Desc(), t.mt); err != nil {
		return errors.Mark(err, errDescChanged)
	}
	res.Merge = t.mt
	return nil
}

// checkMerge decides, identically on every replica, whether a merge may
// apply: only to the descriptor it was evaluated against.
func checkMerge(desc *rangepb.RangeDescriptor, mt *rangepb.MergeTrigger) error {
	if desc == nil || desc.Generation != mt.ExpectedGeneration || desc.RangeId != mt.LeftDesc.GetRangeId() ||
		!bytes.Equal(descEndKey(desc), mt.RightDesc.GetStartKey()) || isJoint(desc) {
		return errors.Newf("merge rejected: the range descriptor changed while the merge was in flight")
	}
	return nil
}

// mergedRHS is the right-hand replica of a merge being applied here; the
// applying goroutine holds its raftMu while it exists.
type mergedRHS struct {
	r           *Replica
	freezeStart *rangepb.Timestamp
	span        kv.Span
}

// prepareMergeRHS writes into b the deletion of the right-hand range's
// range-ID state (its data stays: it is the left's now) and a tombstone.
// It waits, if need be, for this store's replica of it to have applied
// the freeze: Subsume waited for that before the merge committed, so only
// a replica replaying its log after a restart waits here.
func (s *Store) prepareMergeRHS(b kv.Batch, mt *rangepb.MergeTrigger) (*mergedRHS, error) {
	id := RangeID(mt.RightDesc.RangeId)
	for {
		if r, err := s.GetReplica(id); err == nil {
			r.raftMu.Lock()
			r.mu.Lock()
			ok := r.mu.desc != nil && r.mu.destroyed == nil && r.mu.state.RaftAppliedIndex >= mt.RightAppliedIndex
			r.mu.Unlock()
			if ok {
				// The left keeps the right's abort span: its transactions
				// are the merged range's now.
				if err := copyAbortSpan(b, b, id, RangeID(mt.LeftDesc.RangeId)); err != nil {
					r.raftMu.Unlock()
					return nil, err
				}
				sp := rangeIDSpan(id)
				if err := b.ClearRange(sp.Key, sp.EndKey); err != nil {
					r.raftMu.Unlock()
					return nil, err
				}
				if err := b.Put(kv.MVCCKey{Key: tombstoneKey(id)}, tombstoneValue(math.MaxInt32)); err != nil {
					r.raftMu.Unlock()
					return nil, err
				}
				return &mergedRHS{r: r, freezeStart: mt.FreezeStart,
					span: kv.Span{Key: mt.RightDesc.StartKey, EndKey: descEndKey(mt.RightDesc)}}, nil
			}
			r.raftMu.Unlock()
		}
		select {
		case <-s.stopper.ShouldQuiesce():
			return nil, errors.Newf("r%d: stopping while a merge waited for the right-hand replica", id)
		default:
		}
		if err := sleepCtx(context.Background(), pollInterval); err != nil {
			return nil, err
		}
	}
}

// finish, once the merge's batch is committed, retires the right-hand
// replica: requests waiting on it get a RangeNotFoundError.
func (x *mergedRHS) finish(left *Replica) {
	r, s := x.r, x.r.store
	r.mu.Lock()
	r.mu.destroyed = errors.Mark(errors.Newf("r%d was merged into r%d", r.rangeID, left.rangeID), ErrReplicaDestroyed)
	r.failProposalsLocked(r.mu.destroyed)
	r.mu.Unlock()
	s.mu.Lock()
	if s.mu.replicas[r.rangeID] == r {
		delete(s.mu.replicas, r.rangeID)
	}
	s.mu.Unlock()
	r.raftMu.Unlock()
	// What the right-hand range's leaseholder wrote, before the freeze, is
	// certain only for reads that observed a clock past the freeze.
	s.mergeFloor.raise(tsFromProto(x.freezeStart))
	// Reads the right-hand range served stay below every write the merged
	// range takes on its keys.
	if l := left.Lease(); l.GetReplica().GetNodeId() == int32(s.nodeID) {
		left.tsCache().Add(x.span.Key, x.span.EndKey, tsFromProto(x.freezeStart), kv.TxnID{})
	}
}

func (x *mergedRHS) abort() { x.r.raftMu.Unlock() }

func tombstoneValue(nextReplicaID int32) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(nextReplicaID))
}

// frozen reports whether a merge froze the range, and whether the replica
// is gone.
func (r *Replica) frozen() (frozen bool, destroyed error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.mergeFreeze != nil, r.mu.destroyed
}

// waitUnfrozen waits while a merge holds the range frozen. A replica
// merged away answers RangeNotFoundError: the keys are another range's.
func (r *Replica) waitUnfrozen(ctx context.Context) error {
	for {
		f, destroyed := r.frozen()
		if destroyed != nil {
			return &RangeNotFoundError{RangeId: int64(r.rangeID), NodeId: int32(r.store.nodeID)}
		}
		if !f {
			return nil
		}
		r.ensureMergeWatcher()
		if err := sleepCtx(ctx, pollInterval); err != nil {
			return errors.Wrapf(err, "r%d: waiting for a merge", r.rangeID)
		}
	}
}

// mergeExempt tells the requests a frozen range still serves.
func mergeExempt(ru *rangepb.RequestUnion) bool { return ru.Flags().Has(rangepb.ServedFrozen) }

// ensureMergeWatcher starts watchMerge unless it runs.
func (r *Replica) ensureMergeWatcher() {
	if !r.mergeWatching.CompareAndSwap(false, true) {
		return
	}
	if err := r.store.stopper.RunAsyncTask("merge-watch", r.watchMerge); err != nil {
		r.mergeWatching.Store(false)
	}
}

// watchMerge follows the merge transaction that froze the range until the
// range thaws or is merged away: once the transaction is aborted (also by
// this push, when its coordinator stopped heartbeating), the leaseholder
// thaws the range.
func (r *Replica) watchMerge(ctx context.Context) {
	defer r.mergeWatching.Store(false)
	for {
		r.mu.Lock()
		f, destroyed := r.mu.mergeFreeze, r.mu.destroyed
		r.mu.Unlock()
		if f == nil || destroyed != nil || r.store.cfg.TxnSender == nil {
			return
		}
		meta := &rangepb.TxnMeta{}
		if err := proto.Unmarshal(f.MergeTxn, meta); err != nil {
			return
		}
		br, err := r.store.cfg.TxnSender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{},
			Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_PushTxn{PushTxn: &rangepb.PushTxnRequest{
				Key: meta.Key, Pushee: meta, PushTo: tsToProto(r.store.clock.Now()), PushType: rangepb.PushTxnType_PUSH_ABORT,
			}}}}})
		if err == nil && br.Responses[0].GetPushTxn().GetPusheeTxn().GetStatus() == rangepb.TransactionStatus_ABORTED {
			// Only the leaseholder's command counts; another replica's
			// attempt is redirected and ignored.
			_ = r.proposeAdmin(ctx, &rangepb.ReplicatedResult{Freeze: &rangepb.MergeFreeze{MergeTxn: f.MergeTxn, Clear: true}}, nil)
		}
		if sleepCtx(ctx, 10*pollInterval) != nil {
			return
		}
	}
}

// applyFreeze writes a freeze (or thaw) into b; it returns the replica's
// new freeze state and whether it changed.
func applyFreeze(b kv.Writer, id RangeID, cur, fr *rangepb.MergeFreeze) (*rangepb.MergeFreeze, bool, error) {
	if fr.Clear {
		if cur == nil || !bytes.Equal(cur.MergeTxn, fr.MergeTxn) {
			return cur, false, nil
		}
		return nil, true, b.Clear(kv.MVCCKey{Key: mergeFreezeKey(id)})
	}
	if cur != nil {
		return cur, false, nil
	}
	return fr, true, putProto(b, mergeFreezeKey(id), fr)
}
