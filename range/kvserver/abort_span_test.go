package kvserver_test

import (
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// TestAbortSpan: a pusher's ABORTED resolution of a transaction's intent
// (poison) leaves an abort span entry on the range, replicated on every
// replica; the transaction's later reads there are refused as aborted
// (its first batch, which wrote nothing before, is not checked); a split
// gives the right-hand range the left's entries, a merge keeps the
// right's; the transaction's own rollback clears its entry; the GC
// removes an entry older than the threshold; replicas agree throughout.
func TestAbortSpan(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	k, far := userKey(10), userKey(60)
	txn := txnProto(7, []byte(k), 0, 1, c.Nodes[0].Clock.Now())
	if _, err := sendTxn(ctx, ds, txn, heartbeatReq([]byte(k)), putReq(k, "v")); err != nil {
		t.Fatal(err)
	}
	resolve := func(txn *rangepb.Transaction, k string) {
		t.Helper()
		if _, err := send(ctx, ds, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ResolveIntent{ResolveIntent: &rangepb.ResolveIntentRequest{
			Key: []byte(k), Txn: txn.Meta, Status: rangepb.TransactionStatus_ABORTED, Poison: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	resolve(txn, k)
	read := func(txn *rangepb.Transaction, key string) error {
		t.Helper()
		written := proto.Clone(txn).(*rangepb.Transaction)
		written.Meta.Sequence = 1 // it wrote before
		_, err := sendTxn(ctx, ds, written, getReq(key))
		return err
	}
	refused := func(txn *rangepb.Transaction, key string) {
		t.Helper()
		if err := read(txn, key); !errors.HasType(err, (*kvserver.TransactionAbortedError)(nil)) {
			t.Fatalf("read of %s by the aborted transaction: %v, want TransactionAbortedError", key, err)
		}
	}
	refused(txn, k)
	if _, err := sendTxn(ctx, ds, txn, getReq(k)); err != nil {
		t.Fatalf("a batch of a transaction that wrote nothing before is not checked: %v", err)
	}
	waitEntries(t, c, 1, 1)

	split := splitAt(t, ctx, ds, userKey(50))
	right := kvserver.RangeID(split.Right.RangeId)
	waitEntries(t, c, right, 1)
	refused(txn, far)
	// A second one aborted on the right only: the merged range keeps it.
	second := txnProto(8, []byte(far), 0, 1, c.Nodes[0].Clock.Now())
	if _, err := sendTxn(ctx, ds, second, heartbeatReq([]byte(far)), putReq(far, "v")); err != nil {
		t.Fatal(err)
	}
	resolve(second, far)
	waitEntries(t, c, right, 2)
	waitEntries(t, c, 1, 1)
	if _, err := ds.AdminMerge(ctx, []byte(k)); err != nil {
		t.Fatal(err)
	}
	waitEntries(t, c, 1, 2)
	refused(txn, far)
	refused(second, k)

	// The transaction's rollback (its record is on range 1) clears its
	// entry.
	if _, err := sendTxn(ctx, ds, txn, endTxnReq([]byte(k), false, &rangepb.Span{Key: []byte(k)})); err != nil {
		t.Fatal(err)
	}
	waitEntries(t, c, 1, 1)
	if err := read(txn, k); err != nil {
		t.Fatalf("after the rollback: %v", err)
	}
	// The other one never rolls back: its entry goes with the GC once
	// older than the threshold.
	now := c.Nodes[0].Clock.Now()
	if _, err := c.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Gc{Gc: &rangepb.GCRequest{
		Threshold: &rangepb.Timestamp{WallTime: now.WallTime, Logical: now.Logical}}}}); err != nil {
		t.Fatal(err)
	}
	waitEntries(t, c, 1, 0)
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

// waitEntries waits until every replica of range id holds n abort span
// entries.
func waitEntries(t *testing.T, c *kvtest.Cluster, id kvserver.RangeID, n int) {
	t.Helper()
	succeedsSoon(t, func() error {
		for _, node := range c.Nodes {
			got, err := kvserver.AbortSpanTxns(node.Engine, id)
			if err != nil {
				return err
			}
			if len(got) != n {
				return errors.Newf("n%d: r%d holds %d abort span entries, want %d", node.ID, id, len(got), n)
			}
		}
		return nil
	})
}
