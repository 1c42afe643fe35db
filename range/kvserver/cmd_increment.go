package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.Increment, command{declareKeys: declareAddr(spanlatch.Write), eval: evalIncrement,
		waitsForLocks: true, afterEval: acquiredWrittenKey})
}

// evalIncrement adds to an integer value and returns the new one; its
// read must be fresh (see freshWriteOpts).
func evalIncrement(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	inc := req.(*rangepb.IncrementRequest)
	n, err := kv.MVCCIncrement(rw, ms, inc.Key, ts, inc.Increment, ec.freshWriteOpts(inc.Key, inc.Sequence))
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Increment{Increment: &rangepb.IncrementResponse{NewValue: n}}}, ec.readNotFresh(err)
}
