package kvserver_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3/raftpb"
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

// splitAt splits through ds and fails the test on error.
func splitAt(t *testing.T, ctx context.Context, ds *kvclient.DistSender, key string) *rangepb.AdminSplitResponse {
	t.Helper()
	res, err := ds.AdminSplit(ctx, []byte(key))
	if err != nil {
		t.Fatalf("split at %q: %v", key, err)
	}
	return res
}

// checkReads reads every key of want through ds (one batch of Gets
// spanning every range, then a scan) and compares.
func checkReads(t *testing.T, ctx context.Context, ds *kvclient.DistSender, want map[string]string, n int) {
	t.Helper()
	var reqs []*rangepb.RequestUnion
	for i := range n {
		reqs = append(reqs, get(userKey(i)))
	}
	resp, err := send(ctx, ds, reqs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range resp.Responses {
		k := userKey(i)
		g := res.GetGet()
		v, ok := want[k]
		if g.Found != ok || string(g.Value) != v {
			t.Fatalf("get %s: found %v %q, want %v %q", k, g.Found, g.Value, ok, v)
		}
	}
	rows := scanAll(t, ctx, ds, userKey(0), userKey(n))
	if len(rows) != len(want) {
		t.Fatalf("scan: %d rows, want %d", len(rows), len(want))
	}
	for _, row := range rows {
		if want[string(row.Key)] != string(row.Value) {
			t.Fatalf("scan: %s=%q, want %q", row.Key, row.Value, want[string(row.Key)])
		}
	}
}

// TestSplitUnderWriteLoad splits ranges (range 1, whose split updates meta2
// in the same command, and others, updated by a follow-up write) while
// writers keep writing through DistSenders with their own caches; every
// acknowledged write reads back afterwards.
func TestSplitUnderWriteLoad(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	const keys = 2000
	// Each writer owns the keys ≡ w (mod 4) and writes them in turn, so a
	// key holds its last acknowledged value or one whose write failed
	// after it (an ambiguous failure may have applied).
	var mu sync.Mutex
	acked := map[string]string{}
	maybe := map[string]map[string]bool{}
	var failures []error
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wds := kvclient.NewDistSender(c)
			for i := 0; wctx.Err() == nil; i++ {
				k, v := userKey((i*4+w)%keys), fmt.Sprintf("w%d-%d", w, i)
				_, err := send(wctx, wds, put(k, v))
				mu.Lock()
				if err == nil {
					acked[k] = v
					delete(maybe, k)
				} else {
					if maybe[k] == nil {
						maybe[k] = map[string]bool{}
					}
					maybe[k][v] = true
					if wctx.Err() == nil {
						failures = append(failures, err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	for _, at := range []int{1000, 500, 1500, 250, 750, 1250, 1750} {
		succeedsSoon(t, func() error {
			if n := count(); n < at/2 {
				return errors.Newf("only %d writes so far", n)
			}
			return nil
		})
		splitAt(t, ctx, ds, userKey(at))
	}
	waitAcked := count() + 200
	succeedsSoon(t, func() error {
		if n := count(); n < waitAcked {
			return errors.Newf("only %d writes so far", n)
		}
		return nil
	})
	stop()
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d writes failed under splits, the first: %v", len(failures), failures[0])
	}
	rows := scanAll(t, ctx, ds, userKey(0), userKey(keys))
	got := map[string]string{}
	for _, row := range rows {
		got[string(row.Key)] = string(row.Value)
	}
	for i := range keys {
		k := userKey(i)
		v, ok := got[k]
		if want, acked := acked[k]; (ok && v != want && !maybe[k][v]) || (!ok && acked) || (ok && !acked && !maybe[k][v]) {
			t.Fatalf("%s = %q (present %v), last acknowledged %q (%v)", k, v, ok, want, acked)
		}
	}
	recs := waitMeta2(t, ctx, c, 8)
	ids := []kvserver.RangeID{}
	for _, d := range recs {
		ids = append(ids, kvserver.RangeID(d.RangeId))
		if err := c.CheckConsistency(ctx, kvserver.RangeID(d.RangeId)); err != nil {
			t.Fatal(err)
		}
	}
	checkStats(t, c, ids...)
}

// waitMeta2 waits until meta2 holds n records that tile the keyspace (the
// follow-up writes of splits of ranges other than range 1 are
// asynchronous) and returns them.
func waitMeta2(t *testing.T, ctx context.Context, c *kvtest.Cluster, n int) []*rangepb.RangeDescriptor {
	t.Helper()
	var recs []*rangepb.RangeDescriptor
	succeedsSoon(t, func() error {
		recs = meta2Records(t, ctx, c)
		if len(recs) != n {
			return errors.Newf("meta2 has %d records, want %d", len(recs), n)
		}
		if len(recs[0].StartKey) != 0 || !bytes.Equal(recs[n-1].EndKey, kv.KeyMax) {
			return errors.Newf("meta2 records span [%q, %q)", recs[0].StartKey, recs[n-1].EndKey)
		}
		for i := 1; i < len(recs); i++ {
			if !bytes.Equal(recs[i-1].EndKey, recs[i].StartKey) {
				return errors.Newf("meta2 records %v and %v do not meet", recs[i-1], recs[i])
			}
		}
		return nil
	})
	return recs
}

// writeKeys writes userKey(i) = v for i in [from, to) through ds.
func writeKeys(t *testing.T, ctx context.Context, ds *kvclient.DistSender, want map[string]string, from, to int, v string) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := send(ctx, ds, put(userKey(i), v)); err != nil {
			t.Fatal(err)
		}
		want[userKey(i)] = v
	}
}

// waitReplicaDesc waits until node's replica of id is initialized with
// the descriptor want.
func waitReplicaDesc(t *testing.T, c *kvtest.Cluster, node int, want *rangepb.RangeDescriptor) {
	t.Helper()
	succeedsSoon(t, func() error {
		r, err := c.Nodes[node-1].Store.GetReplica(kvserver.RangeID(want.RangeId))
		if err != nil {
			return err
		}
		if d := r.Desc(); !proto.Equal(d, want) {
			return errors.Newf("n%d r%d: descriptor %v, want %v", node, want.RangeId, d, want)
		}
		return nil
	})
}

// TestSplitWithPartitionedFollower splits while a follower is cut off; once
// healed, the follower learns of the split from the log, or, when the logs
// were truncated meanwhile, from snapshots of both halves (the right-hand
// one refused until the left's has shrunk the left replica).
func TestSplitWithPartitionedFollower(t *testing.T) {
	for _, tc := range []struct {
		name      string
		truncate  uint64
		snapshots bool
	}{{"log", 0, false}, {"snapshot", 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := kvtest.Options{Nodes: 3}
			opts.StoreConfig.RaftLogTruncationThreshold = tc.truncate
			c, ds := newSplitCluster(t, opts)
			ctx := testCtx(t)
			want := map[string]string{}
			writeKeys(t, ctx, ds, want, 0, 100, "a")
			// The follower must not be the leaseholder.
			follower := 3
			if c.Leaseholder(1) == 3 {
				follower = 2
			}
			snaps := c.Nodes[follower-1].Store.SnapshotsApplied()
			c.Transport.Isolate(kvserver.NodeID(follower), []kvserver.NodeID{1, 2, 3})
			res := splitAt(t, ctx, ds, userKey(50))
			writeKeys(t, ctx, ds, want, 0, 100, "b")
			split2 := splitAt(t, ctx, ds, userKey(75))
			writeKeys(t, ctx, ds, want, 0, 100, "c")
			if _, err := c.Nodes[follower-1].Store.GetReplica(kvserver.RangeID(res.Right.RangeId)); err == nil {
				t.Fatalf("n%d has the right-hand side while partitioned", follower)
			}
			c.Transport.Heal()
			for _, d := range []*rangepb.RangeDescriptor{res.Left, split2.Left, split2.Right} {
				waitReplicaDesc(t, c, follower, d)
			}
			checkReads(t, ctx, ds, want, 100)
			for _, id := range []int64{1, res.Right.RangeId, split2.Right.RangeId} {
				succeedsSoon(t, func() error { return c.CheckConsistency(ctx, kvserver.RangeID(id)) })
			}
			// With truncated logs the follower's left caught up by a
			// snapshot, which shrank it without its applying the split.
			// (Without, it applies the split from the log; the right-hand
			// leaders may still send snapshots to right-hand replicas they
			// first found empty, accepted once the split made room.)
			if n := c.Nodes[follower-1].Store.SnapshotsApplied() - snaps; tc.snapshots && n < 1 {
				t.Fatalf("n%d applied %d snapshots", follower, n)
			}
		})
	}
}

// TestSplitRightHandSideCreatedFirst: a follower's left replica lags while
// the right-hand range's leader already talks to it, so its right-hand
// replica exists, uninitialized, before the split applies there; the
// split trigger then initializes it in place.
func TestSplitRightHandSideCreatedFirst(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	follower := 3
	if c.Leaseholder(1) == 3 {
		follower = 2
	}
	// Range 1's messages to the follower are lost; every other range's
	// go through.
	var blocked atomic.Bool
	blocked.Store(true)
	c.Transport.SetFilter(func(from, to kvserver.NodeID, id kvserver.RangeID, msg raftpb.Message) bool {
		return !(blocked.Load() && id == 1 && to == kvserver.NodeID(follower))
	})
	res := splitAt(t, ctx, ds, userKey(50))
	writeKeys(t, ctx, ds, want, 50, 100, "b")
	rightID := kvserver.RangeID(res.Right.RangeId)
	succeedsSoon(t, func() error {
		r, err := c.Nodes[follower-1].Store.GetReplica(rightID)
		if err != nil {
			return err
		}
		if r.Desc() != nil {
			return errors.Newf("n%d: right-hand replica initialized before the split applied", follower)
		}
		if r.RaftStatus() == nil {
			return errors.Newf("n%d: right-hand replica has no raft group", follower)
		}
		return nil
	})
	blocked.Store(false)
	waitReplicaDesc(t, c, follower, res.Left)
	waitReplicaDesc(t, c, follower, res.Right)
	writeKeys(t, ctx, ds, want, 0, 100, "c")
	checkReads(t, ctx, ds, want, 100)
	for _, id := range []kvserver.RangeID{1, rightID} {
		succeedsSoon(t, func() error { return c.CheckConsistency(ctx, id) })
	}
	// The follower's right-hand replica took part: it has every write.
	succeedsSoon(t, func() error {
		r, _ := c.Nodes[follower-1].Store.GetReplica(rightID)
		lh, _ := c.Nodes[c.Leaseholder(rightID)-1].Store.GetReplica(rightID)
		if r.AppliedIndex() != lh.AppliedIndex() {
			return errors.Newf("n%d applied %d, leaseholder %d", follower, r.AppliedIndex(), lh.AppliedIndex())
		}
		return nil
	})
	checkStats(t, c, 1, rightID)
}

// TestSplitThenChangeReplicas moves the right-hand side of a split: a
// voter added on a fourth node, one removed.
func TestSplitThenChangeReplicas(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 4})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	ds := kvclient.NewDistSender(c)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	res := splitAt(t, ctx, ds, userKey(50))
	rightID := kvserver.RangeID(res.Right.RangeId)
	if _, err := c.AddVoters(ctx, rightID, 4); err != nil {
		for _, n := range c.Nodes {
			if r, err := n.Store.GetReplica(rightID); err == nil {
				t.Logf("n%d: %s", n.ID, r.DebugState())
			}
		}
		t.Fatal(err)
	}
	remove := 2
	if c.Leaseholder(rightID) == 2 {
		remove = 3
	}
	desc, err := c.RemoveVoters(ctx, rightID, remove)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Replicas) != 3 || !bytes.Equal(desc.StartKey, res.Right.StartKey) || !bytes.Equal(desc.EndKey, res.Right.EndKey) {
		t.Fatalf("right-hand side after the moves: %v", desc)
	}
	writeKeys(t, ctx, ds, want, 0, 100, "b")
	checkReads(t, ctx, ds, want, 100)
	succeedsSoon(t, func() error {
		if _, err := c.Nodes[remove-1].Store.GetReplica(rightID); err == nil {
			return errors.Newf("n%d still has r%d", remove, rightID)
		}
		return nil
	})
	// The left is untouched by the moves, and the removed node keeps it.
	if _, err := c.Nodes[remove-1].Store.GetReplica(1); err != nil {
		t.Fatal(err)
	}
	for _, id := range []kvserver.RangeID{1, rightID} {
		if err := c.CheckConsistency(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// Meta2 catches up with the moves (the new leaseholder, or none: the
	// record's replicas are a routing hint, not part of addressing).
	waitMeta2(t, ctx, c, 2)
}

// TestManySplits splits one range into 101 (splits of range 1 and of the
// ranges split off it), then scans across all of them, forwards and
// backwards, whole and with limits, through a DistSender with a cold cache.
func TestManySplits(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	const keys = 1000
	want := map[string]string{}
	var reqs []*rangepb.RequestUnion
	for i := range keys {
		reqs = append(reqs, put(userKey(i), fmt.Sprint(i)))
		want[userKey(i)] = fmt.Sprint(i)
	}
	if _, err := send(ctx, ds, reqs...); err != nil {
		t.Fatal(err)
	}
	// Splits in a shuffled order, so that most split a range other than
	// range 1.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(100) {
		splitAt(t, ctx, ds, userKey((i+1)*10-3))
	}
	recs := waitMeta2(t, ctx, c, 101)
	ids := map[int64]bool{}
	for _, d := range recs {
		ids[d.RangeId] = true
	}
	if len(ids) != 101 {
		t.Fatalf("meta2 names %d distinct ranges", len(ids))
	}
	cold := kvclient.NewDistSender(c)
	checkReads(t, ctx, cold, want, keys)
	// A reverse scan returns everything in descending order.
	resp, err := send(ctx, cold, scan(userKey(0), userKey(keys), 0, true))
	if err != nil {
		t.Fatal(err)
	}
	rows := resp.Responses[0].GetScan().Rows
	if len(rows) != keys || string(rows[0].Key) != userKey(keys-1) || string(rows[keys-1].Key) != userKey(0) {
		t.Fatalf("reverse scan: %d rows", len(rows))
	}
	// Paging with max_keys across range boundaries, both directions.
	for _, reverse := range []bool{false, true} {
		for _, page := range []int64{1, 7, 10, 33} {
			var got []string
			start, end := userKey(0), userKey(keys)
			for {
				resp, err := send(ctx, cold, scan(start, end, page, reverse))
				if err != nil {
					t.Fatal(err)
				}
				s := resp.Responses[0].GetScan()
				if int64(len(s.Rows)) > page {
					t.Fatalf("page of %d returned %d rows", page, len(s.Rows))
				}
				for _, row := range s.Rows {
					got = append(got, string(row.Key))
				}
				if len(s.ResumeKey) == 0 {
					break
				}
				if int64(len(s.Rows)) != page {
					t.Fatalf("page of %d stopped early with %d rows", page, len(s.Rows))
				}
				if reverse {
					end = string(s.ResumeKey)
				} else {
					start = string(s.ResumeKey)
				}
			}
			if len(got) != keys {
				t.Fatalf("reverse=%v page=%d: %d rows", reverse, page, len(got))
			}
			for i, k := range got {
				j := i
				if reverse {
					j = keys - 1 - i
				}
				if k != userKey(j) {
					t.Fatalf("reverse=%v page=%d: row %d is %s", reverse, page, i, k)
				}
			}
		}
	}
	// A delete range across every range.
	resp, err = send(ctx, cold, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_DeleteRange{DeleteRange: &rangepb.DeleteRangeRequest{
		Span: &rangepb.Span{Key: []byte(userKey(100)), EndKey: []byte(userKey(900))},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := resp.Responses[0].GetDeleteRange().Deleted; n != 800 {
		t.Fatalf("delete range deleted %d", n)
	}
	for i := 100; i < 900; i++ {
		delete(want, userKey(i))
	}
	checkReads(t, ctx, ds, want, keys)
	for _, d := range recs[:5] {
		if err := c.CheckConsistency(ctx, kvserver.RangeID(d.RangeId)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRestartAfterSplits restarts every node after splits: each reloads its
// replicas from their descriptors and serves on.
func TestRestartAfterSplits(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	for _, at := range []int{50, 20, 80} {
		splitAt(t, ctx, ds, userKey(at))
	}
	recs := waitMeta2(t, ctx, c, 4)
	for n := 1; n <= 3; n++ {
		c.StopNode(n)
		c.RestartNode(n)
		for _, d := range recs {
			waitReplicaDesc(t, c, n, d)
		}
		writeKeys(t, ctx, ds, want, 0, 100, fmt.Sprintf("after restart of n%d", n))
	}
	// All down at once, then all up.
	for n := 1; n <= 3; n++ {
		c.StopNode(n)
	}
	for n := 1; n <= 3; n++ {
		c.RestartNode(n)
	}
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 100)
	splitAt(t, ctx, ds, userKey(90))
	writeKeys(t, ctx, ds, want, 0, 100, "b")
	checkReads(t, ctx, ds, want, 100)
	for _, d := range waitMeta2(t, ctx, c, 5) {
		if err := c.CheckConsistency(ctx, kvserver.RangeID(d.RangeId)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSplitBadInput: keys a range cannot split at get a typed error and
// change nothing.
func TestSplitBadInput(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 10, "a")
	res := splitAt(t, ctx, ds, userKey(5))
	rightID := kvserver.RangeID(res.Right.RangeId)
	// The last range holds one key: it has no middle to split at.
	last := splitAt(t, ctx, ds, userKey(9))
	for n := 1; n <= 3; n++ {
		for _, d := range []*rangepb.RangeDescriptor{res.Left, last.Left, last.Right} {
			waitReplicaDesc(t, c, n, d)
		}
	}
	before := waitMeta2(t, ctx, c, 3)
	splitReq := func(key []byte) *rangepb.RequestUnion {
		return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_AdminSplit{AdminSplit: &rangepb.AdminSplitRequest{SplitKey: key}}}
	}
	for _, tc := range []struct {
		name string
		id   kvserver.RangeID
		key  []byte
		// mismatch: the key is not the range's (RangeKeyMismatchError);
		// otherwise an InvalidSplitKeyError.
		mismatch bool
	}{
		{"start key of the right", rightID, []byte(userKey(5)), false},
		{"no key, and one key in the range", kvserver.RangeID(last.Right.RangeId), nil, false},
		{"local key", 1, append(append([]byte{}, kv.LocalRangeIDPrefix...), 'x'), false},
		{"meta2 key", 1, kv.Meta2Key([]byte("k")), false},
		{"system key", 1, kv.RangeIDGeneratorKey, false},
		{"left of the range", rightID, []byte(userKey(1)), true},
		{"right of the range", 1, []byte(userKey(7)), true},
		{"end key", 1, []byte(userKey(5)), true},
		{"beyond every key", rightID, append(append([]byte{}, kv.KeyMax...), 0), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Send(ctx, tc.id, splitReq(tc.key))
			var isk *kvserver.InvalidSplitKeyError
			var rkm *kvserver.RangeKeyMismatchError
			switch {
			case tc.mismatch && !errors.As(err, &rkm):
				t.Fatalf("want a RangeKeyMismatchError, got %v", err)
			case !tc.mismatch && !errors.As(err, &isk):
				t.Fatalf("want an InvalidSplitKeyError, got %v", err)
			}
			t.Log(err)
		})
	}
	// Through the DistSender the same keys fail the same way, or (keys of
	// another range) are routed there.
	if _, err := ds.AdminSplit(ctx, []byte(userKey(5))); !errors.As(err, new(*kvserver.InvalidSplitKeyError)) {
		t.Fatalf("split at an existing boundary: %v", err)
	}
	if _, err := ds.AdminSplit(ctx, kv.RangeIDGeneratorKey); !errors.As(err, new(*kvserver.InvalidSplitKeyError)) {
		t.Fatalf("split in the system keyspace: %v", err)
	}
	// Nothing changed.
	after := meta2Records(t, ctx, c)
	if len(after) != len(before) {
		t.Fatalf("meta2 changed: %v, then %v", before, after)
	}
	for i := range after {
		if !proto.Equal(after[i], before[i]) {
			t.Fatalf("meta2 changed: %v, then %v", before, after)
		}
	}
	for _, n := range c.Nodes {
		if got := len(n.Store.Replicas()); got != 3 {
			t.Fatalf("n%d has %d replicas", n.ID, got)
		}
		for _, d := range before {
			r, err := n.Store.GetReplica(kvserver.RangeID(d.RangeId))
			if err != nil || !proto.Equal(r.Desc(), d) {
				t.Fatalf("n%d r%d: %v %v", n.ID, d.RangeId, r.Desc(), err)
			}
		}
	}
	checkReads(t, ctx, ds, want, 10)
}

// TestMeta2AtomicWithSplit: a split of a range other than range 1 writes
// its meta2 records in the transaction that splits. With the follow-up
// meta2 writes off (they only serve replica changes and new leaseholders
// now), meta2 holds both halves as soon as the split returns; and a reader
// scanning meta2 over and over while splits run under write load sees
// records that tile the keyspace every time (before splits were
// transactional, it saw a range missing or two overlapping).
func TestMeta2AtomicWithSplit(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 200, "a")
	splitAt(t, ctx, ds, userKey(100))
	waitMeta2(t, ctx, c, 2)
	for _, n := range c.Nodes {
		n.Store.SetMeta2UpdatesDisabled(true)
	}
	second := splitAt(t, ctx, ds, userKey(150))
	recs := meta2Records(t, ctx, c)
	if len(recs) != 3 || !proto.Equal(recs[1], second.Left) || !proto.Equal(recs[2], second.Right) {
		t.Fatalf("meta2 right after the split: %v", recs)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	var scans, writes atomic.Int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := c.Send(ctx, kvserver.MetaRangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
				Span: &rangepb.Span{Key: kv.Meta2Prefix, EndKey: kv.Meta2Max},
			}}})
			if err != nil {
				errs <- err
				return
			}
			var prev []byte
			for i, row := range resp.Responses[0].GetScan().Rows {
				d := &rangepb.RangeDescriptor{}
				if err := proto.Unmarshal(row.Value, d); err != nil {
					errs <- err
					return
				}
				if (i == 0 && len(d.StartKey) != 0) || (i > 0 && !bytes.Equal(prev, d.StartKey)) {
					errs <- errors.Newf("meta2 scan %d: r%d starts at %q, the record before ends at %q", scans.Load(), d.RangeId, d.StartKey, prev)
					return
				}
				prev = d.EndKey
			}
			if !bytes.Equal(prev, kv.KeyMax) {
				errs <- errors.Newf("meta2 scan %d: the records end at %q", scans.Load(), prev)
				return
			}
			scans.Add(1)
		}
	}()
	go func() {
		defer wg.Done()
		wds := kvclient.NewDistSender(c)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := send(ctx, wds, put(userKey(i%200), "w")); err != nil {
				errs <- err
				return
			}
			writes.Add(1)
		}
	}()
	for i := 1; i <= 20; i++ {
		if i%5 == 0 {
			continue // boundaries already there
		}
		splitAt(t, ctx, ds, userKey(i*10))
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d meta2 scans, %d writes during the splits", scans.Load(), writes.Load())
	if got := len(meta2Records(t, ctx, c)); got != 19 {
		t.Fatalf("meta2 has %d records, want 19", got)
	}
	rows := scanAll(t, ctx, kvclient.NewDistSender(c), userKey(0), userKey(200))
	if len(rows) != 200 {
		t.Fatalf("scan after the splits: %d rows", len(rows))
	}
}

