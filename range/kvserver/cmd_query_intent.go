package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.QueryIntent, command{
		// A read latch: it waits for a write of the key still being
		// evaluated or applied (a pipelined write holds its latches until
		// it applies), then reads the lock record. No lock table: the
		// intent it asks about must not make it wait.
		declareKeys: declareAddr(spanlatch.Read),
		eval: func(ec *evalCtx, rd kv.Reader, _ kv.ReadWriter, _ *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			out, err := evalQueryIntent(ec, rd, req.(*rangepb.QueryIntentRequest))
			return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_QueryIntent{QueryIntent: out}}, err
		},
	})
}
