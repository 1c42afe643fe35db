package server

import (
	"context"
	"fmt"
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
	c := newTestCluster(t, 3, false)
	stopper := stop.NewStopper()
	t.Cleanup(stopper.Stop)
	clientCtx := rpc.NewContext(stopper, rpc.Options{
		ClusterID: c.node(0).ClusterID(), Clock: hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset), HeartbeatInterval: time.Second,
	})
	resolve := func(id kvserver.NodeID) (string, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if int(id) < 1 || int(id) > len(c.addrs) {
			return "", errors.Newf("unknown node %d", id)
		}
		return c.addrs[id-1], nil
	}
	sender := kvclient.NewSender(clientCtx, resolve, []kvserver.NodeID{1, 2, 3})
	ds := kvclient.NewDistSender(sender)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

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

	// A restarted node reloads the seven ranges (three bootstrapped, four
	// split off) and serves them again.
	victim := -1
	for i := range 3 {
		if r, err := c.node(i).Store().GetReplica(1); err == nil && r.OwnsValidLease() {
			victim = i
		}
	}
	if victim < 0 {
		victim = 0
	}
	c.stop(victim)
	n := c.start(victim)
	if got := len(n.Store().Replicas()); got != 7 {
		t.Fatalf("n%d restarted with %d replicas", n.ID(), got)
	}
	writeAll("c")
	readAll(kvclient.NewDistSender(sender), "c")
	for _, r := range n.Store().Replicas() {
		if _, err := sender.Send(ctx, r.RangeID(), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ComputeChecksum{
			ComputeChecksum: &rangepb.ComputeChecksumRequest{},
		}}); err != nil {
			t.Fatal(err)
		}
	}
}
