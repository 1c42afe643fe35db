package kvserver

import (
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

// commitTrigger is what an internal transaction's EndTxn does to the range
// when it commits.
type commitTrigger interface {
	// latchSpans are latches beyond the EndTxn's own, declared against
	// the range's descriptor when the batch is sequenced.
	latchSpans(desc *rangepb.RangeDescriptor) []spanlatch.LatchSpan
	// eval runs once the batch's EndTxn has been evaluated (ec.txn is
	// final), holding the latches; it adds writes to rw and its effect to
	// res, or fails the whole batch.
	eval(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, res *rangepb.ReplicatedResult) error
}
