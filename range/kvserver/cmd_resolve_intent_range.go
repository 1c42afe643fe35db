package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/concurrency"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.ResolveIntentRange, command{declareKeys: declareAddr(spanlatch.Write), eval: evalResolveIntentRange,
		afterEval: func(u *lockTableUpdate, req rangepb.Request, _ *rangepb.ResponseUnion) {
			ri := req.(*rangepb.ResolveIntentRangeRequest)
			u.m.OnLockUpdated(concurrency.LockUpdate{
				Span: concurrency.Span{Key: ri.Span.GetKey(), EndKey: ri.Span.GetEndKey()}, Txn: metaToKV(ri.Txn), Status: statusToKV(ri.Status),
			})
		}})
}

// evalResolveIntentRange commits or aborts a transaction's intents in a
// span and counts them.
func evalResolveIntentRange(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	ri := req.(*rangepb.ResolveIntentRangeRequest)
	s := ri.Span
	n, _, err := kv.MVCCResolveIntentRange(rw, ms, kv.LockUpdate{
		Span: kv.Span{Key: s.GetKey(), EndKey: s.GetEndKey()}, Txn: metaToKV(ri.Txn),
		Status: statusToKV(ri.Status), IgnoredSeqNums: seqRangesToKV(ri.IgnoredSeqNums),
		KeepMarker: ec.r.hotLocks.keep,
	}, 0)
	if err == nil {
		err = updateAbortSpan(ec, rw, ri.Txn, ri.Status, ri.Poison, n > 0)
	}
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_ResolveIntentRange{ResolveIntentRange: &rangepb.ResolveIntentRangeResponse{Resolved: n}}}, err
}
