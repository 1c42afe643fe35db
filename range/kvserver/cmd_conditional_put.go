package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.ConditionalPut, command{declareKeys: declareAddr(spanlatch.Write), eval: evalConditionalPut,
		waitsForLocks: true, afterEval: acquiredWrittenKey})
}

// evalConditionalPut writes a value if the key holds the expected one
// (ConditionFailedError otherwise); its read must be fresh (see
// freshWriteOpts).
func evalConditionalPut(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	c := req.(*rangepb.ConditionalPutRequest)
	var exp *kv.Value
	if c.ExpExists {
		v := kv.MakeBytesValue(c.ExpValue)
		exp = &v
	}
	err := kv.MVCCConditionalPut(rw, ms, c.Key, ts, kv.MakeBytesValue(c.Value), exp, false, ec.freshWriteOpts(c.Key, c.Sequence))
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_ConditionalPut{ConditionalPut: &rangepb.ConditionalPutResponse{}}}, ec.readNotFresh(err)
}
