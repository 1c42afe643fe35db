package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/meridiandb/meridian/txn"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Status codes of the Admin service that joining nodes act on.
const (
	// codeNotInitialized: the node answering is up but not part of a
	// cluster yet (it waits for init or a join of its own): keep waiting.
	codeNotInitialized = codes.Aborted
	// codeWrongCluster: the joining node's store belongs to another
	// cluster: it must not start.
	codeWrongCluster = codes.PermissionDenied
)

// DialAdmin connects to the Admin service of the node at addr, as joining
// nodes and the operator's commands do (tlsConf nil: plaintext).
func DialAdmin(addr string, tlsConf *tls.Config) (serverpb.AdminClient, func(), error) {
	cc, err := grpc.NewClient(addr, rpc.ClientDialOptions(tlsConf)...)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "connecting to %s", addr)
	}
	return serverpb.NewAdminClient(cc), func() { _ = cc.Close() }, nil
}

func callJoin(ctx context.Context, addr string, tlsConf *tls.Config, req *serverpb.JoinRequest) (*serverpb.JoinResponse, error) {
	c, closeFn, err := DialAdmin(addr, tlsConf)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return c.Join(ctx, req)
}

// decide records that the node has an identity: an Init arriving from now
// on is refused.
func (n *Node) decide() {
	n.initMu.Lock()
	n.initMu.decided = true
	n.initMu.Unlock()
}

// joinOrBootstrap waits until the node of a new store has joined a cluster
// (through a join address) or bootstraps one (Config.Bootstrap or an Init
// call), and returns the store's identity.
func (n *Node) joinOrBootstrap() (ident *serverpb.StoreIdent, bootstrap bool, err error) {
	newCluster := func() *serverpb.StoreIdent {
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		return &serverpb.StoreIdent{ClusterId: id, NodeId: 1, StoreId: 1}
	}
	if n.cfg.Bootstrap {
		n.decide()
		return newCluster(), true, nil
	}
	ctx := n.stopper.Context()
	var others []string
	for _, a := range n.cfg.Join {
		if a != n.cfg.AdvertiseAddr {
			others = append(others, a)
		}
	}
	if len(others) == 0 {
		n.cfg.Logger.Info("the store is new and there is no other node to join: waiting for `meridian init`", "addr", n.cfg.AdvertiseAddr)
	} else {
		n.cfg.Logger.Info("the store is new: joining a cluster through the join addresses, or waiting for `meridian init`", "join", others)
	}
	startedAt := hlc.PhysicalNow()
	answered := false
	var lastErr error
	for {
		for _, addr := range others {
			actx, acancel := context.WithTimeout(ctx, 5*time.Second)
			resp, err := callJoin(actx, addr, n.cfg.RPCClientTLS, &serverpb.JoinRequest{Node: n.descriptor(0), BuildVersion: BuildVersion})
			acancel()
			switch status.Code(err) {
			case codes.OK:
				n.initMu.Lock()
				initing := n.initMu.decided
				n.initMu.decided = true
				n.initMu.Unlock()
				if initing {
					// An Init call won the race; it is waiting for us.
					return newCluster(), true, nil
				}
				for _, d := range resp.Nodes {
					n.dir.update(d)
				}
				n.cfg.Logger.Info("joined the cluster", "cluster", hex.EncodeToString(resp.ClusterId), "node", resp.NodeId, "through", addr)
				return &serverpb.StoreIdent{ClusterId: resp.ClusterId, NodeId: resp.NodeId, StoreId: resp.StoreId}, false, nil
			case codeNotInitialized:
				answered = true
			case codeWrongCluster, codes.InvalidArgument, codes.FailedPrecondition:
				return nil, false, errors.Wrapf(err, "joining through %s", addr)
			}
			lastErr = errors.Wrapf(err, "joining through %s", addr)
		}
		if len(others) > 0 && !answered && hlc.PhysicalNow().Sub(startedAt) > n.cfg.JoinTimeout {
			return nil, false, errors.Wrapf(lastErr, "none of the join addresses %v answered within %s", others, n.cfg.JoinTimeout)
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case reply := <-n.initMu.requests:
			t.Stop()
			n.pendingInit = reply
			return newCluster(), true, nil
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, false, errors.New("stopped while waiting to join a cluster")
		}
	}
}

// adminServer serves the Admin service.
type adminServer struct {
	serverpb.UnimplementedAdminServer
	n *Node
}

func (n *Node) isStarted() bool {
	select {
	case <-n.started:
		return true
	default:
		return false
	}
}

