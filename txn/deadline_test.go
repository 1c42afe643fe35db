package txn

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TestCommitDeadline: a transaction commits only before its deadline —
// written or read-only, and whether the deadline was set before or after
// its timestamp moved.
func TestCommitDeadline(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	isDeadline := func(err error) bool {
		var tre *kvserver.TransactionRetryError
		return IsRetryable(err) && errors.As(err, &tre) && tre.Reason == rangepb.TransactionRetryReason_RETRY_COMMIT_DEADLINE_EXCEEDED
	}
	runs := 0
	for _, buffered := range []bool{false, true} {
		for _, write := range []bool{false, true} {
			run := func(deadline func(*Txn) time.Duration) error {
				runs++
				k := key(0, fmt.Sprintf("d%d", runs))
				txn := tc.db.NewTxn("deadline")
				if buffered {
					txn.BufferWrites()
				}
				defer func() { _ = txn.Rollback(ctx) }()
				if _, _, err := txn.Get(ctx, k); err != nil {
					t.Fatal(err)
				}
				if write {
					if err := txn.Put(ctx, k, []byte("v")); err != nil {
						t.Fatal(err)
					}
				}
				ts := txn.ReadTimestamp()
				ts.WallTime += int64(deadline(txn))
				txn.UpdateDeadline(ts)
				return txn.Commit(ctx)
			}
			if err := run(func(*Txn) time.Duration { return time.Hour }); err != nil {
				t.Fatalf("buffered=%v write=%v: a commit an hour before its deadline: %v", buffered, write, err)
			}
			if err := run(func(*Txn) time.Duration { return 0 }); !isDeadline(err) {
				t.Fatalf("buffered=%v write=%v: a commit at its deadline: %v, want a deadline retry", buffered, write, err)
			}
			// Moved past the deadline after it was set.
			if err := run(func(txn *Txn) time.Duration {
				ts := txn.ReadTimestamp()
				ts.WallTime += int64(2 * time.Second)
				if err := txn.ForwardTimestamp(ctx, ts); err != nil {
					t.Fatal(err)
				}
				return time.Second
			}); !isDeadline(err) {
				t.Fatalf("buffered=%v write=%v: a commit moved past its deadline: %v, want a deadline retry", buffered, write, err)
			}
		}
	}
}

// TestForwardTimestamp: a transaction moved forward reads and commits at
// the new timestamp if what it read did not change, and must restart if
// it did.
func TestForwardTimestamp(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	for _, changed := range []bool{false, true} {
		txn := tc.db.NewTxn("forward")
		if _, _, err := txn.Get(ctx, key(0, "f")); err != nil {
			t.Fatal(err)
		}
		if changed {
			if err := tc.db.Put(ctx, key(0, "f"), []byte("other")); err != nil {
				t.Fatal(err)
			}
		}
		to := tc.db.clock.Now()
		to.WallTime += int64(time.Millisecond)
		err := txn.ForwardTimestamp(ctx, to)
		if changed {
			if !IsRetryable(err) {
				t.Fatalf("a read that changed before the forwarded timestamp: %v, want a restart", err)
			}
			_ = txn.Rollback(ctx)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := txn.ReadTimestamp(); got != to {
			t.Fatalf("reads at %s after a forward to %s", got, to)
		}
		if err := txn.Put(ctx, key(0, "g"), []byte("mine")); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(ctx); err != nil {
			t.Fatalf("forwarded commit: %v", err)
		}
		if got := txn.ReadTimestamp(); got.Less(to) {
			t.Fatalf("committed at %s, below the forwarded %s", got, to)
		}
	}
}
