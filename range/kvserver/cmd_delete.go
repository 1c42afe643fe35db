package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.Delete, command{declareKeys: declareAddr(spanlatch.Write), eval: evalDelete,
		waitsForLocks: true, afterEval: acquiredWrittenKey})
}

// evalDelete writes a tombstone (an intent in a transaction).
func evalDelete(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	d := req.(*rangepb.DeleteRequest)
	_, err := kv.MVCCDelete(rw, ms, d.Key, ts, ec.writeOpts(d.Key, d.Sequence))
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Delete{Delete: &rangepb.DeleteResponse{}}}, err
}
