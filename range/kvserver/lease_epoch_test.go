package kvserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The range every epoch-lease test uses: replicated on all three nodes.
const epochRange kvserver.RangeID = 2

const (
	// Defaults of liveness.Config and StoreConfig, in HLC time.
	livenessDuration = 9 * time.Second
	heartbeatEvery   = livenessDuration / 2
	leaseDuration    = 6 * time.Second
)

// epochCluster returns a 3-node cluster with node liveness, whose range 2
// has a voter on every node and an epoch-based lease.
func epochCluster(t *testing.T) (*kvtest.Cluster, context.Context) {
	t.Helper()
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 3, EpochLeases: true}, 1)
	ctx := testCtx(t)
	if err := c.Put(ctx, epochRange, kvtest.RangeKey(epochRange, "init"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	return c, ctx
}

// currentLease returns the newest lease of range id that the live nodes
// know, and its holder.
func currentLease(t *testing.T, c *kvtest.Cluster, id kvserver.RangeID) (*rangepb.Lease, int) {
	t.Helper()
	var best *rangepb.Lease
	for _, n := range c.Nodes {
		if !n.Alive() {
			continue
		}
		if r, err := n.Store.GetReplica(id); err == nil {
			if l := r.Lease(); l != nil && (best == nil || l.Sequence > best.Sequence) {
				best = l
			}
		}
	}
	if best == nil {
		t.Fatalf("r%d has no lease", id)
	}
	return best, int(best.Replica.NodeId)
}

// waitHeartbeated waits until each of nodes has a live record at its
// current epoch that needs no heartbeat yet.
func waitHeartbeated(ctx context.Context, t *testing.T, c *kvtest.Cluster, nodes ...int) {
	t.Helper()
	for _, id := range nodes {
		n := c.Nodes[id-1]
		for {
			due := hlc.Timestamp{WallTime: c.Manual.UnixNano() + int64(livenessDuration-heartbeatEvery)}
			if rec, ok := n.Liveness.Self(); ok && due.LessEq(hlc.Timestamp{WallTime: rec.Expiration.GetWallTime(), Logical: rec.Expiration.GetLogical()}) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("n%d did not heartbeat", id)
			}
			waitFor(2 * time.Millisecond)
		}
	}
}

func rangeBatch(id kvserver.RangeID, ru *rangepb.RequestUnion) *rangepb.BatchRequest {
	return &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: int64(id)}, Requests: []*rangepb.RequestUnion{ru}}
}

func epochPut(k, v string) *rangepb.BatchRequest {
	return rangeBatch(epochRange, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{
		Key: kvtest.RangeKey(epochRange, k), Value: []byte(v)}}})
}

func epochGet(k string) *rangepb.BatchRequest {
	return rangeBatch(epochRange, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{
		Key: kvtest.RangeKey(epochRange, k)}}})
}

// TestEpochLeasesSurviveIdleTime: with liveness heartbeats running, an
// epoch lease needs no extension: time runs far past the liveness duration
// (and the expiration-lease duration) while the range sits idle, and the
// lease never changes.
func TestEpochLeasesSurviveIdleTime(t *testing.T) {
	c, ctx := epochCluster(t)
	lease, lh := currentLease(t, c, epochRange)
	if lease.Epoch == 0 || lease.Expiration != nil {
		t.Fatalf("want an epoch-based lease, got %v", lease)
	}
	if rec, ok := c.Nodes[lh-1].Liveness.Self(); !ok || rec.Epoch != lease.Epoch {
		t.Fatalf("lease epoch %d, holder's liveness %v", lease.Epoch, rec)
	}
	if l, _ := currentLease(t, c, kvtest.LivenessRangeID); l.Epoch != 0 || l.Expiration == nil {
		t.Fatalf("the liveness range must keep an expiration-based lease, got %v", l)
	}
	start := c.Manual.UnixNano()
	for c.Manual.UnixNano()-start < int64(4*livenessDuration) {
		c.Manual.Increment(int64(2 * time.Second))
		waitHeartbeated(ctx, t, c, 1, 2, 3)
	}
	resp, err := c.Nodes[lh-1].Store.Send(ctx, epochGet("init"))
	if err != nil || string(resp.Responses[0].GetGet().Value) != "x" {
		t.Fatalf("the leaseholder did not serve after idle time: %v %v", resp, err)
	}
	for _, n := range c.Nodes {
		r, err := n.Store.GetReplica(epochRange)
		if err != nil {
			t.Fatal(err)
		}
		if l := r.Lease(); l.Sequence != lease.Sequence || l.Replica.NodeId != lease.Replica.NodeId || l.Epoch != lease.Epoch {
			t.Fatalf("n%d: lease changed from %v to %v", n.ID, lease, l)
		}
	}
}

