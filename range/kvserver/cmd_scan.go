package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.Scan, command{declareKeys: declareAddr(spanlatch.Read), eval: evalScan, waitsForLocks: true,
		// A locking scan locks the rows it found.
		afterEval: func(u *lockTableUpdate, req rangepb.Request, res *rangepb.ResponseUnion) {
			if u.canLock && req.(*rangepb.ScanRequest).ForUpdate {
				for _, row := range res.GetScan().GetRows() {
					_ = u.m.OnUnreplicatedLockAcquired(row.Key, *u.txn)
				}
			}
		}})
}

// evalScan reads a span, forwards or backwards, up to its key and byte
// limits (the rest is its resume key).
func evalScan(ec *evalCtx, rd kv.Reader, _ kv.ReadWriter, _ *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	s := req.(*rangepb.ScanRequest)
	res, err := kv.MVCCScan(rd, s.Span.GetKey(), s.Span.GetEndKey(), ec.readTs(ts), kv.MVCCScanOptions{
		Txn: ec.readTxn(), Uncertainty: ec.uncertainty(), Reverse: s.Reverse, MaxKeys: s.MaxKeys, TargetBytes: s.MaxBytes,
		FailOnMoreRecent: s.ForUpdate && ec.txn != nil,
	})
	if err != nil {
		return nil, err
	}
	out := &rangepb.ScanResponse{}
	for _, row := range res.KVs() {
		out.Rows = append(out.Rows, &rangepb.KeyValue{Key: row.Key, Value: row.Value.RawBytes, Timestamp: tsToProto(row.Timestamp)})
	}
	if res.ResumeSpan != nil {
		out.ResumeKey = res.ResumeSpan.Key
		if s.Reverse {
			out.ResumeKey = res.ResumeSpan.EndKey
		}
	}
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Scan{Scan: out}}, nil
}
