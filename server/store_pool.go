package server

import (
	"context"
	"sync"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/server/serverpb"
)

// The store pool is what a node's allocator knows of every store: its
// node's descriptor (locality, membership), liveness, and how many
// replicas and leases it holds, and the load (requests per second) its
// leases serve. Counts come from each node's
// StoreCapacity call, gathered at the start of a replicate queue pass
// (this node's own are counted in place); between two gatherings the
// allocator moves the counts itself as it moves replicas and leases, so
// that one pass does not pile its moves onto one store.

// storeInfo is one store as the allocator sees it.
type storeInfo struct {
	desc *serverpb.NodeDescriptor
	// usable: live and active, so it may receive replicas and leases.
	usable bool
	// healthy: active and not dead, so its replicas count.
	healthy bool
	// known: its counts were read this pass (rebalancing needs them).
	known            bool
	replicas, leases int64
	// qps is the requests per second its leases served.
	qps float64
}

func (s *storeInfo) locality(key string) (string, bool) {
	for _, t := range s.desc.Locality {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// storeCapacity counts this node's store's initialized replicas and the
// valid leases among them.
func (n *Node) storeCapacity() *serverpb.StoreCapacityResponse {
	resp := &serverpb.StoreCapacityResponse{StoreId: int32(n.nodeID)}
	for _, r := range n.store.Replicas() {
		if r.Desc() == nil {
			continue
		}
		resp.ReplicaCount++
		if r.OwnsValidLease() {
			resp.LeaseCount++
			resp.Qps += r.QPS()
		}
	}
	return resp
}

// StoreCapacity implements the Admin service's call.
func (s *adminServer) StoreCapacity(ctx context.Context, _ *serverpb.StoreCapacityRequest) (*serverpb.StoreCapacityResponse, error) {
	if !s.n.isStarted() {
		return &serverpb.StoreCapacityResponse{}, nil
	}
	return s.n.storeCapacity(), nil
}

// gatherStores builds the store pool: every member, with the counts of
// the live ones (asked in parallel, each call bounded by a second).
func (n *Node) gatherStores(ctx context.Context, now hlc.Timestamp, withCounts bool) map[int32]*storeInfo {
	members := n.dir.all()
	out := make(map[int32]*storeInfo, len(members))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, m := range members {
		state := n.nodeState(kvserver.NodeID(m.NodeId), now)
		active := m.Membership == serverpb.Membership_ACTIVE
		si := &storeInfo{desc: m, usable: active && state == nodeLive, healthy: active && state != nodeDead}
		out[m.NodeId] = si
		if !withCounts || !si.usable {
			continue
		}
		if kvserver.NodeID(m.NodeId) == n.nodeID {
			c := n.storeCapacity()
			si.replicas, si.leases, si.qps, si.known = c.ReplicaCount, c.LeaseCount, c.Qps, true
			continue
		}
		wg.Add(1)
		go func(si *storeInfo, addr string, node int32) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			conn, err := n.rpcCtx.Dial(addr, node)
			if err != nil {
				return
			}
			c, err := serverpb.NewAdminClient(conn.ClientConn).StoreCapacity(cctx, &serverpb.StoreCapacityRequest{})
			if err != nil {
				return
			}
			mu.Lock()
			si.replicas, si.leases, si.qps, si.known = c.ReplicaCount, c.LeaseCount, c.Qps, true
			mu.Unlock()
		}(si, m.Address, m.NodeId)
	}
	wg.Wait()
	return out
}