// TestEpochLeaseFailover kills the epoch leaseholder under a write load:
// once its liveness expired, another node increments its epoch and takes
// the lease, writes continue, and no acknowledged write is lost. The old
// holder, restarted, starts a new epoch and does not get its lease back.
func TestEpochLeaseFailover(t *testing.T) {
	c, ctx := epochCluster(t)
	w := startWriteLoad(ctx, c, epochRange, func(k string) []byte { return kvtest.RangeKey(epochRange, k) })
	w.waitAcked(ctx, t, 20)
	old, lh := currentLease(t, c, epochRange)
	c.StopNode(lh)
	// Past the dead node's liveness, and past any expiration lease it held
	// on the liveness range.
	c.Manual.Increment(int64(livenessDuration + leaseDuration + time.Second))
	w.waitAcked(ctx, t, w.count()+20)
	w.finish(ctx, t)

	nl, newLH := currentLease(t, c, epochRange)
	if newLH == lh || nl.Sequence <= old.Sequence || nl.Epoch == 0 {
		t.Fatalf("lease %v did not move from n%d's %v", nl, lh, old)
	}
	rec, ok := c.Nodes[newLH-1].Liveness.GetLiveness(kvserver.NodeID(lh))
	if !ok || rec.Epoch <= old.Epoch {
		t.Fatalf("n%d's epoch was not incremented past %d: %v", lh, old.Epoch, rec)
	}

	c.RestartNode(lh)
	waitHeartbeated(ctx, t, c, lh)
	self, _ := c.Nodes[lh-1].Liveness.Self()
	if self.Epoch <= rec.Epoch {
		t.Fatalf("restarted n%d is at epoch %d, want above %d", lh, self.Epoch, rec.Epoch)
	}
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	dumpOnErr(ctx, t, c, c.Put(pctx, epochRange, kvtest.RangeKey(epochRange, "after"), []byte("restart")))
	if l, _ := currentLease(t, c, epochRange); l.Sequence < nl.Sequence || (l.Replica.NodeId == int32(lh) && l.Epoch != self.Epoch) {
		t.Fatalf("lease after the restart: %v", l)
	}
	if err := c.CheckConsistency(ctx, epochRange); err != nil {
		t.Fatal(err)
	}
}

// TestEpochLeaseNoStaleReadWhenPartitioned cuts the epoch leaseholder off:
// it cannot heartbeat, so once its liveness record expires it stops
// serving reads, while the majority increments its epoch and writes on.
func TestEpochLeaseNoStaleReadWhenPartitioned(t *testing.T) {
	c, ctx := epochCluster(t)
	if err := sendTo(ctx, c, []int{1, 2, 3}, epochPut("k", "old")); err != nil {
		t.Fatal(err)
	}
	old, lh := currentLease(t, c, epochRange)
	c.Transport.Isolate(kvserver.NodeID(lh), []kvserver.NodeID{1, 2, 3})
	c.Manual.Increment(int64(livenessDuration + leaseDuration + time.Second))
	if err := sendTo(ctx, c, others(lh), epochPut("k", "new")); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		resp, err := c.Nodes[lh-1].Store.Send(rctx, epochGet("k"))
		cancel()
		if err == nil {
			t.Fatalf("the partitioned old leaseholder served a read after its liveness expired: %q", resp.Responses[0].GetGet().Value)
		}
		var nlhe *kvserver.NotLeaseHolderError
		if !errors.As(err, &nlhe) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	for _, n := range others(lh) {
		rec, ok := c.Nodes[n-1].Liveness.GetLiveness(kvserver.NodeID(lh))
		if ok && rec.Epoch > old.Epoch {
			break
		}
		if n == others(lh)[1] {
			t.Fatalf("the majority did not end n%d's epoch %d", lh, old.Epoch)
		}
	}
	c.Transport.Heal()
	v, _, err := c.Get(ctx, epochRange, kvtest.RangeKey(epochRange, "k"))
	if err != nil || string(v) != "new" {
		t.Fatalf("after healing: %q %v", v, err)
	}
	if err := c.CheckConsistency(ctx, epochRange); err != nil {
		t.Fatal(err)
	}
}

