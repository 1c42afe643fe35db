package kvserver

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

// AmbiguousResultError: a write was proposed but its fate is unknown — it
// may or may not have applied. Callers must not assume either.
type AmbiguousResultError = rangepb.AmbiguousResultError

// Send serves a batch: admin requests, or reads and writes under the lease.
// Reads are evaluated on the leaseholder with no Raft round; writes are
// evaluated into a write batch and replicated through Raft, and answered
// once applied here.
func (r *Replica) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	r.mu.Lock()
	desc, destroyed := r.mu.desc, r.mu.destroyed
	r.mu.Unlock()
	if destroyed != nil {
		return nil, destroyed
	}
	if desc == nil {
		return nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Reason: "replica not initialized yet"}
	}
	if len(ba.Requests) == 1 && mergeExempt(ba.Requests[0]) {
		resp, _, err := r.maybeAdmin(ctx, ba.Requests[0])
		return resp, err
	}
	for {
		// A range frozen by a merge serves nothing until the merge is
		// decided (replica_merge.go); a request that got past this check
		// as the freeze applied finds it once it holds its latches.
		if err := r.waitUnfrozen(ctx); err != nil {
			return nil, err
		}
		if len(ba.Requests) == 1 {
			if resp, handled, err := r.maybeAdmin(ctx, ba.Requests[0]); handled {
				return resp, err
			}
		}
		r.recordLoad(ba)
		resp, err := r.sendWithConcurrency(ctx, ba, r.Desc(), nil)
		if err == nil && ba.Header.GetTxn() == nil && batchWrites(ba) {
			// A non-transactional write is its own commit: it waits out
			// a timestamp ahead of the clock like a transaction's (see
			// hlc.Clock.WaitPast).
			_ = r.store.clock.WaitPast(ctx, tsFromProto(resp.GetTimestamp()))
		}
		if !errors.Is(err, errFrozen) {
			return resp, err
		}
	}
}

