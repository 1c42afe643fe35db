package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.WaitsFor, command{
		declareKeys: func(d *latchDecl, req rangepb.Request) error {
			// The edges are the store's memory, not the record's; the
			// latch only checks that the record is this range's.
			q := req.(*rangepb.WaitsForRequest)
			return d.record(q.Key, txnID(q.Txn), spanlatch.Read)
		},
		eval: evalWaitsFor,
	})
}

// evalWaitsFor publishes or withdraws an edge of the wait-for graph at the
// waiter's record and lists the waiter's edges (range/concurrency's
// wait_graph.go). The edges live in the leaseholder's memory: they say
// what is waiting now, which a restart or a lease transfer ends anyway.
func evalWaitsFor(ec *evalCtx, _ kv.Reader, _ kv.ReadWriter, _ *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	q := req.(*rangepb.WaitsForRequest)
	var pushee *kv.TxnMeta
	if q.Pushee != nil {
		m := metaToKV(q.Pushee)
		pushee = &m
	}
	edges := ec.r.store.publishedWaits.Update(txnID(q.Txn), pushee, q.Withdraw, ec.now)
	out := &rangepb.WaitsForResponse{}
	for _, e := range edges {
		out.Pushees = append(out.Pushees, metaFromKV(e))
	}
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_WaitsFor{WaitsFor: out}}, nil
}
