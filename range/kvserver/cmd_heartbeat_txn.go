package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.HeartbeatTxn, command{
		declareKeys: func(d *latchDecl, req rangepb.Request) error {
			if err := d.needTxn(rangepb.HeartbeatTxn); err != nil {
				return err
			}
			return d.record(req.(*rangepb.HeartbeatTxnRequest).Key, txnID(d.txn.Meta), spanlatch.Write)
		},
		eval: func(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			out, err := evalHeartbeatTxn(ec, rw, ms, req.(*rangepb.HeartbeatTxnRequest))
			return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_HeartbeatTxn{HeartbeatTxn: out}}, err
		},
	})
}
