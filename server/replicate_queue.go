package server

import (
	"context"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3"
)

// The replicate queue applies the allocator (allocator.go) to every
// range this node holds the lease of, once per ReplicateInterval: it
// splits a range where its zone configuration changes (so that each
// range has one zone), then makes the one change the allocator picks:
// up-replication to the zone's num_replicas, replacement of dead and
// decommissioning replicas, moves that honour the zone's constraints and
// lease preferences, and (unless rebalancing is off) moves that balance
// replica counts, and lease counts or, under load, the stores' load
// (requests per second), across the stores. Each replica change is a
// joint-consensus change in the range layer (learner, snapshot,
// promotion), an addition always before the removal it allows. Under
// load, a replica moves too where a lease alone cannot even the load out
// (the lease then follows it).

// maxRebalancesPerPass bounds the balancing moves of replicas (and, apart,
// of leases) a node makes per pass: the counts it balances by are read
// once per pass, and every node balances at once, so more would pile
// moves onto the same store before the others' show.
const maxRebalancesPerPass = 1

func (n *Node) replicateQueueLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.ReplicateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.replicateOnce(ctx)
	}
}

// replicateOnce runs one pass over the ranges this node holds leases of.
func (n *Node) replicateOnce(ctx context.Context) {
	now := n.cfg.Clock.Now()
	rebalance := n.rebalancing.Load()
	stores := n.gatherStores(ctx, now, rebalance)
	zones := n.zones(ctx)
	replicaMoves, leaseMoves := 0, 0
	// A store's load is measured once per queue interval: after a lease
	// or replica moved by load, the figures show it only a period later,
	// and moving more on the old ones would overshoot.
	leasesByLoad, replicasByLoad := n.loadBasedLeases.Load(), n.loadBasedReplicas.Load()
	loadWait := hlc.PhysicalNow().Sub(n.lastLoadMove) < 2*n.store.QueueSettings().Interval
	for _, r := range n.store.Replicas() {
		if ctx.Err() != nil || n.draining.Load() {
			return
		}
		desc := r.Desc()
		if desc == nil {
			continue
		}
		if !r.OwnsValidLease() {
			if st := r.RaftStatus(); st != nil && st.RaftState == raft.StateLeader {
				// The Raft leader makes sure the range has a leaseholder:
				// a range nobody has asked anything yet has none, and its
				// replication would wait for the first client. A read
				// takes the lease where it lands, or finds who holds it.
				actx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, _ = n.ranges.Send(actx, r.RangeID(), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{
					Get: &rangepb.GetRequest{Key: desc.StartKey}}})
				cancel()
			}
			continue
		}
		act, ok := replicaAction{}, false
		if key := zones.SplitKeyIn(desc.StartKey, desc.EndKey); key != nil {
			act, ok = replicaAction{splitAt: key, reason: "zone boundary"}, true
		} else {
			rv := &rangeView{desc: desc, self: int32(n.nodeID), place: zones.ForKey(desc.StartKey).Placement(), stores: stores,
				qps: r.QPS(), leasesByLoad: leasesByLoad, replicasByLoad: replicasByLoad, loadWait: loadWait}
			act, ok = allocate(rv, rebalance && replicaMoves < maxRebalancesPerPass && leaseMoves < maxRebalancesPerPass)
		}
		if !ok {
			continue
		}
		switch act.reason {
		case "rebalance replicas":
			replicaMoves++
		case "rebalance leases":
			leaseMoves++
		}
		if act.byLoad {
			n.lastLoadMove, loadWait = hlc.PhysicalNow(), true
		}
		if err := n.applyReplicaAction(ctx, r.RangeID(), desc.Generation, act); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("replicate queue: change failed", "range", r.RangeID(), "reason", act.reason, "err", err.Error())
		}
	}
}

// applyReplicaAction carries out one allocator decision, made on the
// range's descriptor at generation gen: a replica change is refused if the
// range changed since (an admin's RELOCATE, another change), and the next
// pass decides again.
func (n *Node) applyReplicaAction(ctx context.Context, id kvserver.RangeID, gen int64, act replicaAction) error {
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	change := func(cs ...*rangepb.ReplicaChange) error {
		_, err := n.ranges.Send(actx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{
			ChangeReplicas: &rangepb.ChangeReplicasRequest{Changes: cs, ExpGeneration: gen}}})
		return err
	}
	switch {
	case act.splitAt != nil:
		_, err := n.dist.AdminSplit(actx, act.splitAt)
		return err
	case act.transferTo != nil:
		_, err := n.ranges.Send(actx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
			TransferLease: &rangepb.TransferLeaseRequest{Target: act.transferTo}}})
		return err
	case act.add != nil && act.thenRemove != nil:
		return change(act.add, act.thenRemove)
	case act.add != nil:
		return change(act.add)
	case act.remove != nil:
		return change(act.remove)
	}
	return nil
}
