package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/concurrency"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.ResolveIntent, command{declareKeys: declareAddr(spanlatch.Write), eval: evalResolveIntent,
		afterEval: func(u *lockTableUpdate, req rangepb.Request, _ *rangepb.ResponseUnion) {
			ri := req.(*rangepb.ResolveIntentRequest)
			u.m.OnLockUpdated(concurrency.LockUpdate{Span: concurrency.Span{Key: ri.Key}, Txn: metaToKV(ri.Txn), Status: statusToKV(ri.Status)})
		}})
}

// evalResolveIntent commits or aborts a transaction's intent on a key.
// Consecutive ResolveIntents of a batch (the intent resolver's) share one
// iterator (ec.resolver, which any other request ends).
func evalResolveIntent(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	ri := req.(*rangepb.ResolveIntentRequest)
	if ec.resolver == nil {
		ec.resolver = kv.NewIntentResolver(rw)
	}
	ok, err := ec.resolver.Resolve(ms, kv.LockUpdate{
		Span: kv.Span{Key: ri.Key}, Txn: metaToKV(ri.Txn), Status: statusToKV(ri.Status),
		IgnoredSeqNums: seqRangesToKV(ri.IgnoredSeqNums), KeepMarker: ec.r.hotLocks.keep,
	})
	if err == nil {
		err = updateAbortSpan(ec, rw, ri.Txn, ri.Status, ri.Poison, ok)
	}
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_ResolveIntent{ResolveIntent: &rangepb.ResolveIntentResponse{Resolved: ok}}}, err
}