// TestConcurrentSplitsAndReplicaChanges splits from several clients at
// once, racing a replica change of the range being split: latches order
// the splits, a split evaluated against a descriptor the other changed is
// rejected at apply (and retried), and every range ends up consistent.
func TestConcurrentSplitsAndReplicaChanges(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 4})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	ds := kvclient.NewDistSender(c)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 200, "a")
	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, 20)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cds := kvclient.NewDistSender(c)
			for i := 1; i <= 2; i++ {
				key := []byte(userKey(w*24 + i*8))
				for {
					_, err := cds.AdminSplit(ctx, key)
					if err == nil {
						break
					}
					if ctx.Err() != nil || errors.As(err, new(*kvserver.InvalidSplitKeyError)) {
						errs <- err
						return
					}
					retries.Add(1)
					// Rejected by the racing replica change (a learner, a
					// descriptor that changed): try again.
					waitFor(time.Millisecond)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			_, err := c.AddVoters(ctx, 1, 4)
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				errs <- err
				return
			}
			waitFor(time.Millisecond)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d split attempts retried", retries.Load())
	recs := waitMeta2(t, ctx, c, 17)
	writeKeys(t, ctx, ds, want, 0, 200, "b")
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 200)
	for _, d := range recs {
		id := kvserver.RangeID(d.RangeId)
		succeedsSoon(t, func() error { return c.CheckConsistency(ctx, id) })
	}
	// Range 1 got its fourth voter (the ranges split off before that have
	// three voters, those split after four).
	r1, _ := c.Nodes[0].Store.GetReplica(1)
	if len(r1.Desc().Replicas) != 4 {
		t.Fatalf("range 1 has %v", r1.Desc().Replicas)
	}
}

