package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/concurrency"
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
		afterEval: func(u *lockTableUpdate, _ rangepb.Request, _ *rangepb.ResponseUnion) {
			if u.txn == nil || !isFinal(u.finalTxn.GetStatus()) {
				return
			}
			// Its intents here were resolved in the same command (and a
			// one-phase commit's were never left): every lock it holds in
			// this range goes, locking reads' too.
			end := u.desc.GetEndKey()
			if len(end) == 0 {
				end = kv.KeyMax
			}
			u.m.OnLockUpdated(concurrency.LockUpdate{
				Span: concurrency.Span{Key: u.desc.GetStartKey(), EndKey: end}, Txn: *u.txn, Status: statusToKV(u.finalTxn.Status),
			})
			u.m.OnTxnUpdated(recordOf(u.finalTxn))
		},
	})
}
