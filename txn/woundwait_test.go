package txn

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
)

// TestYoungerWriterWaits: a transaction that meets the intent of an older
// live one waits for it to finish (it neither fails nor aborts the older
// one), then writes on top of what the older one committed.
func TestYoungerWriterWaits(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k := key(0, "k")
	older := tc.db.NewTxn("older")
	if err := older.Put(ctx, k, []byte("older")); err != nil {
		t.Fatal(err)
	}
	younger := tc.db.NewTxn("younger")
	done := make(chan error, 1)
	go func() {
		done <- younger.Put(ctx, k, []byte("younger"))
	}()
	select {
	case err := <-done:
		t.Fatalf("the younger writer did not wait for the older intent: %v", err)
	case <-time.After(200 * time.Millisecond):
		// Still waiting, as it should: the older transaction is alive
		// (heartbeating) and ahead in the wound-wait order. A timer is the
		// only way to observe that nothing happens.
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatalf("the older transaction could not commit: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the younger write after the older commit: %v", err)
	}
	if err := younger.Commit(ctx); err != nil {
		var re *RetryableError
		if !errors.As(err, &re) {
			t.Fatal(err)
		}
		// A refresh may fail (it read nothing, so it should not); either
		// way the older value must be there.
	}
	v, _, err := tc.db.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if string(v) != "younger" {
		t.Fatalf("k = %q, want the younger write on top", v)
	}
}

