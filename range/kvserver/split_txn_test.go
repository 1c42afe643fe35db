package kvserver_test

import (
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/txn"
)

// TestSplitCarriesTxnRecords splits between a transaction's writes, with
// its record anchored on the right: the record goes with the right-hand
// range (its stats included), the transaction commits across both halves,
// and a new replica of the right-hand range gets the record in its
// snapshot. The record is heartbeated every 10 ms, so the replica change
// runs under a steady stream of writes (which once starved it: a
// configuration change reproposed inside apply was dropped by Raft, and
// stale copies kept reproposing it).
func TestSplitCarriesTxnRecords(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 4})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	ds := kvclient.NewDistSender(c)
	db := txn.NewDB(ds, hlc.NewClock(c.Manual.UnixNano, 0), c.Stopper, txn.Options{HeartbeatInterval: 10 * time.Millisecond})
	tx := db.NewTxn("split")
	anchor := []byte(userKey(70))
	for _, k := range []string{userKey(70), userKey(30), userKey(90)} {
		if err := tx.Put(ctx, []byte(k), []byte("txn")); err != nil {
			t.Fatal(err)
		}
	}
	var id kv.TxnID
	copy(id[:], tx.ID())
	recordKey := kvserver.TxnRecordKey(anchor, id)
	hasRecord := func(node int) bool {
		v, err := c.Nodes[node-1].Engine.Get(kv.MVCCKey{Key: recordKey})
		return err == nil && v != nil
	}
	// The heartbeat writes the record.
	succeedsSoon(t, func() error {
		if !hasRecord(1) {
			return errors.New("no transaction record yet")
		}
		return nil
	})
	res := splitAt(t, ctx, ds, userKey(50))
	rightID := kvserver.RangeID(res.Right.RangeId)
	checkSysStats(t, c, 1, rightID)
	if _, err := c.AddVoters(ctx, rightID, 4); err != nil {
		for _, n := range c.Nodes {
			if r, err := n.Store.GetReplica(rightID); err == nil {
				t.Logf("n%d: %s", n.ID, r.DebugState())
			}
		}
		t.Fatal(err)
	}
	if !hasRecord(4) {
		t.Fatal("the new replica's snapshot did not carry the transaction record")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{userKey(30), userKey(70), userKey(90)} {
		v, found, err := db.Get(ctx, []byte(k))
		if err != nil || !found || string(v) != "txn" {
			t.Fatalf("%s after commit: %q %v %v", k, v, found, err)
		}
	}
	for _, id := range []kvserver.RangeID{1, rightID} {
		succeedsSoon(t, func() error { return c.CheckConsistency(ctx, id) })
	}
	checkSysStats(t, c, 1, rightID)
}

// checkSysStats checks the system (range-local) stats of ranges against a
// recomputation on every live replica.
func checkSysStats(t *testing.T, c *kvtest.Cluster, ids ...kvserver.RangeID) {
	t.Helper()
	succeedsSoon(t, func() error {
		for _, n := range c.Nodes {
			for _, id := range ids {
				r, err := n.Store.GetReplica(id)
				if err != nil {
					continue
				}
				got, want, err := r.StatsAndRecompute()
				if err != nil {
					return err
				}
				if got.SysBytes != want.SysBytes || got.SysCount != want.SysCount || got.KeyBytes != want.KeyBytes {
					return errors.Newf("n%d r%d: stats %v, recomputed %v", n.ID, id, got, want)
				}
			}
		}
		return nil
	})
}

// TestSplitKeepsReadsAboveTheClock: a read the left-hand range served
// above the leaseholder's clock (here a recovery's QueryIntent, which
// holds a missing write off above a staged timestamp) still pushes a
// write of its key after a split has moved the key to the right-hand
// range, whose timestamp cache starts empty. The right-hand range's
// low-water mark once was the clock at the split, below such a read.
func TestSplitKeepsReadsAboveTheClock(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 1})
	ctx := testCtx(t)
	ds := kvclient.NewDistSender(c)
	key := []byte(userKey(90))
	if _, err := ds.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{getReq(string(key))}}); err != nil {
		t.Fatal(err)
	}
	now := c.Nodes[0].Clock.Now()
	staged := now.Add(int64(time.Second), 0)
	recovering := txnProto(1, key, 0, 1, staged)
	br, err := ds.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_QueryIntent{
		QueryIntent: &rangepb.QueryIntentRequest{Key: key, Txn: recovering.Meta}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if br.Responses[0].GetQueryIntent().GetFound() {
		t.Fatal("QueryIntent found a write that was never made")
	}
	splitAt(t, ctx, ds, userKey(50))
	writer := txnProto(2, key, 0, 1, now.Add(int64(time.Millisecond), 0))
	br, err = ds.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: writer}, Requests: []*rangepb.RequestUnion{heartbeatReq(key), putReq(string(key), "late")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tsOf(br.Txn.Meta.WriteTimestamp); !staged.Less(got) {
		t.Fatalf("after the split, a write landed at %s, at or below the timestamp %s the recovery held it off from", got, staged)
	}
}
