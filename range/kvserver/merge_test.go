package kvserver_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvconv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/txn"
	"google.golang.org/protobuf/proto"
)

// TestMergeBasic merges ranges back (a range split off another, then range
// 1, which holds meta2, with its neighbour): meta2 changes with each merge,
// the right-hand replicas go from every store, every key reads and writes
// through the merged range, and its stats and replicas agree.
func TestMergeBasic(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	splitAt(t, ctx, ds, userKey(50))
	second := splitAt(t, ctx, ds, userKey(75))
	for _, d := range []*rangepb.RangeDescriptor{second.Left, second.Right} {
		for n := 1; n <= 3; n++ {
			waitReplicaDesc(t, c, n, d)
		}
	}
	waitMeta2(t, ctx, c, 3)

	res, err := ds.AdminMerge(ctx, []byte(userKey(60)))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Merged
	if m.RangeId != second.Left.RangeId || !bytes.Equal(m.StartKey, []byte(userKey(50))) || !bytes.Equal(m.EndKey, kv.KeyMax) {
		t.Fatalf("merged: %v", m)
	}
	recs := meta2Records(t, ctx, c)
	if len(recs) != 2 || !proto.Equal(recs[1], m) {
		t.Fatalf("meta2 right after the merge: %v", recs)
	}
	gone := kvserver.RangeID(second.Right.RangeId)
	succeedsSoon(t, func() error {
		for _, n := range c.Nodes {
			if _, err := n.Store.GetReplica(gone); err == nil {
				return errors.Newf("n%d still has r%d", n.ID, gone)
			}
		}
		return nil
	})
	for n := 1; n <= 3; n++ {
		waitReplicaDesc(t, c, n, m)
	}
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 100)
	writeKeys(t, ctx, ds, want, 0, 100, "b")
	checkReads(t, ctx, ds, want, 100)
	checkStats(t, c, 1, kvserver.RangeID(m.RangeId))
	checkSysStats(t, c, 1, kvserver.RangeID(m.RangeId))
	if err := c.CheckConsistency(ctx, kvserver.RangeID(m.RangeId)); err != nil {
		t.Fatal(err)
	}

	// Range 1, holding meta2, absorbs the rest.
	res, err = ds.AdminMerge(ctx, []byte(userKey(10)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Merged.RangeId != 1 || !bytes.Equal(res.Merged.EndKey, kv.KeyMax) {
		t.Fatalf("merged: %v", res.Merged)
	}
	waitMeta2(t, ctx, c, 1)
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 100)
	writeKeys(t, ctx, ds, want, 0, 100, "c")
	checkReads(t, ctx, ds, want, 100)
	checkStats(t, c, 1)
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The last range has no neighbour.
	if _, err := ds.AdminMerge(ctx, []byte(userKey(10))); !errors.HasType(err, (*kvserver.CannotMergeError)(nil)) {
		t.Fatalf("merging the last range: %v", err)
	}
	// Split and merge again: the right-hand range gets a new ID.
	again := splitAt(t, ctx, ds, userKey(30))
	if kvserver.RangeID(again.Right.RangeId) == gone {
		t.Fatalf("a range ID was reused: %v", again.Right)
	}
	writeKeys(t, ctx, ds, want, 0, 100, "d")
	if _, err := ds.AdminMerge(ctx, []byte(userKey(10))); err != nil {
		t.Fatal(err)
	}
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 100)
}

