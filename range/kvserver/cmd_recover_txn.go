package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.RecoverTxn, command{
		declareKeys: func(d *latchDecl, req rangepb.Request) error {
			r := req.(*rangepb.RecoverTxnRequest)
			return d.record(r.Key, txnID(r.Txn), spanlatch.Write)
		},
		eval: func(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			out, err := evalRecoverTxn(ec, rw, ms, req.(*rangepb.RecoverTxnRequest))
			return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_RecoverTxn{RecoverTxn: out}}, err
		},
		afterEval: txnUpdated(func(res *rangepb.ResponseUnion) *rangepb.Transaction { return res.GetRecoverTxn().GetRecoveredTxn() }),
	})
}
