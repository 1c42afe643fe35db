package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.Get, command{declareKeys: declareAddr(spanlatch.Read), eval: evalGet, waitsForLocks: true,
		// A locking read that found its key locks it.
		afterEval: func(u *lockTableUpdate, req rangepb.Request, res *rangepb.ResponseUnion) {
			if g := req.(*rangepb.GetRequest); u.canLock && g.ForUpdate && res.GetGet().GetFound() {
				_ = u.m.OnUnreplicatedLockAcquired(g.Key, *u.txn)
			}
		}})
}

// evalGet reads a key; a locking read in a transaction fails on a newer
// committed value (WriteTooOld) rather than lock what it did not read.
func evalGet(ec *evalCtx, rd kv.Reader, _ kv.ReadWriter, _ *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	g := req.(*rangepb.GetRequest)
	res, err := kv.MVCCGet(rd, g.Key, ec.readTs(ts), kv.MVCCGetOptions{Txn: ec.readTxn(), Uncertainty: ec.uncertainty(),
		FailOnMoreRecent: g.ForUpdate && ec.txn != nil})
	if err != nil {
		return nil, err
	}
	out := &rangepb.GetResponse{}
	if res.Value != nil {
		out.Found, out.Value, out.Timestamp = true, res.Value.RawBytes, tsToProto(res.Timestamp)
	}
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Get{Get: out}}, nil
}
