package server

import (
	"context"
	"sync"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/server/serverpb"
)

// livenessOf fills st's liveness fields from this node's liveness cache.
func (n *Node) livenessOf(st *serverpb.NodeStatus) {
	id := kvserver.NodeID(st.Desc.NodeId)
	if rec, ok := n.liveness.GetLiveness(id); ok {
		st.Epoch = rec.Epoch
		st.LivenessExpiration = rec.GetExpiration().GetWallTime()
	}
	st.Live = n.liveness.IsLive(id, n.cfg.Clock.Now())
}

// localStatus is this node's own status: its replicas and leases counted
// in its store.
func (n *Node) localStatus() *serverpb.NodeStatus {
	desc, ok := n.dir.get(n.nodeID)
	if !ok {
		desc = n.desc
	}
	st := &serverpb.NodeStatus{Desc: desc, Draining: n.draining.Load()}
	n.livenessOf(st)
	for _, r := range n.store.Replicas() {
		st.Ranges++
		if r.OwnsValidLease() {
			st.Leases++
		}
	}
	return st
}

// clusterStatus is every known node's status: liveness as this node sees
// it, replica and lease counts as each live node reports them.
func (n *Node) clusterStatus(ctx context.Context) []*serverpb.NodeStatus {
	descs := n.dir.all()
	out := make([]*serverpb.NodeStatus, len(descs))
	var wg sync.WaitGroup
	for i, desc := range descs {
		st := &serverpb.NodeStatus{Desc: desc}
		n.livenessOf(st)
		out[i] = st
		if kvserver.NodeID(desc.NodeId) == n.nodeID {
			out[i] = n.localStatus()
			continue
		}
		if !st.Live {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			c, closeFn, err := DialAdmin(desc.Address, n.cfg.RPCClientTLS)
			if err != nil {
				return
			}
			defer closeFn()
			resp, err := c.Nodes(actx, &serverpb.NodesRequest{Local: true})
			if err != nil || len(resp.Nodes) != 1 {
				return
			}
			st.Ranges, st.Leases, st.Draining = resp.Nodes[0].Ranges, resp.Nodes[0].Leases, resp.Nodes[0].Draining
		}()
	}
	wg.Wait()
	return out
}

// nodeState classifies a node for the replicate queue.
type nodeState int

const (
	nodeLive nodeState = iota
	// nodeSuspect: its liveness expired, but not long enough ago to count
	// it dead; its replicas stay where they are.
	nodeSuspect
	// nodeDead: expired for TimeUntilStoreDead: its replicas are rebuilt
	// elsewhere.
	nodeDead
)

func (n *Node) nodeState(id kvserver.NodeID, now hlc.Timestamp) nodeState {
	if n.liveness.IsLive(id, now) {
		return nodeLive
	}
	rec, ok := n.liveness.GetLiveness(id)
	if !ok {
		// Never heartbeated that we know of: a node that has just joined.
		return nodeSuspect
	}
	if now.WallTime-rec.GetExpiration().GetWallTime() > n.timeUntilStoreDead.Load() {
		return nodeDead
	}
	return nodeSuspect
}
