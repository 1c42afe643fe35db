package txn

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

func queryTxn(ctx context.Context, t *testing.T, db *DB, txn *Txn) *rangepb.Transaction {
	t.Helper()
	p := txn.Proto()
	br, err := db.sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{{
		Value: &rangepb.RequestUnion_QueryTxn{QueryTxn: &rangepb.QueryTxnRequest{Key: p.Meta.Key, Txn: p.Meta}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return br.Responses[0].GetQueryTxn().QueriedTxn
}

// TestHeartbeatsKeepTxnAlive: a transaction that lives much longer than
// the liveness threshold is not aborted by pushers, as long as its
// coordinator heartbeats; it commits.
func TestHeartbeatsKeepTxnAlive(t *testing.T) {
	const threshold = 500 * time.Millisecond
	tc := newTestClusterWith(t, Options{HeartbeatInterval: 20 * time.Millisecond}, kvtest.Options{Nodes: 3,
		StoreConfig: kvserver.StoreConfig{TxnLivenessThreshold: threshold}})
	ctx := testCtx(t)
	k := key(0, "k")
	long := tc.db.newTxn("long", 1000)
	if err := long.Put(ctx, k, []byte("long")); err != nil {
		t.Fatal(err)
	}
	// Four thresholds pass, in steps well inside one, each followed by a
	// heartbeat.
	for i := 0; i < 16; i++ {
		tc.Manual.Increment(int64(threshold / 4))
		want := tc.Manual.UnixNano()
		waitFor(t, "a heartbeat", func() bool {
			return queryTxn(ctx, t, tc.db, long).LastHeartbeat.GetWallTime() >= want
		})
	}
	pusher := tc.db.newTxn("pusher", 1)
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err := pusher.Put(sctx, k, []byte("pusher"))
	cancel()
	if err == nil {
		t.Fatal("a low-priority writer aborted a live, heartbeating transaction")
	}
	_ = pusher.Rollback(ctx)
	if err := long.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "long" {
		t.Fatalf("%q %v", v, err)
	}
}

// TestAbortedTxnLearnsAtHeartbeat: a transaction aborted by a pusher finds
// out from its next heartbeat, and fails its next operation at once (a
// RetryableError asking for a new transaction) without waiting to commit.
func TestAbortedTxnLearnsAtHeartbeat(t *testing.T) {
	tc := newTestCluster(t, Options{HeartbeatInterval: 10 * time.Millisecond})
	ctx := testCtx(t)
	k := key(0, "k")
	victim := tc.db.newTxn("victim", 1)
	if err := victim.Put(ctx, k, []byte("victim")); err != nil {
		t.Fatal(err)
	}
	p := victim.Proto()
	pusher := tc.db.newTxn("pusher", 1000).Proto()
	if _, err := tc.db.sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: pusher}, Requests: []*rangepb.RequestUnion{{
		Value: &rangepb.RequestUnion_PushTxn{PushTxn: &rangepb.PushTxnRequest{Key: p.Meta.Key, Pushee: p.Meta, PushType: rangepb.PushTxnType_PUSH_ABORT}}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the heartbeat to find the abort", func() bool {
		victim.c.mu.Lock()
		defer victim.c.mu.Unlock()
		return victim.c.heartbeater.aborted != nil
	})
	_, _, err := victim.Get(ctx, key(1, "other"))
	var re *RetryableError
	var tae *kvserver.TransactionAbortedError
	if !errors.As(err, &re) || !re.Aborted || !errors.As(err, &tae) {
		t.Fatalf("after the abort: %v", err)
	}
	if err := victim.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the victim's intent removed", func() bool { return tc.LockRecords(t) == 0 })
}

// TestLongTxnWithHeldWritesStaysAlive: a transaction that holds a locking
// read's lock and a held-back write (no record written yet) and keeps
// running past a heartbeat interval writes its record then and
// heartbeats it, so a pusher that meets its lock thresholds later finds it
// alive and waits, instead of taking it for abandoned and aborting it; it
// then commits its held write.
func TestLongTxnWithHeldWritesStaysAlive(t *testing.T) {
	const threshold = 500 * time.Millisecond
	tc := newTestClusterWith(t, Options{HeartbeatInterval: 20 * time.Millisecond, BufferWrites: true},
		kvtest.Options{Nodes: 3, StoreConfig: kvserver.StoreConfig{TxnLivenessThreshold: threshold}})
	ctx := testCtx(t)
	k := key(0, "k")
	if err := tc.db.Put(ctx, k, []byte("before")); err != nil {
		t.Fatal(err)
	}
	long := tc.db.newTxn("long", 1000)
	if _, _, err := long.GetForUpdate(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := long.Put(ctx, k, []byte("long")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := long.Get(ctx, key(1, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the record written by the first heartbeat", func() bool { return tc.txnRecords(t) > 0 })
	for i := 0; i < 16; i++ {
		tc.Manual.Increment(int64(threshold / 4))
		want := tc.Manual.UnixNano()
		waitFor(t, "a heartbeat", func() bool {
			return queryTxn(ctx, t, tc.db, long).LastHeartbeat.GetWallTime() >= want
		})
	}
	pusher := tc.db.newTxn("pusher", 1)
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, err := pusher.GetForUpdate(sctx, k)
	cancel()
	if err == nil {
		t.Fatal("a low-priority locking read took the lock of a live transaction")
	}
	_ = pusher.Rollback(ctx)
	if err := long.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "long" {
		t.Fatalf("%q %v", v, err)
	}
}
