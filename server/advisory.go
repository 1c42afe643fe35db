package server

import (
	"context"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
)

// advisoryLiveness tells the advisory locks (sql/advisory) whether a
// node's incarnation has ended, from node liveness: a lock whose record
// names an ended epoch holds nothing.
type advisoryLiveness struct {
	nl    *liveness.NodeLiveness
	clock *hlc.Clock
}

// Gone implements advisory.Liveness. An epoch ends when the node's record
// moves to a later one (it restarted, or another node ended it). A record
// that has expired is ended here, as a range lease's takeover ends it, so
// that a dead node's locks free up; a record that is live, or that cannot
// be ended (the node heartbeated meanwhile), keeps its locks.
func (a advisoryLiveness) Gone(ctx context.Context, node int32, epoch int64) bool {
	rec, ok := a.nl.GetLiveness(kvserver.NodeID(node))
	switch {
	case !ok:
		return false
	case rec.Epoch > epoch:
		return true
	case rec.Epoch < epoch || a.nl.IsLive(kvserver.NodeID(node), a.clock.Now()):
		return false
	}
	return a.nl.IncrementEpoch(ctx, rec) == nil
}

// selfEpoch is this node's liveness epoch, once its first heartbeat of
// this incarnation succeeded.
func selfEpoch(nl *liveness.NodeLiveness) func() (int64, bool) {
	return func() (int64, bool) {
		rec, ok := nl.Self()
		if !ok {
			return 0, false
		}
		return rec.Epoch, true
	}
}