// TestOlderWriterWoundsYounger: an older transaction that meets a younger
// one's intent waits for it (the store's TxnWoundAfter), then aborts it and
// goes on; the younger one learns it was aborted when it next talks to the
// cluster.
func TestOlderWriterWoundsYounger(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k := key(0, "k")
	older := tc.db.NewTxn("older")
	younger := tc.db.NewTxn("younger")
	if err := younger.Put(ctx, k, []byte("younger")); err != nil {
		t.Fatal(err)
	}
	if err := older.Put(ctx, k, []byte("older")); err != nil {
		t.Fatalf("the older writer: %v", err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err := younger.Commit(ctx)
	var re *RetryableError
	if !errors.As(err, &re) || !re.Aborted {
		t.Fatalf("commit of the wounded transaction: %v, want an aborted retry", err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "older" {
		t.Fatalf("k = %q (%v), want older", v, err)
	}
}

// TestOppositeLockOrdersFinish: transactions that write two keys in
// opposite orders would deadlock under plain waiting; wound-wait aborts
// the younger of each pair, so all of them finish, and every increment is
// there exactly once.
func TestOppositeLockOrdersFinish(t *testing.T) {
	tc := newTestCluster(t, Options{MaxRetries: 1000})
	ctx := testCtx(t)
	a, b := key(0, "a"), key(1, "b")
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, second := a, b
			if w%2 == 1 {
				first, second = b, a
			}
			for range each {
				err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					for _, k := range [][]byte{first, second} {
						v, _, err := txn.Get(ctx, k)
						if err != nil {
							return err
						}
						n := 0
						if v != nil {
							if _, err := fmt.Sscan(string(v), &n); err != nil {
								return err
							}
						}
						if err := txn.Put(ctx, k, []byte(fmt.Sprint(n+1))); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, k := range [][]byte{a, b} {
		v, _, err := tc.db.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if string(v) != fmt.Sprint(workers*each) {
			t.Fatalf("%s = %s, want %d", k, v, workers*each)
		}
	}
}

// TestGetForUpdateReadsLatest: a locking read (the read of an UPDATE)
// returns the latest committed value even when it was committed after the
// transaction started, moving the transaction's reads up to it, so that
// the write that follows commits without a refresh failure; a plain read
// at the transaction's timestamp sees the older value.
func TestGetForUpdateReadsLatest(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k := key(0, "k")
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error { return txn.Put(ctx, k, []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	plain := tc.db.NewTxn("plain")
	locking := tc.db.NewTxn("locking")
	// Both have their timestamps; beyond their uncertainty windows (the
	// clock's max offset), another transaction commits 2.
	tc.Manual.Increment(int64(2 * tc.db.clock.MaxOffset()))
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error { return txn.Put(ctx, k, []byte("2")) }); err != nil {
		t.Fatal(err)
	}
	if v, _, err := plain.Get(ctx, k); err != nil || string(v) != "1" {
		t.Fatalf("plain read: %q %v, want the value as of its timestamp, 1", v, err)
	}
	_ = plain.Rollback(ctx)
	v, _, err := locking.GetForUpdate(ctx, k)
	if err != nil || string(v) != "2" {
		t.Fatalf("locking read: %q %v, want the latest value, 2", v, err)
	}
	if err := locking.Put(ctx, k, []byte("3")); err != nil {
		t.Fatal(err)
	}
	if err := locking.Commit(ctx); err != nil {
		t.Fatalf("commit after a locking read: %v", err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "3" {
		t.Fatalf("k = %q %v, want 3", v, err)
	}
}

// TestLockingReadsQueue: a locking read takes a lock on what it read (once
// its transaction has written, and so has a record to push); a
// younger transaction's locking read of the same key waits for the holder
// to finish and then reads what it wrote, so the read-modify-write of both
// goes through without a restart. A plain read is not blocked by the lock.
func TestLockingReadsQueue(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k := key(0, "k")
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error { return txn.Put(ctx, k, []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	older := tc.db.NewTxn("older")
	younger := tc.db.NewTxn("younger")
	// Locks are taken by transactions that have a record: they wrote.
	for _, txn := range []*Txn{older, younger} {
		if err := txn.Put(ctx, key(1, txn.Proto().Name), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if v, _, err := older.GetForUpdate(ctx, k); err != nil || string(v) != "1" {
		t.Fatalf("older's locking read: %q %v", v, err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "1" {
		t.Fatalf("a plain read under the lock: %q %v", v, err)
	}
	got := make(chan string, 1)
	go func() {
		v, _, err := younger.GetForUpdate(ctx, k)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(v)
	}()
	select {
	case v := <-got:
		t.Fatalf("the younger locking read did not wait for the lock: %s", v)
	case <-time.After(200 * time.Millisecond):
		// Still waiting, as it should (nothing to observe but time).
	}
	if err := older.Put(ctx, k, []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "2" {
		t.Fatalf("the younger locking read after the older commit: %s, want 2", v)
	}
	if err := younger.Put(ctx, k, []byte("3")); err != nil {
		t.Fatal(err)
	}
	if err := younger.Commit(ctx); err != nil {
		t.Fatalf("the younger commit: %v", err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "3" {
		t.Fatalf("k = %q %v, want 3", v, err)
	}
}

// TestWoundedTxnDoesNotReadOnWithoutItsWrites: a transaction whose intent
// a pusher removed (it wounded the transaction to lock the key) must not
// go on reading as if it had never written: its next read of the key —
// on a range other than its record's, where no heartbeat or commit has
// told it yet — is refused as aborted. Without the range's abort span it
// read the key as empty, its own write gone (the internal
// inconsistency TestListAppendSerializable's checker caught now and then).
// Its rollback then clears the range's entry, and a new transaction
// reads and writes the key as usual.
func TestWoundedTxnDoesNotReadOnWithoutItsWrites(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	anchor, k := key(1, "anchor"), key(0, "k")
	older := tc.db.NewTxn("older")
	younger := tc.db.NewTxn("younger")
	if err := younger.Put(ctx, anchor, []byte("younger")); err != nil {
		t.Fatal(err)
	}
	if err := younger.Put(ctx, k, []byte("younger")); err != nil {
		t.Fatal(err)
	}
	// Read back, which proves the pipelined write: later reads no longer
	// ask for it.
	if v, _, err := younger.Get(ctx, k); err != nil || string(v) != "younger" {
		t.Fatalf("younger reads %q (%v), want its own write", v, err)
	}
	// The older one locks the key (wounding the younger, whose intent it
	// removes) and writes elsewhere: nothing newer is on k to make the
	// younger's read uncertain.
	if _, _, err := older.GetForUpdate(ctx, k); err != nil {
		t.Fatalf("the older locking read: %v", err)
	}
	if err := older.Put(ctx, key(1, "other"), []byte("older")); err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	v, _, err := younger.Get(ctx, k)
	var re *RetryableError
	if !errors.As(err, &re) || !re.Aborted {
		t.Fatalf("younger read %q (%v) after its intent was removed, want an aborted retry", v, err)
	}
	if err := younger.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		if v, found, err := txn.Get(ctx, k); err != nil || found {
			return errors.Newf("k = %q (%v), want nothing", v, err)
		}
		return txn.Put(ctx, k, []byte("newest"))
	}); err != nil {
		t.Fatal(err)
	}
}