// TestMergeCarriesTimestampCache reads a key of the right-hand range at a
// timestamp ahead of every clock, merges, and writes the key: the write
// lands above the read, which only the right-hand range's timestamp cache
// knew of.
func TestMergeCarriesTimestampCache(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	splitAt(t, ctx, ds, userKey(50))
	right := splitAt(t, ctx, ds, userKey(75)).Right
	for n := 1; n <= 3; n++ {
		waitReplicaDesc(t, c, n, right)
	}
	readTs := hlc.Timestamp{WallTime: c.Nodes[0].Clock.Now().WallTime + int64(time.Second)}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	ts := kvconv.TxnMetaFromKV(kv.TxnMeta{WriteTimestamp: readTs, MinTimestamp: readTs}).WriteTimestamp
	txn := &rangepb.Transaction{Meta: &rangepb.TxnMeta{Id: id, WriteTimestamp: ts, MinTimestamp: ts},
		ReadTimestamp: ts, GlobalUncertaintyLimit: ts}
	if _, err := c.SendBatch(ctx, &rangepb.BatchRequest{
		Header: &rangepb.BatchHeader{RangeId: right.RangeId, Txn: txn}, Requests: []*rangepb.RequestUnion{get(userKey(80))},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.AdminMerge(ctx, []byte(userKey(60))); err != nil {
		t.Fatal(err)
	}
	resp, err := send(ctx, ds, put(userKey(80), "after"))
	if err != nil {
		t.Fatal(err)
	}
	wts := resp.Timestamp
	if got := kvconv.TxnMetaToKV(&rangepb.TxnMeta{WriteTimestamp: wts}).WriteTimestamp; !readTs.Less(got) {
		t.Fatalf("the write after the merge landed at %s, at or below the read at %s", got, readTs)
	}
	t.Logf("read at %s, written at %v", readTs, wts)
}

// TestMergeAbortedThaws fails a merge after it froze the right-hand range:
// rolled back, or abandoned as by a dead coordinator (its record then
// expires and the frozen range's own push aborts it). Either way the right
// range thaws and serves again, meta2 is unchanged, and a later merge
// succeeds. Transactions with intents on both sides, their record on the
// right, commit across the final merge.
func TestMergeAbortedThaws(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3, StoreConfig: kvserver.StoreConfig{TxnLivenessThreshold: 300 * time.Millisecond}})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	splitAt(t, ctx, ds, userKey(50))
	right := splitAt(t, ctx, ds, userKey(75)).Right
	for n := 1; n <= 3; n++ {
		waitReplicaDesc(t, c, n, right)
	}
	before := waitMeta2(t, ctx, c, 3)
	for _, failure := range []error{errors.New("injected"), kvserver.ErrAbandonMerge} {
		for _, n := range c.Nodes {
			n.Store.SetMergeHook(func(kvserver.RangeID) error { return failure })
		}
		if _, err := ds.AdminMerge(ctx, []byte(userKey(60))); !errors.Is(err, failure) {
			t.Fatalf("merge with %v: %v", failure, err)
		}
		for _, n := range c.Nodes {
			n.Store.SetMergeHook(nil)
		}
		if errors.Is(failure, kvserver.ErrAbandonMerge) {
			// The abandoned transaction's record expires (the clocks are
			// manual): then pushes abort it.
			c.Manual.Increment(int64(time.Second))
		}
		// The right range serves again.
		writeKeys(t, ctx, kvclient.NewDistSender(c), want, 70, 90, fmt.Sprint(failure))
		checkReads(t, ctx, kvclient.NewDistSender(c), want, 100)
		after := meta2Records(t, ctx, c)
		if len(after) != len(before) {
			t.Fatalf("meta2 after a failed merge: %v", after)
		}
		for i := range after {
			if !proto.Equal(after[i], before[i]) {
				t.Fatalf("meta2 after a failed merge: %v", after)
			}
		}
	}
	// A transaction anchored on the right writes on both sides, the ranges
	// merge, and it commits.
	db := txn.NewDB(kvclient.NewDistSender(c), hlc.NewClock(c.Manual.UnixNano, 0), c.Stopper, txn.Options{HeartbeatInterval: 10 * time.Millisecond})
	tx := db.NewTxn("across")
	for _, k := range []string{userKey(80), userKey(60)} {
		if err := tx.Put(ctx, []byte(k), []byte("txn")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ds.AdminMerge(ctx, []byte(userKey(60))); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want[userKey(80)], want[userKey(60)] = "txn", "txn"
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 100)
	merged := waitMeta2(t, ctx, c, 2)[1]
	succeedsSoon(t, func() error { return c.CheckConsistency(ctx, kvserver.RangeID(merged.RangeId)) })
	checkStats(t, c, kvserver.RangeID(merged.RangeId))
}

// TestMergeQueueLeavesStickySplits: the merge queue merges a boundary an
// ordinary split made, and leaves the one a sticky split (SQL's SPLIT AT)
// made, pass after pass.
func TestMergeQueueLeavesStickySplits(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	forever := kvconv.TxnMetaFromKV(kv.TxnMeta{WriteTimestamp: hlc.MaxTimestamp}).WriteTimestamp
	if _, err := ds.AdminSplitSticky(ctx, []byte(userKey(30)), forever); err != nil {
		t.Fatal(err)
	}
	splitAt(t, ctx, ds, userKey(60))
	waitMeta2(t, ctx, c, 3)
	for _, n := range c.Nodes {
		n.Store.SetQueueSettings(kvserver.QueueSettings{EnableMerges: true, Interval: 10 * time.Millisecond, LoadSplitQPS: -1})
	}
	recs := waitMeta2(t, ctx, c, 2)
	if !bytes.Equal(recs[0].EndKey, []byte(userKey(30))) || recs[1].StickyBit == nil {
		t.Fatalf("after the merge queue: %v", recs)
	}
	passes := func() (n int64) {
		for _, nd := range c.Nodes {
			n += nd.Store.Queues().Passes.Load()
		}
		return n
	}
	from := passes()
	succeedsSoon(t, func() error {
		if passes() < from+10 {
			return errors.New("the queues have not looked again")
		}
		return nil
	})
	if recs := meta2Records(t, ctx, c); len(recs) != 2 {
		t.Fatalf("the merge queue merged a sticky split: %v", recs)
	}
	checkReads(t, ctx, ds, want, 100)
}

// TestMergeWithLaggingFollower cuts a follower off once the right-hand
// range is frozen, merges without it, and truncates the merged range's log
// while it is away: healed, the follower gets a snapshot of the merged
// range, which removes its stale replica of the right-hand range first.
func TestMergeWithLaggingFollower(t *testing.T) {
	opts := kvtest.Options{Nodes: 3}
	opts.StoreConfig.RaftLogTruncationThreshold = 20
	c, ds := newSplitCluster(t, opts)
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 100, "a")
	splitAt(t, ctx, ds, userKey(50))
	right := splitAt(t, ctx, ds, userKey(75)).Right
	for n := 1; n <= 3; n++ {
		waitReplicaDesc(t, c, n, right)
	}
	follower := 3
	if c.Leaseholder(kvserver.RangeID(right.RangeId)) == 3 || c.Leaseholder(2) == 3 {
		follower = 2
	}
	if c.Leaseholder(kvserver.RangeID(right.RangeId)) == follower || c.Leaseholder(2) == follower {
		t.Skip("the leases are spread over both followers")
	}
	snaps := c.Nodes[follower-1].Store.SnapshotsApplied()
	for _, n := range c.Nodes {
		n.Store.SetMergeHook(func(kvserver.RangeID) error {
			c.Transport.Isolate(kvserver.NodeID(follower), []kvserver.NodeID{1, 2, 3})
			return nil
		})
	}
	res, err := ds.AdminMerge(ctx, []byte(userKey(60)))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		n.Store.SetMergeHook(nil)
	}
	for i := range 3 {
		writeKeys(t, ctx, ds, want, 50, 100, fmt.Sprint("after", i))
	}
	// The merged range's log must be truncated past what the follower
	// has before it comes back (the truncation runs on its own time: on
	// a loaded machine it had not yet when the test healed, and the
	// follower caught up from the log).
	merged := kvserver.RangeID(res.Merged.RangeId)
	behind, err := c.Nodes[follower-1].Store.GetReplica(merged)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		lh, err := c.Nodes[c.Leaseholder(merged)-1].Store.GetReplica(merged)
		if err == nil && lh.TruncatedIndex() > behind.AppliedIndex() {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the merged range's log was not truncated past n%d's applied index %d", follower, behind.AppliedIndex())
		}
		writeKeys(t, ctx, ds, want, 50, 100, fmt.Sprint("more", i))
	}
	if _, err := c.Nodes[follower-1].Store.GetReplica(kvserver.RangeID(right.RangeId)); err != nil {
		t.Fatalf("n%d lost its right-hand replica while cut off: %v", follower, err)
	}
	c.Transport.Heal()
	waitReplicaDesc(t, c, follower, res.Merged)
	succeedsSoon(t, func() error {
		if _, err := c.Nodes[follower-1].Store.GetReplica(kvserver.RangeID(right.RangeId)); err == nil {
			return errors.Newf("n%d still has r%d", follower, right.RangeId)
		}
		return nil
	})
	if n := c.Nodes[follower-1].Store.SnapshotsApplied() - snaps; n < 1 {
		t.Fatalf("n%d applied %d snapshots", follower, n)
	}
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 100)
	succeedsSoon(t, func() error { return c.CheckConsistency(ctx, kvserver.RangeID(res.Merged.RangeId)) })
}
