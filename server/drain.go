package server

import (
	"context"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
)

// Drain prepares the node to stop without disturbing clients: it reports
// not ready (load balancers stop sending), stops accepting SQL
// connections, lets running statements finish and closes each connection
// once it is idle outside a transaction, then moves every lease it holds
// to another live voter, so that the ranges keep serving without waiting
// for its leases to expire. Bounded by Config.DrainTimeout; draining a
// drained node does it again (leases may have come back). It returns a
// summary of what it did.
func (n *Node) Drain(ctx context.Context) (string, error) {
	n.draining.Store(true)
	n.ready.Store(false)
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DrainTimeout)
	defer cancel()
	forced := 0
	if srv := n.sqlSrv.Load(); srv != nil {
		// Give running statements most of the time; leases move after.
		sqlCtx, sqlCancel := context.WithTimeout(ctx, n.cfg.DrainTimeout*2/3)
		forced = srv.Drain(sqlCtx)
		sqlCancel()
	}
	moved, left := n.shedLeases(ctx)
	return fmt.Sprintf("SQL connections closed while busy: %d; leases moved: %d; leases left: %d", forced, moved, left), nil
}

// shedLeases transfers every lease this node holds to a voter on a live
// node, until none is left or ctx ends.
func (n *Node) shedLeases(ctx context.Context) (moved, left int) {
	for {
		left = 0
		now := n.cfg.Clock.Now()
		for _, r := range n.store.Replicas() {
			if !r.OwnsValidLease() {
				continue
			}
			left++
			var target *rangepb.ReplicaDescriptor
			for _, rd := range r.Desc().Replicas {
				if rd.Type == rangepb.ReplicaType_VOTER_FULL && kvserver.NodeID(rd.NodeId) != n.nodeID &&
					n.nodeState(kvserver.NodeID(rd.NodeId), now) == nodeLive {
					target = rd
					break
				}
			}
			if target == nil {
				left-- // no other live voter: the lease stays, nothing to wait for
				continue
			}
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := n.ranges.Send(actx, r.RangeID(), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
				TransferLease: &rangepb.TransferLeaseRequest{Target: target}}})
			cancel()
			if err == nil {
				moved++
				left--
			}
		}
		if left == 0 || ctx.Err() != nil {
			return moved, left
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return moved, left
		case <-t.C:
		}
	}
}
