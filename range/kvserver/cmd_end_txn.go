package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.EndTxn, command{
		// The record, and the intents it resolves in its own command.
		declareKeys: func(d *latchDecl, req rangepb.Request) error {
			et := req.(*rangepb.EndTxnRequest)
			if err := d.needTxn(rangepb.EndTxn); err != nil {
				return err
			}
			if err := d.record(et.Key, txnID(d.txn.Meta), spanlatch.Write); err != nil {
				return err
			}
			for _, s := range et.LockSpans {
				if in, ok := clipSpan(s, d.desc); ok {
					d.local(in.Key, in.EndKey, spanlatch.Write)
				}
			}
			return nil
		},
		eval: func(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			out, err := evalEndTxn(ec, rw, ms, req.(*rangepb.EndTxnRequest))
			return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_EndTxn{EndTxn: out}}, err
		},
	})
}
