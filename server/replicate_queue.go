package server

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/server/serverpb"
	"go.etcd.io/raft/v3"
)

// The replicate queue keeps every range this node holds the lease of at
// its replication factor, as far as there are live nodes: it adds voters
// on nodes that hold none of the range's replicas (spreading them across
// localities), replaces the replicas of dead and decommissioning nodes
// (add first, then remove, so a range never drops below the voters it
// had), and moves the lease off a decommissioning node before its replica
// goes. One change per range per pass; each change is a joint-consensus
// replica change (learner, snapshot, promotion) in the range layer.
//
// This is the first, count-only version of issue 11's allocator: it does
// not yet balance replica counts or load across stores, nor honour zone
// constraints.

// replicaAction is what the queue does next to one range.
type replicaAction struct {
	add, remove *rangepb.ReplicaChange
	// transferTo moves the lease before this node's own replica goes.
	transferTo *rangepb.ReplicaDescriptor
}

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
	members := n.dir.all()
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
		act, ok := n.planReplicaChange(desc, members, now)
		if !ok {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var err error
		switch {
		case act.transferTo != nil:
			_, err = n.ranges.Send(actx, r.RangeID(), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
				TransferLease: &rangepb.TransferLeaseRequest{Target: act.transferTo}}})
		case act.add != nil || act.remove != nil:
			change := act.add
			if change == nil {
				change = act.remove
			}
			_, err = n.ranges.Send(actx, r.RangeID(), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{
				ChangeReplicas: &rangepb.ChangeReplicasRequest{Changes: []*rangepb.ReplicaChange{change}}}})
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("replicate queue: change failed", "range", r.RangeID(), "err", err.Error())
		}
	}
}

// planReplicaChange decides the next change to a range, if any.
func (n *Node) planReplicaChange(desc *rangepb.RangeDescriptor, members []*serverpb.NodeDescriptor, now hlc.Timestamp) (replicaAction, bool) {
	byID := map[int32]*serverpb.NodeDescriptor{}
	for _, m := range members {
		byID[m.NodeId] = m
	}
	healthyNode := func(id int32) bool {
		m, ok := byID[id]
		return ok && m.Membership == serverpb.Membership_ACTIVE && n.nodeState(kvserver.NodeID(id), now) != nodeDead
	}
	var voters, healthy []*rangepb.ReplicaDescriptor
	hasReplica := map[int32]bool{}
	for _, rd := range desc.Replicas {
		hasReplica[rd.NodeId] = true
		switch rd.Type {
		case rangepb.ReplicaType_VOTER_FULL:
			voters = append(voters, rd)
			if healthyNode(rd.NodeId) {
				healthy = append(healthy, rd)
			}
		case rangepb.ReplicaType_LEARNER:
		default:
			return replicaAction{}, false // a joint configuration: let it finish
		}
	}
	var candidates []*serverpb.NodeDescriptor
	usable := 0
	for _, m := range members {
		if m.Membership != serverpb.Membership_ACTIVE || n.nodeState(kvserver.NodeID(m.NodeId), now) != nodeLive {
			continue
		}
		usable++
		if !hasReplica[m.NodeId] {
			candidates = append(candidates, m)
		}
	}
	want := min(n.cfg.ReplicationFactor, usable)
	if len(healthy) < want && len(candidates) > 0 {
		target := pickDiverse(candidates, desc.Replicas, byID)
		return replicaAction{add: &rangepb.ReplicaChange{Type: rangepb.ChangeType_ADD_VOTER, NodeId: target.NodeId, StoreId: target.StoreId}}, true
	}
	if len(healthy) < len(voters) && len(healthy) >= want && len(healthy) > 0 {
		for _, rd := range voters {
			if healthyNode(rd.NodeId) {
				continue
			}
			if kvserver.NodeID(rd.NodeId) == n.nodeID {
				// This node's own replica goes: hand the lease over first.
				return replicaAction{transferTo: healthy[rand.IntN(len(healthy))]}, true
			}
			return replicaAction{remove: &rangepb.ReplicaChange{Type: rangepb.ChangeType_REMOVE_VOTER, NodeId: rd.NodeId, StoreId: rd.StoreId}}, true
		}
	}
	return replicaAction{}, false
}

// pickDiverse returns the candidate whose locality shares the fewest tiers
// with the range's existing replicas (region first, then zone), at random
// among equals so that replicas spread over the stores.
func pickDiverse(candidates []*serverpb.NodeDescriptor, existing []*rangepb.ReplicaDescriptor, byID map[int32]*serverpb.NodeDescriptor) *serverpb.NodeDescriptor {
	score := func(c *serverpb.NodeDescriptor) int {
		s := 0
		for _, rd := range existing {
			m, ok := byID[rd.NodeId]
			if !ok {
				continue
			}
			// The deeper the shared prefix of tiers, the worse.
			for i := 0; i < len(c.Locality) && i < len(m.Locality); i++ {
				if c.Locality[i].Key != m.Locality[i].Key || c.Locality[i].Value != m.Locality[i].Value {
					break
				}
				s += 1 << (8 - min(i, 8))
			}
		}
		return s
	}
	var best []*serverpb.NodeDescriptor
	bestScore := -1
	for _, c := range candidates {
		switch s := score(c); {
		case bestScore < 0 || s < bestScore:
			best, bestScore = []*serverpb.NodeDescriptor{c}, s
		case s == bestScore:
			best = append(best, c)
		}
	}
	return best[rand.IntN(len(best))]
}
