package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.Put, command{declareKeys: declareAddr(spanlatch.Write), eval: evalPut,
		waitsForLocks: true, afterEval: acquiredWrittenKey})
}

// evalPut writes a value (an intent in a transaction).
func evalPut(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	p := req.(*rangepb.PutRequest)
	err := kv.MVCCPut(rw, ms, p.Key, ts, kv.MakeBytesValue(p.Value), ec.writeOpts(p.Key, p.Sequence))
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Put{Put: &rangepb.PutResponse{}}}, err
}