// evaluateSequenced evaluates a batch once, under the lease, once
// sequenced: holding its latches, with no lock it knows of in its way (see
// sendWithConcurrency, replica_concurrency.go, for what happens around
// it). A pipelined write (canPipeline) is answered once proposed: applied
// then delivers the outcome of its command, and the caller keeps the
// batch's latches until it does. So does a write whose wait for its
// command was cut short (an ambiguous error with applied set).
func (r *Replica) evaluateSequenced(ctx context.Context, ba *rangepb.BatchRequest, desc *rangepb.RangeDescriptor, isWrite bool, trig commitTrigger) (
	_ *rangepb.BatchResponse, applied <-chan error, _ error) {
	// A split may have applied while the request waited for its latches
	// (the split holds latches over the whole range until it applies): its
	// keys must still be inside the range.
	if cur := r.Desc(); cur != desc {
		if _, _, err := r.collectSpans(ba, cur); err != nil {
			return nil, nil, err
		}
	}

	if f, _ := r.frozen(); f {
		return nil, nil, errFrozen
	}
	lease, err := r.redirectOrAcquireLease(ctx)
	if err != nil {
		return nil, nil, err
	}
	r.noteLease(lease)
	ts := r.store.clock.Now()
	if h := ba.Header; h != nil && h.Timestamp != nil && !isWrite {
		if rt := tsFromProto(h.Timestamp); !rt.IsEmpty() && rt.Less(ts) {
			ts = rt // a historical read
		}
	}
	ec := r.newEvalCtx(ba, desc, ts)
	ec.lease = lease
	if err := r.checkGCThreshold(ec, ba, ts); err != nil {
		return nil, nil, err
	}
	if err := r.checkAbortSpan(ec, ba); err != nil {
		return nil, nil, err
	}
	if !isWrite {
		ro := r.store.engine.NewReadOnly()
		defer ro.Close()
		resp := &rangepb.BatchResponse{Timestamp: tsToProto(ts)}
		for _, req := range ba.Requests {
			res, err := evaluate(ec, ro, nil, nil, req, ts)
			if err != nil {
				return nil, nil, err
			}
			resp.Responses = append(resp.Responses, res)
		}
		r.recordReads(ec, ba, ts)
		resp.Txn = ec.txn
		return resp, nil, nil
	}
	ts = r.forwardWriteTs(ec, ba, ts)

	// A batch of one request never reads its own writes: it reads the
	// engine (reusing iterators) and writes to a write-only batch.
	var b kv.Batch
	var rw kv.ReadWriter
	if len(ba.Requests) == 1 {
		b = r.store.engine.NewWriteOnlyBatch()
		ro := r.store.engine.NewReadOnly()
		defer ro.Close()
		rw = kv.NewReadWriter(ro, b)
	} else {
		b = r.store.engine.NewBatch()
		rw = b
	}
	defer b.Close()
	var ms kv.MVCCStats
	if err := ec.noteAbsentSpans(rw, ba); err != nil {
		return nil, nil, err
	}
	resp := &rangepb.BatchResponse{Timestamp: tsToProto(ts)}
	defer ec.endResolver()
	for _, req := range ba.Requests {
		if req.GetResolveIntent() == nil {
			ec.endResolver()
		}
		res, err := evaluate(ec, rw, rw, &ms, req, ts)
		if err != nil {
			r.recordFailedCondition(ec, err, ts)
			return nil, nil, err
		}
		if key, end, _, write := spanOf(req); write && len(end) == 0 && ec.txn != nil {
			ec.noteInBatch(key)
		}
		resp.Responses = append(resp.Responses, res)
	}
	ec.endResolver()
	result := &rangepb.ReplicatedResult{GcThreshold: ec.gcThreshold}
	if trig != nil {
		if err := trig.eval(ec, rw, &ms, result); err != nil {
			return nil, nil, err
		}
	}
	result.StatsDelta = statsToProto(ms)
	p := newProposal(&rangepb.RaftCommand{
		// A copy: the batch's buffer is recycled when it closes, while a
		// re-proposal may still need the bytes.
		WriteBatch:            append([]byte(nil), b.Repr()...),
		ProposerLeaseSequence: lease.Sequence,
		Timestamp:             tsToProto(ts),
		Result:                result,
	}, resp)
	r.recordReads(ec, ba, ts)
	resp.Txn = ec.txn
	if canPipeline(ba, resp) {
		if err := r.proposeBuffered(p); err != nil {
			return nil, nil, err
		}
		return resp, p.done, nil
	}
	br, pending, err := r.proposeAndWait(ctx, p)
	if err == nil {
		r.resolveAfterApply(ec)
	}
	return br, pending, err
}

// canPipeline reports whether a batch's writes may be answered before
// they apply (write pipelining): its coordinator asked (async_consensus),
// and it is a transaction's reads and writes of known keys (a DeleteRange
// listing the keys it deleted, at most rangepb.MaxPipelinedDeleteRangeKeys
// of them), with at most the HeartbeatTxn that creates its record —
// nothing that ends, pushes or resolves a transaction, whose outcome
// others act on at once. A DeleteRange that deleted more is answered
// once applied, without its keys: its coordinator tracks none of them.
func canPipeline(ba *rangepb.BatchRequest, resp *rangepb.BatchResponse) bool {
	if !ba.Header.GetAsyncConsensus() || ba.Header.GetTxn().GetMeta() == nil {
		return false
	}
	keys := 0
	for i, ru := range ba.Requests {
		if !ru.CanPipeline() {
			return false
		}
		keys += len(resp.Responses[i].GetDeleteRange().GetKeys())
	}
	if keys > rangepb.MaxPipelinedDeleteRangeKeys {
		for _, res := range resp.Responses {
			if dr := res.GetDeleteRange(); dr != nil {
				dr.Keys = nil
			}
		}
		return false
	}
	return true
}

