package txn

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
)

// TestFirstLockingReadLocks: a locking read before any write locks its
// row (the transaction is anchored there), so a second transaction's
// locking read of the row waits for the first to finish instead of both
// reading it "for update" at once — and a transaction that only read for
// update releases its lock when it commits, so the waiter goes on at once
// rather than after the liveness threshold.
func TestFirstLockingReadLocks(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k := key(0, "row")
	if err := tc.db.Put(ctx, k, []byte("0")); err != nil {
		t.Fatal(err)
	}
	first := tc.db.NewTxn("first")
	if _, _, err := first.GetForUpdate(ctx, k); err != nil {
		t.Fatal(err)
	}
	second := tc.db.NewTxn("second")
	got := make(chan error, 1)
	go func() {
		_, _, err := second.GetForUpdate(ctx, k)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second locking read did not wait for the first's lock: %v", err)
	case <-time.After(100 * time.Millisecond):
		// Waiting, as it should; a timer is the only way to see nothing
		// happen.
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-wctx.Done():
		t.Fatal("the lock of a transaction that only read for update outlived its commit")
	}
	if err := second.Commit(ctx); err != nil {
		var re *RetryableError
		if !errors.As(err, &re) {
			t.Fatal(err)
		}
	}
}
