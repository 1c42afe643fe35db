package kvserver

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
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

// suffixGCThreshold names the latch key of GC threshold changes.
var suffixGCThreshold = []byte("gcth")

func gcThresholdLatchKey(id RangeID) []byte {
	return rangeIDKey(id, replicatedInfix, suffixGCThreshold)
}

// gcSpans are a GC request's latches: its keys and the threshold.
func gcSpans(id RangeID, req *rangepb.GCRequest, desc *rangepb.RangeDescriptor) ([]spanlatch.LatchSpan, error) {
	k := gcThresholdLatchKey(id)
	spans := []spanlatch.LatchSpan{{Span: spanlatch.Span{Key: k, EndKey: append(k[:len(k):len(k)], 0)}, Access: spanlatch.Write}}
	for _, key := range req.Keys {
		if err := checkInRange(desc, key, nil); err != nil {
			return nil, err
		}
		spans = append(spans, spanlatch.LatchSpan{Span: spanlatch.Span{Key: key, EndKey: append(key[:len(key):len(key)], 0)}, Access: spanlatch.Write})
	}
	return spans, nil
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
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Gc{Gc: &rangepb.GCResponse{VersionsRemoved: res.VersionsRemoved}}}, nil
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
		switch req := ru.Value.(type) {
		case *rangepb.RequestUnion_Refresh:
			at = tsFromProto(req.Refresh.RefreshFrom)
		case *rangepb.RequestUnion_RefreshRange:
			at = tsFromProto(req.RefreshRange.RefreshFrom)
		}
		if at.LessEq(th) {
			return &kv.BatchTimestampBeforeGCError{Timestamp: at, Threshold: th}
		}
	}
	return nil
}
