package storerpc

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcCluster is N nodes in one process, each a real store behind a real
// gRPC server on 127.0.0.1, talking through RaftTransport: the cluster
// kvtest builds, with the network made real.
type grpcCluster struct {
	t      testing.TB
	manual *hlc.ManualClock
	nodes  []*grpcNode
	addrs  map[kvserver.NodeID]string
}

type grpcNode struct {
	id        kvserver.NodeID
	stopper   *stop.Stopper
	rpcCtx    *rpc.Context
	engine    kv.Engine
	store     *kvserver.Store
	transport *RaftTransport
	server    *InternalServer
}

var testClusterID = []byte("rpc-test-cluster")

// newGRPCCluster starts n nodes with range 1 (all keys) on node 1 alone.
func newGRPCCluster(t testing.TB, n int) *grpcCluster {
	t.Helper()
	c := &grpcCluster{t: t, manual: hlc.NewManualClock(1_000_000 * int64(time.Second)), addrs: map[kvserver.NodeID]string{}}
	lns := make([]net.Listener, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = ln
		c.addrs[kvserver.NodeID(i+1)] = ln.Addr().String()
	}
	t.Cleanup(c.stop)
	for i := range n {
		c.nodes = append(c.nodes, c.startNode(kvserver.NodeID(i+1), lns[i], i == 0))
	}
	return c
}

func (c *grpcCluster) resolve(id kvserver.NodeID) (string, error) {
	addr, ok := c.addrs[id]
	if !ok {
		return "", errors.Newf("unknown node %d", id)
	}
	return addr, nil
}

func (c *grpcCluster) startNode(id kvserver.NodeID, ln net.Listener, bootstrap bool) *grpcNode {
	t := c.t
	t.Helper()
	n := &grpcNode{id: id, stopper: stop.NewStopper()}
	clock := hlc.NewClock(c.manual.UnixNano, 250*time.Millisecond)
	n.rpcCtx = rpc.NewContext(n.stopper, rpc.Options{
		ClusterID: testClusterID, NodeID: int32(id), Clock: clock, HeartbeatInterval: 50 * time.Millisecond,
	})
	eng, err := kv.Open("", kv.Options{InMemory: true, CacheSize: 8 << 20, MemTableSize: 4 << 20, Logger: kv.QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	n.engine = eng
	if bootstrap {
		if err := kvserver.Bootstrap(eng, &rangepb.RangeDescriptor{
			RangeId: 1, StartKey: kv.KeyMin, EndKey: kv.KeyMax, NextReplicaId: 2,
			Replicas: []*rangepb.ReplicaDescriptor{{NodeId: 1, StoreId: 1, ReplicaId: 1}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	n.transport = NewRaftTransport(n.rpcCtx, n.stopper, c.resolve, RaftTransportOptions{InitialBackoff: 10 * time.Millisecond})
	n.store = kvserver.NewStore(kvserver.StoreConfig{
		NodeID: id, ClusterID: testClusterID, Clock: clock, Transport: n.transport,
		RaftTickInterval: 10 * time.Millisecond,
	}, eng, n.stopper)
	if err := n.store.Start(); err != nil {
		t.Fatal(err)
	}
	s := n.rpcCtx.NewServer()
	n.server = NewInternalServer(n.store)
	n.server.Register(s)
	if err := rpc.Serve(n.stopper, s, ln); err != nil {
		t.Fatal(err)
	}
	return n
}

// stop stops every node, then closes the engines nothing uses any more.
func (c *grpcCluster) stop() {
	for _, n := range c.nodes {
		n.stopper.Stop()
	}
	for _, n := range c.nodes {
		if err := n.engine.Close(); err != nil {
			c.t.Errorf("closing n%d: %v", n.id, err)
		}
	}
}

// client returns node from's Internal client for node to.
func (c *grpcCluster) client(from, to kvserver.NodeID) rangepb.InternalClient {
	conn, err := c.nodes[from-1].rpcCtx.Dial(c.addrs[to], int32(to))
	if err != nil {
		c.t.Fatal(err)
	}
	return rangepb.NewInternalClient(conn.ClientConn)
}

// send sends a batch for range id through the Batch RPC, as node 1 would,
// finding the leaseholder: it follows NotLeaseHolder hints, tries the
// other nodes on RangeNotFound or an unavailable node, and retries until
// ctx ends.
func (c *grpcCluster) send(ctx context.Context, id kvserver.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: int64(id)}, Requests: reqs}
	var lastErr error
	next := kvserver.NodeID(1)
	for {
		for range c.nodes {
			to := next
			next = to%kvserver.NodeID(len(c.nodes)) + 1
			resp, err := rpc.SendBatch(ctx, c.client(1, to), ba)
			if err == nil {
				return resp, nil
			}
			lastErr = err
			var nlhe *kvserver.NotLeaseHolderError
			var rnf *kvserver.RangeNotFoundError
			switch {
			case errors.As(err, &nlhe):
				if h := nlhe.Lease.GetReplica(); h != nil && kvserver.NodeID(h.NodeId) != to {
					next = kvserver.NodeID(h.NodeId)
				}
			case errors.As(err, &rnf), status.Code(err) == codes.Unavailable,
				errors.Is(err, kvserver.ErrReplicaDestroyed):
			default:
				return nil, err
			}
		}
		if err := waitTick(ctx, 5*time.Millisecond); err != nil {
			return nil, errors.Wrapf(lastErr, "r%d: no leaseholder found in time", id)
		}
	}
}

func (c *grpcCluster) put(ctx context.Context, key, value string) error {
	_, err := c.send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(key), Value: []byte(value)}}})
	return err
}

func (c *grpcCluster) get(ctx context.Context, key string) (string, bool, error) {
	resp, err := c.send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(key)}}})
	if err != nil {
		return "", false, err
	}
	g := resp.Responses[0].GetGet()
	return string(g.Value), g.Found, nil
}

// waitTick waits d, or returns ctx's error if it ends first.
func waitTick(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// waitFor polls cond until it returns nil or ctx ends, then returns cond's
// last error.
func waitFor(ctx context.Context, cond func() error) error {
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if waitTick(ctx, 2*time.Millisecond) != nil {
			return err
		}
	}
}

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
