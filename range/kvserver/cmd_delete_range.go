package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.DeleteRange, command{declareKeys: declareAddr(spanlatch.Write), eval: evalDeleteRange, waitsForLocks: true})
}

// evalDeleteRange writes tombstones over the live keys of a span and
// counts them, listing them if asked (a pipelined DeleteRange's keys are
// its writes in flight).
func evalDeleteRange(ec *evalCtx, _ kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error) {
	d := req.(*rangepb.DeleteRangeRequest)
	keys, n, _, err := kv.MVCCDeleteRange(rw, ms, d.Span.GetKey(), d.Span.GetEndKey(), ts, ec.writeOpts(nil, d.Sequence), 0, d.ReturnKeys)
	return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_DeleteRange{DeleteRange: &rangepb.DeleteRangeResponse{Deleted: n, Keys: keys}}}, err
}
