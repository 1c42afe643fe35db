package txn

import (
	"testing"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
)

// TestObservedTimestamps: a transaction records the clock of each node it
// reaches (its first reading), and on that node a value written after the
// reading is certain for it (no refresh, though the value's timestamp is in
// its uncertainty interval), while a value written there before the reading
// stays uncertain, also when its transaction committed above the reading
// (the intent moved up keeps the local timestamp of its writing).
func TestObservedTimestamps(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	a, b, c := key(0, "a"), key(0, "b"), key(0, "c")

	// W writes c as an intent before T begins; it commits later, above
	// T's observation.
	wDB := NewDB(tc.KeySender(), hlc.NewClock(tc.Manual.UnixNano, 0), tc.Stopper, Options{})
	w := wDB.NewTxn("writer")
	if err := w.Put(ctx, c, []byte("w")); err != nil {
		t.Fatal(err)
	}

	// T's read timestamp must be above W's write, so that only
	// uncertainty can make T see W's commit.
	tc.Manual.Increment(int64(time.Millisecond))
	txn := tc.db.NewTxn("observer")
	start := txn.ReadTimestamp()
	if _, _, err := txn.Get(ctx, a); err != nil {
		t.Fatal(err)
	}
	p := txn.Proto()
	if len(p.ObservedTimestamps) != 1 {
		t.Fatalf("after one read on one node: observed timestamps %v, want one", p.ObservedTimestamps)
	}
	node := kvserver.NodeID(p.ObservedTimestamps[0].NodeId)
	observed := tsFromProto(p.ObservedTimestamps[0].Timestamp)
	if observed.Less(start) {
		t.Fatalf("n%d observed at %s, below the transaction's start %s", node, observed, start)
	}

	// W commits above the observation, its intent at c moved up: it was
	// written before T's observation, so T must not read below it
	// without seeing it.
	commitAt := observed.Add(int64(50*time.Millisecond), 0)
	if err := w.ForwardTimestamp(ctx, commitAt); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	v, found, err := txn.Get(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !found || string(v) != "w" {
		t.Fatalf("T read c: %q %v; want W's value, committed at %s with its intent written before T observed n%d at %s",
			v, found, commitAt, node, observed)
	}
	if got := txn.ReadTimestamp(); got.Less(commitAt) {
		t.Fatalf("T read W's value at %s, below its commit at %s", got, commitAt)
	}
	// b, written on that node after the observation, within T's global
	// uncertainty limit: certain.
	before := txn.ReadTimestamp()
	tc.Manual.Increment(int64(time.Millisecond))
	if err := tc.db.Put(ctx, b, []byte("later")); err != nil {
		t.Fatal(err)
	}
	if v, found, err := txn.Get(ctx, b); err != nil || found {
		t.Fatalf("T read b, written after it observed the node: %q %v %v, want nothing", v, found, err)
	}
	if got := txn.ReadTimestamp(); got != before {
		t.Fatalf("T's read timestamp moved from %s to %s: b was taken as uncertain", before, got)
	}

	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
