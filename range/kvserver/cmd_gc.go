package kvserver

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
	"google.golang.org/protobuf/proto"
)

// Garbage collection of old MVCC versions (the GC queue, gc_queue.go,
// decides when). A GCRequest raises the range's GC threshold and removes,
// of the keys it lists, the versions no read at or above the threshold can
// see (kv.MVCCGarbageCollect). Why that is safe without stopping traffic:
//
//   - A read or write at or below the threshold is refused
//     (checkGCThreshold) once it holds its latches. The threshold is part
//     of the applied state, so every later leaseholder refuses them too.
//   - A GC request holds write latches on the keys it removes versions of
//     until its command applies: a read of those keys that was let in
//     before the threshold rose has finished first, and one let in after
//     waits, then finds the new threshold and is refused.
//   - Reads and writes above the threshold never see what is removed: it
//     is shadowed by a version at or below the threshold, which is kept
//     (or by a tombstone, removed with what it shadows: nothing either
//     way).
//   - Intents are never removed; the threshold write latches a range-local
//     key of its own so that two GC requests' threshold changes are
//     ordered.
//
// Transaction records go too, once final (the GC queue first aborts an
// abandoned PENDING record and recovers an abandoned STAGING one) and
// last active at or below the threshold. A committed one goes only with
// its intents known resolved: those its commit left to resolve after it
// are listed next to it (writeFinalRecord) and the queue resolves them
// first, because a pusher that meets an intent of a transaction without a
// record aborts it. An aborted one may go with intents left: they are
// aborted again. A removed record must never come back as anything but
// ABORTED: a record is created only by a pusher (ABORTED) or by its own
// transaction, and the latter is refused for a transaction that began at
// or below the threshold (refuseRecordCreation), which every removed
// record's did.

// suffixGCThreshold names the latch key of GC threshold changes.
var suffixGCThreshold = []byte("gcth")

func gcThresholdLatchKey(id RangeID) []byte {
	return rangeIDKey(id, replicatedInfix, suffixGCThreshold)
}

func init() {
	registerCommand(rangepb.GC, command{
		declareKeys: declareGC,
		eval: func(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			return evalGC(ec, rw, ms, req.(*rangepb.GCRequest))
		},
	})
}

// declareGC declares a GC request's latches: the threshold, its keys and
// the records it may remove.
func declareGC(d *latchDecl, req rangepb.Request) error {
	gc := req.(*rangepb.GCRequest)
	d.local(gcThresholdLatchKey(d.rangeID), nil, spanlatch.Write)
	for _, key := range gc.Keys {
		if err := d.add(key, nil, spanlatch.Write); err != nil {
			return err
		}
	}
	for _, key := range gc.TxnRecords {
		anchor, ok := decodeTxnRecordKey(key)
		if !ok {
			return errors.Newf("r%d: GC of %q, which is not a transaction record", d.rangeID, key)
		}
		if err := checkInRange(d.desc, anchor, nil); err != nil {
			return err
		}
		d.local(key, nil, spanlatch.Write)
	}
	return nil
}

// evalGC evaluates a GC request into rw, recording a raised threshold in
// ec for the command's replicated result.
func evalGC(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, req *rangepb.GCRequest) (*rangepb.ResponseUnion, error) {
	th := ec.r.gcThreshold()
	if nt := tsFromProto(req.Threshold); th.Less(nt) {
		// A threshold above the clock would refuse the present.
		if ec.now.Less(nt) {
			return nil, errors.Newf("r%d: GC threshold %s is above the clock (%s)", ec.r.rangeID, nt, ec.now)
		}
		th = nt
		ec.gcThreshold = req.Threshold
	}
	res, err := kv.MVCCGarbageCollectKeys(rw, ms, req.Keys, th)
	if err != nil {
		return nil, err
	}
	if err := gcAbortSpan(rw, ec.r.rangeID, th); err != nil {
		return nil, err
	}
	out := &rangepb.GCResponse{VersionsRemoved: res.VersionsRemoved}
	for _, key := range req.TxnRecords {
		rec, err := readRecord(rw, key)
		if err != nil {
			return nil, err
		}
		if rec == nil || !isFinal(rec.Status) || th.Less(recordActive(rec)) ||
			(rec.Status == rangepb.TransactionStatus_COMMITTED && !rec.IntentsKnown) {
			continue
		}
		if err := kv.MVCCDeleteUnversioned(rw, ms, key); err != nil {
			return nil, err
		}
		if err := kv.MVCCDeleteUnversioned(rw, ms, TxnLockSpansKey(rec.Meta.Key, txnID(rec.Meta))); err != nil {
			return nil, err
		}
		out.TxnRecordsRemoved++
	}
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Gc{Gc: out}}, nil
}

// recordActive is when a transaction record last showed its transaction
// doing anything: its start, its last heartbeat, its write timestamp.
func recordActive(rec *rangepb.TxnRecord) hlc.Timestamp {
	ts := tsFromProto(rec.Meta.GetMinTimestamp())
	ts.Forward(tsFromProto(rec.LastHeartbeat))
	ts.Forward(tsFromProto(rec.Meta.GetWriteTimestamp()))
	return ts
}

// refuseRecordCreation refuses to create the record of txn if it began at
// or below the range's GC threshold: its record may have been removed
// after it finished (see the file comment).
func refuseRecordCreation(ec *evalCtx) error {
	if th := ec.r.gcThreshold(); !th.IsEmpty() && tsFromProto(ec.txn.Meta.MinTimestamp).LessEq(th) {
		return &TransactionAbortedError{Txn: ec.txn}
	}
	return nil
}

// gcThreshold returns the range's GC threshold as applied here.
func (r *Replica) gcThreshold() hlc.Timestamp {
	r.mu.Lock()
	defer r.mu.Unlock()
	return tsFromProto(r.mu.state.GetGcThreshold())
}

// GCThreshold returns the range's GC threshold as applied on this replica.
func (r *Replica) GCThreshold() hlc.Timestamp { return r.gcThreshold() }

// checkGCThreshold refuses a batch that reads or writes user keys at or
// below the range's GC threshold: what it would read may be gone, and a
// write there could be shadowed by nothing a reader expects. A refresh
// counts from the timestamp it refreshes from (it looks for writes above
// it, some of which may have been removed).
func (r *Replica) checkGCThreshold(ec *evalCtx, ba *rangepb.BatchRequest, ts hlc.Timestamp) error {
	th := r.gcThreshold()
	if th.IsEmpty() {
		return nil
	}
	for _, ru := range ba.Requests {
		_, _, read, write := spanOf(ru)
		if !read && !write {
			continue
		}
		at := ec.readTs(ts)
		if rf, ok := ru.Inner().(interface{ GetRefreshFrom() *rangepb.Timestamp }); ok {
			at = tsFromProto(rf.GetRefreshFrom())
		}
		if at.LessEq(th) {
			return &kv.BatchTimestampBeforeGCError{Timestamp: at, Threshold: th}
		}
	}
	return nil
}

// readTxnLockSpans reads the spans a committed transaction left to resolve
// after its commit (writeFinalRecord).
func readTxnLockSpans(rd kv.Reader, anchor []byte, id kv.TxnID) ([]*rangepb.Span, error) {
	v, err := kv.MVCCGetUnversioned(rd, TxnLockSpansKey(anchor, id))
	if err != nil || v == nil {
		return nil, err
	}
	ls := &rangepb.TxnLockSpans{}
	if err := proto.Unmarshal(v.RawBytes, ls); err != nil {
		return nil, errors.Wrapf(err, "decoding the lock spans of txn %s", id.Short())
	}
	return ls.Spans, nil
}
