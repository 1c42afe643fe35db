package txn

import (
	"context"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
)

// TestTxnCommitResolvesIntents: a transaction writing on two ranges
// commits; its writes are visible to later reads and every intent is
// resolved, the one in the record's range in the commit itself, the other
// asynchronously.
func TestTxnCommitResolvesIntents(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		if err := txn.Put(ctx, key(0, "a"), []byte("1")); err != nil {
			return err
		}
		if err := txn.Put(ctx, key(1, "b"), []byte("2")); err != nil {
			return err
		}
		// Own writes are visible inside.
		v, ok, err := txn.Get(ctx, key(1, "b"))
		if err != nil || !ok || string(v) != "2" {
			return errors.Newf("read own write: %q %v %v", v, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{key(0, "a"), key(1, "b")} {
		if _, ok, err := tc.db.Get(ctx, k); err != nil || !ok {
			t.Fatalf("%s after commit: found=%v err=%v", k, ok, err)
		}
	}
	waitFor(t, "intents resolved on every replica", func() bool { return tc.LockRecords(t) == 0 })
}

// TestTxnReadsNeverSeeOthersIntents: while a transaction holds an
// uncommitted write, others (transactional or not) read the value below it;
// after the rollback, nothing of it is left.
func TestTxnReadsNeverSeeOthersIntents(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k := key(0, "k")
	if err := tc.db.Put(ctx, k, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// The writer has the lowest priority: readers push its timestamp
	// instead of waiting for it.
	w := tc.db.newTxn("writer", 1)
	if err := w.Put(ctx, k, []byte("new")); err != nil {
		t.Fatal(err)
	}
	r := tc.db.newTxn("reader", 1000)
	v, ok, err := r.Get(ctx, k)
	if err != nil || !ok || string(v) != "old" {
		t.Fatalf("txn read: %q %v %v, want old", v, ok, err)
	}
	if err := r.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The writer was pushed above the read: it must refresh to commit, and
	// its refresh of nothing succeeds (it read nothing).
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	v, _, err = tc.db.Get(ctx, k)
	if err != nil || string(v) != "new" {
		t.Fatalf("after commit: %q %v", v, err)
	}

	// A rolled back write disappears.
	w2 := tc.db.newTxn("rolled back", 1)
	if err := w2.Put(ctx, k, []byte("never")); err != nil {
		t.Fatal(err)
	}
	if err := w2.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	v, _, err = tc.db.Get(ctx, k)
	if err != nil || string(v) != "new" {
		t.Fatalf("after rollback: %q %v", v, err)
	}
	waitFor(t, "intents resolved", func() bool { return tc.LockRecords(t) == 0 })
	_ = kv.LocalLockTablePrefix
}

// TestTxnFirstWriteFails: the batch of the first write (which creates the
// record) fails on a condition; the transaction goes on and commits, its
// record created by the commit.
func TestTxnFirstWriteFails(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k, k2 := key(0, "k"), key(1, "k2")
	if err := tc.db.Put(ctx, k, []byte("x")); err != nil {
		t.Fatal(err)
	}
	err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		var cfe *kv.ConditionFailedError
		if err := txn.CPut(ctx, k, []byte("y"), nil); !errors.As(err, &cfe) {
			return errors.Newf("CPut on an existing key: %v", err)
		}
		return txn.Put(ctx, k2, []byte("z"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := tc.db.Get(ctx, k2); err != nil || string(v) != "z" {
		t.Fatalf("%q %v", v, err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "x" {
		t.Fatalf("%q %v", v, err)
	}
}
