package txn

import (
	"context"
	"fmt"
	"testing"
)

// TestDeleteRangePipelined: a DeleteRange across two ranges is pipelined:
// both ranges answer before applying, listing the keys they deleted, which
// the transaction keeps in flight and proves when it reads one and when it
// commits. One that deletes more keys than a range pipelines
// (rangepb.MaxPipelinedDeleteRangeKeys) is answered once applied, with
// nothing in flight.
func TestDeleteRangePipelined(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	var keys [][]byte
	for r := range 2 {
		for i := range 5 {
			keys = append(keys, key(r, fmt.Sprintf("k%d", i)))
		}
	}
	for _, k := range keys {
		if err := tc.db.Put(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	inFlight := func(txn *Txn) map[string]bool {
		txn.c.mu.Lock()
		defer txn.c.mu.Unlock()
		m := map[string]bool{}
		for _, w := range txn.c.pipeliner.inFlight {
			m[string(w.Key)] = true
		}
		return m
	}
	// Each attempt's observations; the last attempt's are checked (an
	// attempt may restart: the puts above were stamped by other nodes'
	// clocks, maybe above the transaction's first timestamp).
	var deleted int64
	var afterDel, afterRead map[string]bool
	var readFound bool
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		// An anchor first: the transaction's record lives with its first
		// write, and the DeleteRange after it is pipelined alone.
		if err := txn.Put(ctx, key(0, "anchor"), []byte("a")); err != nil {
			return err
		}
		var err error
		if deleted, err = txn.DelRange(ctx, key(0, "k"), key(1, "l")); err != nil {
			return err
		}
		afterDel = inFlight(txn)
		if _, readFound, err = txn.Get(ctx, keys[7]); err != nil {
			return err
		}
		afterRead = inFlight(txn)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if deleted != 10 {
		t.Fatalf("deleted %d keys, want 10", deleted)
	}
	for _, k := range keys {
		if !afterDel[string(k)] {
			t.Fatalf("%s not in flight after the DeleteRange (in flight: %v)", k, afterDel)
		}
	}
	if readFound {
		t.Fatal("the transaction read a key it deleted")
	}
	if afterRead[string(keys[7])] {
		t.Fatalf("%s still in flight after a read proved it", keys[7])
	}
	for _, k := range keys {
		if _, found, err := tc.db.Get(ctx, k); err != nil || found {
			t.Fatalf("%s after the commit: found=%v err=%v", k, found, err)
		}
	}

	// More keys than a range pipelines: applied before the answer.
	for i := range 200 {
		if err := tc.db.Put(ctx, key(0, fmt.Sprintf("m%03d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		if err := txn.Put(ctx, key(0, "anchor"), []byte("b")); err != nil {
			return err
		}
		var err error
		if deleted, err = txn.DelRange(ctx, key(0, "m"), key(0, "n")); err != nil {
			return err
		}
		afterDel = inFlight(txn)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if deleted != 200 {
		t.Fatalf("deleted %d keys, want 200", deleted)
	}
	if len(afterDel) != 1 || !afterDel[string(key(0, "anchor"))] {
		t.Fatalf("in flight after a DeleteRange of 200 keys: %v, want the anchor only", afterDel)
	}
	for i := range 200 {
		if _, found, err := tc.db.Get(ctx, key(0, fmt.Sprintf("m%03d", i))); err != nil || found {
			t.Fatalf("m%03d after the commit: found=%v err=%v", i, found, err)
		}
	}
	waitFor(t, "every intent resolved", func() bool { return tc.LockRecords(t) == 0 })
}
