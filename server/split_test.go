package server

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/stop"
)

// TestGRPCSplits runs three real nodes on loopback gRPC: range 1 is
// replicated, split several times (range 1 itself, and ranges split off
// it, whose meta2 records a node updates through its own KV client), and a
// client's DistSender reads and writes across the ranges, also after a
// node restarts.
func TestGRPCSplits(t *testing.T) {
	dir := t.TempDir()
	clusterID := []byte("server-split-test")
	var mu sync.Mutex
	addrs := map[kvserver.NodeID]string{}
	resolve := func(id kvserver.NodeID) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if a, ok := addrs[id]; ok {
			return a, nil
		}
		return "", errors.Newf("unknown node %d", id)
	}
	nodes := map[kvserver.NodeID]*Node{}
	start := func(id kvserver.NodeID) {
		t.Helper()
		mu.Lock()
		addr := addrs[id]
		mu.Unlock()
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		n, err := Start(Config{
			NodeID: id, ClusterID: clusterID, StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", id)),
			Listener: ln, Resolve: resolve, Bootstrap: id == 1 && addrs[id] == "",
			Nodes: []kvserver.NodeID{1, 2, 3},
			Store: kvserver.StoreConfig{RaftTickInterval: 20 * time.Millisecond, LeaseDuration: 2 * time.Second},
		})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		addrs[id], nodes[id] = n.Addr(), n
		mu.Unlock()
	}
	for id := kvserver.NodeID(1); id <= 3; id++ {
		start(id)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Stop()
		}
	})
	stopper := stop.NewStopper()
	t.Cleanup(stopper.Stop)
	clientCtx := rpc.NewContext(stopper, rpc.Options{
		ClusterID: clusterID, Clock: hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset), HeartbeatInterval: time.Second,
	})
	sender := kvclient.NewSender(clientCtx, resolve, []kvserver.NodeID{1, 2, 3})
	ds := kvclient.NewDistSender(sender)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := sender.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{ChangeReplicas: &rangepb.ChangeReplicasRequest{
		Changes: []*rangepb.ReplicaChange{{Type: rangepb.ChangeType_ADD_VOTER, NodeId: 2}, {Type: rangepb.ChangeType_ADD_VOTER, NodeId: 3}},
	}}}); err != nil {
		t.Fatal(err)
	}
	key := func(i int) []byte { return []byte(fmt.Sprintf("key%04d", i)) }
	writeAll := func(v string) {
		t.Helper()
		var reqs []*rangepb.RequestUnion
		for i := range 200 {
			reqs = append(reqs, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: key(i), Value: []byte(v)}}})
		}
		if _, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: reqs}); err != nil {
			t.Fatal(err)
		}
	}
	readAll := func(ds *kvclient.DistSender, v string) {
		t.Helper()
		resp, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
			Span: &rangepb.Span{Key: key(0), EndKey: key(200)},
		}}}}})
		if err != nil {
			t.Fatal(err)
		}
		rows := resp.Responses[0].GetScan().Rows
		if len(rows) != 200 {
			t.Fatalf("scan: %d rows", len(rows))
		}
		for i, row := range rows {
			if string(row.Key) != string(key(i)) || string(row.Value) != v {
				t.Fatalf("row %d: %s=%s, want %s=%s", i, row.Key, row.Value, key(i), v)
			}
		}
	}
	writeAll("a")
	for _, at := range []int{100, 50, 150, 175} {
		if _, err := ds.AdminSplit(ctx, key(at)); err != nil {
			t.Fatal(err)
		}
	}
	writeAll("b")
	readAll(kvclient.NewDistSender(sender), "b")

	// A restarted node reloads the five ranges and serves them again.
	lh := func(id kvserver.RangeID) kvserver.NodeID {
		for nid, n := range nodes {
			if r, err := n.Store().GetReplica(id); err == nil && r.Lease().GetReplica().GetNodeId() == int32(nid) {
				return nid
			}
		}
		return 0
	}
	victim := lh(1)
	nodes[victim].Stop()
	delete(nodes, victim)
	start(victim)
	if got := len(nodes[victim].Store().Replicas()); got != 5 {
		t.Fatalf("n%d restarted with %d replicas", victim, got)
	}
	writeAll("c")
	readAll(kvclient.NewDistSender(sender), "c")
	for _, r := range nodes[victim].Store().Replicas() {
		if _, err := sender.Send(ctx, r.RangeID(), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ComputeChecksum{
			ComputeChecksum: &rangepb.ComputeChecksumRequest{},
		}}); err != nil {
			t.Fatal(err)
		}
	}
}