// TestSplitOffLivenessSpan: system keys above the range ID generator may
// move to a range of their own (the liveness range, next), while meta2 and
// the generator stay in range 1.
func TestSplitOffLivenessSpan(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	start, end := liveness.Span()
	mid := splitAt(t, ctx, ds, string(start))
	hi := splitAt(t, ctx, ds, string(end))
	if !bytes.Equal(mid.Right.StartKey, start) || !bytes.Equal(hi.Left.EndKey, end) || mid.Right.RangeId != hi.Left.RangeId {
		t.Fatalf("liveness range: %v, then %v", mid.Right, hi.Left)
	}
	livenessKey := liveness.Key(2)
	if _, err := send(ctx, ds, put(string(livenessKey), "record"), put(userKey(1), "user")); err != nil {
		t.Fatal(err)
	}
	d, err := ds.RangeFor(ctx, livenessKey)
	if err != nil || d.RangeId != hi.Left.RangeId {
		t.Fatalf("liveness key in %v (%v)", d, err)
	}
	if _, err := ds.AdminSplit(ctx, kv.RangeIDGeneratorKey); !errors.As(err, new(*kvserver.InvalidSplitKeyError)) {
		t.Fatalf("split at the range ID generator: %v", err)
	}
	recs := waitMeta2(t, ctx, c, 3)
	if recs[0].RangeId != 1 || !bytes.Equal(recs[0].EndKey, start) {
		t.Fatalf("range 1 after the splits: %v", recs[0])
	}
}