// Init bootstraps a new cluster on a node waiting for it: once, ever.
func (a *adminServer) Init(ctx context.Context, _ *serverpb.InitRequest) (*serverpb.InitResponse, error) {
	n := a.n
	n.initMu.Lock()
	if n.initMu.decided {
		n.initMu.Unlock()
		return nil, status.Error(codes.AlreadyExists, "the cluster has already been initialized: init bootstraps a new cluster once, on a node whose store is new")
	}
	n.initMu.decided = true
	n.initMu.Unlock()
	reply := make(chan error, 1)
	n.initMu.requests <- reply
	select {
	case err := <-reply:
		if err != nil {
			return nil, status.Errorf(codes.Internal, "bootstrapping the cluster: %v", err)
		}
		return &serverpb.InitResponse{ClusterId: n.clusterID, NodeId: int32(n.nodeID)}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Join admits a node: a new one gets a node ID allocated in the cluster;
// a restarted one announces where it runs now. Both learn the members.
func (a *adminServer) Join(ctx context.Context, req *serverpb.JoinRequest) (*serverpb.JoinResponse, error) {
	n := a.n
	if !n.isStarted() {
		return nil, status.Errorf(codeNotInitialized, "node at %s is not part of a cluster yet", n.cfg.AdvertiseAddr)
	}
	if len(req.ClusterId) > 0 && !bytes.Equal(req.ClusterId, n.clusterID) {
		return nil, status.Errorf(codeWrongCluster,
			"the joining node's store belongs to cluster %x, but %s is a node of cluster %x: a store never moves between clusters (start it with a new, empty --store)",
			req.ClusterId, n.cfg.AdvertiseAddr, n.clusterID)
	}
	if req.Node == nil || req.Node.Address == "" {
		return nil, status.Error(codes.InvalidArgument, "a join request must carry the node's descriptor with its address")
	}
	if req.Node.NodeId > 0 {
		if len(req.ClusterId) == 0 {
			return nil, status.Error(codes.InvalidArgument, "a join request with a node ID must name its cluster")
		}
		n.dir.update(req.Node)
		return &serverpb.JoinResponse{ClusterId: n.clusterID, NodeId: req.Node.NodeId, StoreId: req.Node.StoreId, Nodes: n.dir.all()}, nil
	}
	if !n.ready.Load() {
		return nil, status.Errorf(codeNotInitialized, "node %d is not ready to admit nodes yet", n.nodeID)
	}
	var id int64
	if err := n.db.Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
		var err error
		id, err = t.Inc(ctx, kv.NodeIDGeneratorKey, 1)
		return err
	}); err != nil {
		return nil, status.Errorf(codes.Unavailable, "allocating a node ID: %v", err)
	}
	desc := proto.Clone(req.Node).(*serverpb.NodeDescriptor)
	desc.NodeId, desc.StoreId = int32(id), int32(id)
	n.dir.update(desc)
	n.cfg.Logger.Info("a node joined", "node", id, "addr", desc.Address)
	return &serverpb.JoinResponse{ClusterId: n.clusterID, NodeId: int32(id), StoreId: int32(id), Nodes: n.dir.all()}, nil
}

// Nodes reports every node's status: this node asks each live one for its
// own (ranges and leases are counted where they are).
func (a *adminServer) Nodes(ctx context.Context, req *serverpb.NodesRequest) (*serverpb.NodesResponse, error) {
	n := a.n
	if !n.isStarted() {
		return nil, status.Errorf(codeNotInitialized, "node at %s is not part of a cluster yet", n.cfg.AdvertiseAddr)
	}
	if req.Local {
		return &serverpb.NodesResponse{Nodes: []*serverpb.NodeStatus{n.localStatus()}}, nil
	}
	// Read the membership afresh rather than answer from the cached
	// directory: a node that joined a moment ago through another node is
	// listed. A failed read falls back on the cache.
	_ = n.dir.refresh(ctx, dbScanner{n.db})
	return &serverpb.NodesResponse{Nodes: n.clusterStatus(ctx)}, nil
}