// proposeAndWait proposes p and waits for it to apply. Ordinary writes go
// through the proposal buffer; configuration changes are proposed at once.
//
// If ctx ends (or the store stops) first, the answer is ambiguous and the
// command may still apply, maybe much later: a reproposal can put it in
// the log after commands evaluated since. pending then delivers its
// outcome, and a caller holding latches must keep them until it does
// (releaseAfter): the command was evaluated on the state those latches
// protect, and applied to a state others changed meanwhile it would act on
// what is no longer there (a resolution that saw an intent since resolved
// clears the lock record a newer intent wrote in its place, and that
// intent's value is left to read as committed).
func (r *Replica) proposeAndWait(ctx context.Context, p *proposal) (_ *rangepb.BatchResponse, pending <-chan error, _ error) {
	var err error
	if p.confChange == nil && !p.cmd.IsLeaseRequest && p.cmd.MaxLeaseIndex == 0 {
		err = r.proposeBuffered(p)
	} else {
		r.mu.Lock()
		err = r.proposeLocked(p)
		r.mu.Unlock()
	}
	if err != nil {
		return nil, nil, err
	}
	select {
	case err := <-p.done:
		if err != nil {
			var rej *leaseRejectedError
			if errors.As(err, &rej) {
				return nil, nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Lease: r.Lease(), Reason: rej.reason}
			}
			return nil, nil, err
		}
		return p.resp, nil, nil
	case <-ctx.Done():
		return nil, p.done, &AmbiguousResultError{Reason: "gave up waiting for the write to apply: " + ctx.Err().Error()}
	case <-r.store.stopper.ShouldQuiesce():
		return nil, p.done, &AmbiguousResultError{Reason: "the store is stopping"}
	}
}

// releaseAfter calls release once pending (a proposal's outcome, see
// proposeAndWait) has arrived, or at once if there is none. The store
// stopping releases too: nothing is evaluated here any more.
func (r *Replica) releaseAfter(pending <-chan error, release func()) {
	if pending == nil {
		release()
		return
	}
	stopper := r.store.stopper
	if err := stopper.RunAsyncTask("release-after-apply", func(ctx context.Context) {
		select {
		case <-pending:
		case <-stopper.ShouldQuiesce():
		}
		release()
	}); err != nil {
		release()
	}
}

// collectSpans lists the latches a batch needs and whether it writes,
// checking its keys against desc: each request's command declares its own.
func (r *Replica) collectSpans(ba *rangepb.BatchRequest, desc *rangepb.RangeDescriptor) ([]spanlatch.LatchSpan, bool, error) {
	d := &latchDecl{desc: desc, txn: ba.Header.GetTxn(), rangeID: r.rangeID, spans: make([]spanlatch.LatchSpan, 0, len(ba.Requests))}
	for _, ru := range ba.Requests {
		req := ru.Inner()
		if req == nil {
			return nil, false, errors.Newf("r%d: empty request", r.rangeID)
		}
		cmd := commands[req.Method()]
		if cmd == nil {
			return nil, false, errors.Newf("r%d: request %s must be sent alone", r.rangeID, req.Method())
		}
		if err := cmd.declareKeys(d, req); err != nil {
			return nil, false, err
		}
	}
	return d.spans, d.write, nil
}

// RangeKeyMismatchError: a request's keys are outside the range. Desc is
// the range as the replica knows it now; Ranges are other descriptors the
// replica's store holds that contain Key (after a split, the right-hand
// side), so that a client refreshes its range cache even while the meta2
// records lag behind the split (see replica_split.go).
type RangeKeyMismatchError = rangepb.RangeKeyMismatchError

func checkInRange(desc *rangepb.RangeDescriptor, key, end []byte) error {
	if desc == nil {
		return errors.New("range not initialized")
	}
	if string(key) < string(desc.StartKey) || (len(desc.EndKey) > 0 && string(key) >= string(desc.EndKey)) {
		return &RangeKeyMismatchError{Key: key, Desc: desc}
	}
	if len(end) > 0 && len(desc.EndKey) > 0 && string(end) > string(desc.EndKey) {
		return &RangeKeyMismatchError{Key: end, Desc: desc}
	}
	return nil
}

// evaluate runs one request at ts through its command (see command.eval).
func evaluate(ec *evalCtx, rd kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, ru *rangepb.RequestUnion, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	req := ru.Inner()
	if req == nil || commands[req.Method()] == nil {
		return nil, errors.Newf("unsupported request %T", ru.GetValue())
	}
	if rw == nil && !req.Method().Flags().Has(rangepb.IsReadOnly) {
		return nil, errors.AssertionFailedf("write %s evaluated as a read", req.Method())
	}
	return commands[req.Method()].eval(ec, rd, rw, ms, req, ts)
}
