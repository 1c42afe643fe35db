package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.PushTxn, command{
		declareKeys: func(d *latchDecl, req rangepb.Request) error {
			p := req.(*rangepb.PushTxnRequest)
			return d.record(p.Key, txnID(p.Pushee), spanlatch.Write)
		},
		eval: func(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			out, err := evalPushTxn(ec, rw, ms, req.(*rangepb.PushTxnRequest))
			return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_PushTxn{PushTxn: out}}, err
		},
		afterEval: txnUpdated(func(res *rangepb.ResponseUnion) *rangepb.Transaction { return res.GetPushTxn().GetPusheeTxn() }),
	})
}
