package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.QueryTxn, command{
		declareKeys: func(d *latchDecl, req rangepb.Request) error {
			q := req.(*rangepb.QueryTxnRequest)
			return d.record(q.Key, txnID(q.Txn), spanlatch.Read)
		},
		eval: evalQueryTxn,
	})
}

// evalQueryTxn reads a transaction's record.
func evalQueryTxn(_ *evalCtx, rd kv.Reader, _ kv.ReadWriter, _ *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	q := req.(*rangepb.QueryTxnRequest)
	rec, err := readRecord(rd, TxnRecordKey(q.Key, txnID(q.Txn)))
	out := &rangepb.QueryTxnResponse{}
	if rec != nil {
		out.Found, out.QueriedTxn = true, recordTxn(rec, nil)
	}
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_QueryTxn{QueryTxn: out}}, err
}