// TestEpochLeaseRestartStartsNewEpoch restarts the epoch leaseholder at
// once, while its liveness record is still live at the lease's epoch. Cut
// off from the liveness range, it must not serve under the lease it finds
// on disk; once it can heartbeat it starts a new epoch, which ends the old
// lease at once: the range moves on to a new lease without waiting for the
// old record to expire (no clock movement in this test).
func TestEpochLeaseRestartStartsNewEpoch(t *testing.T) {
	c, ctx := epochCluster(t)
	old, lh := currentLease(t, c, epochRange)
	// With the liveness range's lease too, the restarted node reads its
	// previous incarnation's record, still live, from its own replica: the
	// record must not revive the lease.
	if _, err := c.Send(ctx, kvtest.LivenessRangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
		TransferLease: &rangepb.TransferLeaseRequest{Target: &rangepb.ReplicaDescriptor{NodeId: int32(lh), StoreId: int32(lh), ReplicaId: int32(lh)}},
	}}); err != nil {
		t.Fatal(err)
	}
	lr, err := c.Nodes[lh-1].Store.GetReplica(kvtest.LivenessRangeID)
	if err != nil {
		t.Fatal(err)
	}
	for lr.Lease().Replica.NodeId != int32(lh) {
		if ctx.Err() != nil {
			t.Fatalf("liveness lease %v not moved to n%d", lr.Lease(), lh)
		}
		waitFor(time.Millisecond)
	}
	c.StopNode(lh)
	c.Transport.Isolate(kvserver.NodeID(lh), []kvserver.NodeID{1, 2, 3})
	c.RestartNode(lh)
	// Spread over a while, so that the node's first heartbeat has read its
	// old record (and failed to write the new one) in between.
	for range 15 {
		rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err := c.Nodes[lh-1].Store.Send(rctx, epochGet("init"))
		cancel()
		if err == nil {
			t.Fatal("the restarted node served under its previous incarnation's lease")
		}
		waitFor(20 * time.Millisecond)
	}
	c.Transport.Heal()
	waitHeartbeated(ctx, t, c, lh)
	// A new epoch: one more than the lease's, or two when another node
	// incremented the epoch of the isolated node (its record expired while
	// it was cut off) before the node's own restart increment.
	self, _ := c.Nodes[lh-1].Liveness.Self()
	if self.Epoch <= old.Epoch {
		t.Fatalf("restarted n%d at epoch %d, want above %d", lh, self.Epoch, old.Epoch)
	}
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	dumpOnErr(ctx, t, c, c.Put(pctx, epochRange, kvtest.RangeKey(epochRange, "after"), []byte("restart")))
	l, holder := currentLease(t, c, epochRange)
	if l.Sequence <= old.Sequence || (holder == lh && l.Epoch != self.Epoch) {
		t.Fatalf("lease after the restart %v (old %v)", l, old)
	}
}

func dumpOnErr(ctx context.Context, t *testing.T, c *kvtest.Cluster, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, n := range c.Nodes {
		r, _ := n.Store.GetReplica(epochRange)
		st := r.RaftStatus()
		self, _ := n.Liveness.Self()
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := n.Store.Send(sctx, epochGet("init"))
		cancel()
		t.Logf("n%d: raft %v lead %d term %d applied %d; lease %v; self %v; err %v", n.ID, st.RaftState, st.Lead, st.Term, st.Applied, r.Lease(), self, err)
	}
	t.Fatal(err)
}
