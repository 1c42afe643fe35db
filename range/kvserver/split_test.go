package kvserver_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// newSplitCluster starts a cluster whose range 1 (every key, meta2
// included) is replicated on every node, and a DistSender over it.
func newSplitCluster(t *testing.T, opts kvtest.Options) (*kvtest.Cluster, *kvclient.DistSender) {
	t.Helper()
	c := kvtest.NewCluster(t, opts)
	ctx := testCtx(t)
	if len(c.Nodes) > 1 {
		var nodes []int
		for i := 2; i <= len(c.Nodes); i++ {
			nodes = append(nodes, i)
		}
		if _, err := c.AddVoters(ctx, 1, nodes...); err != nil {
			t.Fatal(err)
		}
	}
	return c, kvclient.NewDistSender(c)
}

func put(key, value string) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(key), Value: []byte(value)}}}
}

func get(key string) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(key)}}}
}

func scan(start, end string, maxKeys int64, reverse bool) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
		Span: &rangepb.Span{Key: []byte(start), EndKey: []byte(end)}, MaxKeys: maxKeys, Reverse: reverse,
	}}}
}

func send(ctx context.Context, ds *kvclient.DistSender, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return ds.Send(ctx, &rangepb.BatchRequest{Requests: reqs})
}

// userKey returns the i-th key of the tests' keyspace.
func userKey(i int) string { return fmt.Sprintf("k%05d", i) }

// scanAll reads [start, end) through ds.
func scanAll(t *testing.T, ctx context.Context, ds *kvclient.DistSender, start, end string) []*rangepb.KeyValue {
	t.Helper()
	resp, err := send(ctx, ds, scan(start, end, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Responses[0].GetScan().Rows
}

// meta2Records reads every meta2 record from range 1.
func meta2Records(t *testing.T, ctx context.Context, c *kvtest.Cluster) []*rangepb.RangeDescriptor {
	t.Helper()
	resp, err := c.Send(ctx, kvserver.MetaRangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
		Span: &rangepb.Span{Key: kv.Meta2Prefix, EndKey: kv.Meta2Max},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*rangepb.RangeDescriptor
	for _, row := range resp.Responses[0].GetScan().Rows {
		d := &rangepb.RangeDescriptor{}
		if err := proto.Unmarshal(row.Value, d); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(row.Key, kv.Meta2Key(d.EndKey)) {
			t.Fatalf("meta2 record at %q holds r%d ending at %q", row.Key, d.RangeId, d.EndKey)
		}
		out = append(out, d)
	}
	return out
}

func TestSplitBasic(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	for i := range 100 {
		if _, err := send(ctx, ds, put(userKey(i), fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	res, err := ds.AdminSplit(ctx, []byte(userKey(50)))
	if err != nil {
		t.Fatal(err)
	}
	left, right := res.Left, res.Right
	if left.RangeId != 1 || !bytes.Equal(left.EndKey, []byte(userKey(50))) || !bytes.Equal(right.StartKey, []byte(userKey(50))) ||
		!bytes.Equal(right.EndKey, kv.KeyMax) || right.RangeId == 1 || len(right.Replicas) != 3 {
		t.Fatalf("split: left %v right %v", left, right)
	}
	rightID := kvserver.RangeID(right.RangeId)
	// Every replica learns of both halves.
	succeedsSoon(t, func() error {
		for _, n := range c.Nodes {
			r, err := n.Store.GetReplica(rightID)
			if err != nil {
				return err
			}
			if d := r.Desc(); d == nil || !proto.Equal(d, right) {
				return errors.Newf("n%d: right-hand replica has %v", n.ID, d)
			}
			l, err := n.Store.GetReplica(1)
			if err != nil {
				return err
			}
			if !proto.Equal(l.Desc(), left) {
				return errors.Newf("n%d: left replica has %v", n.ID, l.Desc())
			}
		}
		return nil
	})
	rows := scanAll(t, ctx, ds, userKey(0), userKey(100))
	if len(rows) != 100 {
		t.Fatalf("scan after the split: %d rows", len(rows))
	}
	for i, row := range rows {
		if string(row.Key) != userKey(i) || string(row.Value) != fmt.Sprint(i) {
			t.Fatalf("row %d: %q=%q", i, row.Key, row.Value)
		}
	}
	// Both halves serve writes and stay consistent.
	for i := range 100 {
		if _, err := send(ctx, ds, put(userKey(i), "again")); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []kvserver.RangeID{1, rightID} {
		if err := c.CheckConsistency(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// Range 1 holds meta2: its split updated both records atomically.
	recs := meta2Records(t, ctx, c)
	if len(recs) != 2 || !proto.Equal(recs[0], left) || !proto.Equal(recs[1], right) {
		t.Fatalf("meta2 after the split: %v", recs)
	}
	checkStats(t, c, 1, rightID)
}

// checkStats checks that every replica's MVCC stats of the given ranges
// equal a recomputation over their data.
func checkStats(t *testing.T, c *kvtest.Cluster, ids ...kvserver.RangeID) {
	t.Helper()
	for _, n := range c.Nodes {
		if !n.Alive() {
			continue
		}
		for _, id := range ids {
			r, err := n.Store.GetReplica(id)
			if err != nil {
				t.Fatal(err)
			}
			got, want, err := r.StatsAndRecompute()
			if err != nil {
				t.Fatal(err)
			}
			if got.LiveBytes != want.LiveBytes || got.KeyBytes != want.KeyBytes || got.ValBytes != want.ValBytes ||
				got.LiveCount != want.LiveCount || got.KeyCount != want.KeyCount {
				t.Fatalf("n%d r%d: stats %v, recomputed %v", n.ID, id, got, want)
			}
		}
	}
}

// succeedsSoon polls fn until it returns nil, failing the test with fn's
// last error after a deadline.
func succeedsSoon(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		err := fn()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatal(err)
		default:
		}
		waitFor(5 * time.Millisecond)
	}
}
