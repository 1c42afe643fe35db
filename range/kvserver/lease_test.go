package kvserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// threeReplicas returns a 3-node cluster whose range 1 has a voter on every
// node and a leaseholder.
func threeReplicas(t *testing.T) (*kvtest.Cluster, context.Context) {
	t.Helper()
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, 1, []byte("init"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	return c, ctx
}

func leaseExpiration(t *testing.T, c *kvtest.Cluster) (node int, exp int64) {
	t.Helper()
	lh := c.Leaseholder(1)
	r, err := c.Nodes[lh-1].Store.GetReplica(1)
	if err != nil {
		t.Fatal(err)
	}
	return lh, r.Lease().Expiration.WallTime
}

// TestLeaseholderFailover kills the leaseholder of a 3-replica range under
// a write load: once the old lease expires, a new leaseholder takes over
// within the expiry window, writes continue, and no acknowledged write is
// lost.
func TestLeaseholderFailover(t *testing.T) {
	c, ctx := threeReplicas(t)
	w := startWriteLoad(ctx, c, 1, func(k string) []byte { return []byte(k) })
	w.waitAcked(ctx, t, 20)
	lh, exp := leaseExpiration(t, c)
	c.StopNode(lh)
	// Move time past the old lease: another replica must take over.
	c.Manual.Set(exp + 1)
	w.waitAcked(ctx, t, w.count()+20)
	w.finish(ctx, t)

	newLH, _ := leaseExpiration(t, c)
	if newLH == lh || newLH == 0 {
		t.Fatalf("lease still with n%d", newLH)
	}
	r, _ := c.Nodes[newLH-1].Store.GetReplica(1)
	if start := r.Lease().Start.WallTime; start > exp+int64(time.Second) {
		t.Fatalf("new lease starts %s after the old one expired", time.Duration(start-exp))
	}
	c.RestartNode(lh)
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

// TestMinorityPartitionCannotCommit cuts the leaseholder off from the other
// two replicas: its writes never commit, while the majority, once the old
// lease has expired, elects a new leaseholder and carries on. After the
// partition heals, the cut-off write is nowhere.
func TestMinorityPartitionCannotCommit(t *testing.T) {
	c, ctx := threeReplicas(t)
	lh, exp := leaseExpiration(t, c)
	c.Transport.Isolate(kvserver.NodeID(lh), []kvserver.NodeID{1, 2, 3})

	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := c.Nodes[lh-1].Store.Send(wctx, putBatch("minority", "lost"))
	cancel()
	if err == nil {
		t.Fatal("a write on the minority side of a partition committed")
	}

	c.Manual.Set(exp + 1)
	if err := sendTo(ctx, c, others(lh), putBatch("majority", "ok")); err != nil {
		t.Fatal(err)
	}
	c.Transport.Heal()
	if err := c.Put(ctx, 1, []byte("after"), []byte("heal")); err != nil {
		t.Fatal(err)
	}
	if _, found, err := c.Get(ctx, 1, []byte("minority")); err != nil || found {
		t.Fatalf("the minority write surfaced: found=%v err=%v", found, err)
	}
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

// TestNoStaleReadAfterLeaseExpiry: a partitioned old leaseholder whose lease
// has expired refuses reads, while the majority has moved on.
func TestNoStaleReadAfterLeaseExpiry(t *testing.T) {
	c, ctx := threeReplicas(t)
	if err := c.Put(ctx, 1, []byte("k"), []byte("old")); err != nil {
		t.Fatal(err)
	}
	lh, exp := leaseExpiration(t, c)
	c.Transport.Isolate(kvserver.NodeID(lh), []kvserver.NodeID{1, 2, 3})
	c.Manual.Set(exp + 1)
	if err := sendTo(ctx, c, others(lh), putBatch("k", "new")); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		resp, err := c.Nodes[lh-1].Store.Send(rctx, getBatch("k"))
		cancel()
		if err == nil {
			t.Fatalf("the partitioned old leaseholder served a read after its lease expired: %q", resp.Responses[0].GetGet().Value)
		}
		var nlhe *kvserver.NotLeaseHolderError
		if !errors.As(err, &nlhe) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	c.Transport.Heal()
	v, _, err := c.Get(ctx, 1, []byte("k"))
	if err != nil || string(v) != "new" {
		t.Fatalf("after healing: %q %v", v, err)
	}
}

func putBatch(k, v string) *rangepb.BatchRequest {
	return &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: 1}, Requests: []*rangepb.RequestUnion{
		{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(k), Value: []byte(v)}}},
	}}
}

func getBatch(k string) *rangepb.BatchRequest {
	return &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: 1}, Requests: []*rangepb.RequestUnion{
		{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(k)}}},
	}}
}

// sendTo sends ba to the given nodes in turn until one serves it (one may
// first have to win an election and acquire the lease), ignoring hints that
// point elsewhere: the test knows which nodes can serve.
func sendTo(ctx context.Context, c *kvtest.Cluster, nodes []int, ba *rangepb.BatchRequest) error {
	for i := 0; ; i++ {
		actx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		_, err := c.Nodes[nodes[i%len(nodes)]-1].Store.Send(actx, ba)
		cancel()
		var nlhe *kvserver.NotLeaseHolderError
		if err == nil || (!errors.As(err, &nlhe) && !errors.Is(err, context.DeadlineExceeded)) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		waitFor(2 * time.Millisecond)
	}
}

// others returns the nodes of 1..3 other than n.
func others(n int) []int {
	var out []int
	for i := 1; i <= 3; i++ {
		if i != n {
			out = append(out, i)
		}
	}
	return out
}

// waitFor lets real time pass between polls of a condition.
func waitFor(d time.Duration) {
	t := time.NewTimer(d)
	<-t.C
}