// Drain drains this node (see drain.go).
func (a *adminServer) Drain(ctx context.Context, _ *serverpb.DrainRequest) (*serverpb.DrainResponse, error) {
	n := a.n
	if !n.isStarted() {
		return nil, status.Errorf(codeNotInitialized, "node at %s is not part of a cluster yet", n.cfg.AdvertiseAddr)
	}
	progress, err := n.Drain(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &serverpb.DrainResponse{Done: true, Progress: progress}, nil
}

// Decommission changes nodes' membership: DECOMMISSIONING makes every
// replicate queue move their replicas away, ACTIVE takes that back,
// DECOMMISSIONED (once they hold no replica) retires them for good.
func (a *adminServer) Decommission(ctx context.Context, req *serverpb.DecommissionRequest) (*serverpb.DecommissionResponse, error) {
	n := a.n
	if !n.isStarted() {
		return nil, status.Errorf(codeNotInitialized, "node at %s is not part of a cluster yet", n.cfg.AdvertiseAddr)
	}
	for _, id := range req.NodeIds {
		if err := n.setMembership(ctx, kvserver.NodeID(id), req.Target); err != nil {
			return nil, err
		}
	}
	all := n.clusterStatus(ctx)
	// A node reports the replicas its store holds, and a dead node reports
	// nothing: meta2's replica lists count for it too, so that a node is
	// never called empty while a range still lists it.
	descs, err := n.RangeDescriptors(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reading the range descriptors: %v", err)
	}
	listed := map[int32]int32{}
	for _, d := range descs {
		for _, rd := range d.Replicas {
			listed[rd.NodeId]++
		}
	}
	var out []*serverpb.NodeStatus
	for _, st := range all {
		for _, id := range req.NodeIds {
			if st.Desc.NodeId == id {
				st.Ranges = max(st.Ranges, listed[id])
				out = append(out, st)
			}
		}
	}
	return &serverpb.DecommissionResponse{Nodes: out}, nil
}

// setMembership rewrites node id's descriptor with membership m.
func (n *Node) setMembership(ctx context.Context, id kvserver.NodeID, m serverpb.Membership) error {
	var desc *serverpb.NodeDescriptor
	err := n.db.Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
		raw, found, err := t.Get(ctx, NodeDescKey(id))
		if err != nil {
			return err
		}
		if !found {
			return status.Errorf(codes.NotFound, "node %d is not a member of this cluster", id)
		}
		desc = &serverpb.NodeDescriptor{}
		if err := proto.Unmarshal(raw, desc); err != nil {
			return err
		}
		if desc.Membership == serverpb.Membership_DECOMMISSIONED && m != serverpb.Membership_DECOMMISSIONED {
			return status.Errorf(codes.FailedPrecondition, "node %d is decommissioned for good; start a new node instead", id)
		}
		desc.Membership = m
		raw, err = marshal(desc)
		if err != nil {
			return err
		}
		return t.Put(ctx, NodeDescKey(id), raw)
	})
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Errorf(codes.Unavailable, "changing node %d's membership: %v", id, err)
	}
	n.dir.update(desc)
	return nil
}

func marshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }

// CheckConsistency runs a consistency check on the ranges asked for, or on
// every range of the cluster.
func (a *adminServer) CheckConsistency(ctx context.Context, req *serverpb.CheckConsistencyRequest) (*serverpb.CheckConsistencyResponse, error) {
	n := a.n
	if !n.isStarted() {
		return nil, status.Errorf(codeNotInitialized, "node at %s is not part of a cluster yet", n.cfg.AdvertiseAddr)
	}
	ids := req.RangeIds
	if len(ids) == 0 {
		descs, err := n.RangeDescriptors(ctx)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "reading the range descriptors: %v", err)
		}
		for _, d := range descs {
			ids = append(ids, d.RangeId)
		}
	}
	resp := &serverpb.CheckConsistencyResponse{}
	for _, id := range ids {
		rc := &serverpb.RangeConsistency{RangeId: id}
		br, err := n.ranges.Send(ctx, kvserver.RangeID(id), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ComputeChecksum{
			ComputeChecksum: &rangepb.ComputeChecksumRequest{}}})
		if err != nil {
			rc.Error = err.Error()
		} else if sums := br.Responses[0].GetComputeChecksum().GetChecksums(); len(sums) > 0 {
			rc.Replicas, rc.AppliedIndex = int32(len(sums)), sums[0].AppliedIndex
		}
		resp.Ranges = append(resp.Ranges, rc)
	}
	return resp, nil
}

// RangeDescriptors reads every range's descriptor from meta2.
func (n *Node) RangeDescriptors(ctx context.Context) ([]*rangepb.RangeDescriptor, error) {
	values, err := dbScanner{n.db}.scan(ctx, kv.Meta2Prefix, kv.Meta2Max)
	if err != nil {
		return nil, err
	}
	out := make([]*rangepb.RangeDescriptor, 0, len(values))
	for _, raw := range values {
		d := &rangepb.RangeDescriptor{}
		if err := proto.Unmarshal(raw, d); err != nil {
			return nil, errors.Wrap(err, "decoding a meta2 record")
		}
		out = append(out, d)
	}
	return out, nil
}

// RevokeDescriptorLeases revokes this node's leases on table descriptors
// for a schema change about to commit (sql/lease).
func (a *adminServer) RevokeDescriptorLeases(ctx context.Context, req *serverpb.RevokeDescriptorLeasesRequest) (*serverpb.RevokeDescriptorLeasesResponse, error) {
	n := a.n
	now := hlc.Timestamp{WallTime: req.NowWall, Logical: req.NowLogical}
	leases := n.leases.Load()
	if leases == nil {
		// No SQL here, no leases: only the clock to answer with.
		if _, err := n.cfg.Clock.Update(now); err != nil {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		ts := n.cfg.Clock.Now()
		return &serverpb.RevokeDescriptorLeasesResponse{NowWall: ts.WallTime, NowLogical: ts.Logical}, nil
	}
	ts, err := leases.Revoke(req.DescriptorIds, now)
	if err != nil {
		return nil, status.Error(codes.Aborted, err.Error())
	}
	return &serverpb.RevokeDescriptorLeasesResponse{NowWall: ts.WallTime, NowLogical: ts.Logical}, nil
}