// TestRangeKeyMismatchAfterSplit sends requests straight to range 1 for
// keys of what becomes the right-hand side, while the split happens: each
// is served before the split, or answered (also when it waited for the
// split's latches) with a RangeKeyMismatchError that carries range 1's new
// descriptor and the right-hand one.
func TestRangeKeyMismatchAfterSplit(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served, mismatched atomic.Int64
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := userKey(50 + (i*4+w)%50)
				_, err := c.Send(ctx, 1, put(k, "b"))
				var rkm *kvserver.RangeKeyMismatchError
				switch {
				case err == nil:
					served.Add(1)
				case errors.As(err, &rkm):
					mismatched.Add(1)
					if !bytes.Equal(rkm.Desc.EndKey, []byte(userKey(50))) || len(rkm.Ranges) != 1 ||
						!bytes.Equal(rkm.Ranges[0].StartKey, []byte(userKey(50))) {
						errs <- errors.Newf("mismatch for %s carries %v and %v", k, rkm.Desc, rkm.Ranges)
						return
					}
					if mismatched.Load() > 100 {
						return
					}
				default:
					errs <- err
					return
				}
			}
		}()
	}
	succeedsSoon(t, func() error {
		if served.Load() < 50 {
			return errors.Newf("%d writes served", served.Load())
		}
		return nil
	})
	splitAt(t, ctx, ds, userKey(50))
	succeedsSoon(t, func() error {
		if mismatched.Load() < 20 {
			return errors.Newf("%d mismatches", mismatched.Load())
		}
		return nil
	})
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d writes served before the split, %d answered with the new descriptors", served.Load(), mismatched.Load())
}
