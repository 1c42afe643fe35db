package txn

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
)

// TestSavepoints: writes after a savepoint are undone by a rollback to it
// — for the transaction's own reads, and at commit, on both ranges,
// whoever resolves the intents — while writes before it stay; savepoints
// nest; a statement that failed after a savepoint can be rolled back and
// the transaction goes on; after a restart an older savepoint is refused.
// With and without held-back writes.
func TestSavepoints(t *testing.T) {
	for _, buffer := range []bool{false, true} {
		t.Run(fmt.Sprintf("buffer=%v", buffer), func(t *testing.T) {
			tc := newTestCluster(t, Options{BufferWrites: buffer})
			ctx := testCtx(t)
			db := tc.db
			get := func(txn *Txn, k []byte) string {
				t.Helper()
				v, found, err := txn.Get(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				if !found {
					return "<none>"
				}
				return string(v)
			}
			expect := func(txn *Txn, want map[string]string) {
				t.Helper()
				for k, w := range want {
					r := 0
					if k[0] == 'r' {
						r = 1
					}
					if got := get(txn, key(r, k)); got != w {
						t.Fatalf("%s = %s, want %s", k, got, w)
					}
				}
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			// Keys starting with 'r' are in the second range.
			for i := range 10 {
				a, rb, rc := key(0, "a"), key(1, "rb"), key(1, "rc")
				txn := db.NewTxn("savepoints")
				must(txn.Put(ctx, a, []byte("1")))
				must(txn.Put(ctx, rb, []byte("1")))
				sp1, err := txn.Savepoint(ctx)
				must(err)
				must(txn.Put(ctx, a, []byte("2")))
				must(txn.Put(ctx, rc, []byte("2")))
				must(txn.Del(ctx, rb))
				expect(txn, map[string]string{"a": "2", "rb": "<none>", "rc": "2"})
				sp2, err := txn.Savepoint(ctx)
				must(err)
				must(txn.Put(ctx, a, []byte("3")))
				must(txn.RollbackToSavepoint(ctx, sp2))
				expect(txn, map[string]string{"a": "2"})
				// Back past a nested savepoint.
				must(txn.RollbackToSavepoint(ctx, sp1))
				expect(txn, map[string]string{"a": "1", "rb": "1", "rc": "<none>"})
				// A failed statement after a savepoint, rolled back.
				sp3, err := txn.Savepoint(ctx)
				must(err)
				must(txn.Put(ctx, key(0, "d"), []byte("4")))
				var cfe *kv.ConditionFailedError
				if err := txn.CPut(ctx, a, []byte("x"), []byte("wrong")); !errors.As(err, &cfe) {
					t.Fatalf("CPut with a wrong expectation: %v", err)
				}
				must(txn.RollbackToSavepoint(ctx, sp3))
				must(txn.Put(ctx, key(0, "e"), []byte("5")))
				must(txn.Commit(ctx))
				// Read at once (intents maybe not resolved yet: the reader
				// resolves them from the record) and after resolution.
				check := db.NewTxn("check")
				expect(check, map[string]string{"a": "1", "rb": "1", "rc": "<none>", "d": "<none>", "e": "5"})
				must(check.Commit(ctx))
				waitFor(t, "intents resolved", func() bool { return tc.LockRecords(t) == 0 })
				check = db.NewTxn("check")
				expect(check, map[string]string{"a": "1", "rb": "1", "rc": "<none>", "d": "<none>", "e": "5"})
				must(check.Commit(ctx))
				// Clean slate for the next round.
				must(db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					for _, k := range [][]byte{a, rb, rc, key(0, "d"), key(0, "e")} {
						if err := txn.Del(ctx, k); err != nil {
							return err
						}
					}
					return nil
				}))
				_ = i
			}

			// After a restart, an older savepoint is gone.
			txn := db.NewTxn("restart")
			must(txn.Put(ctx, key(0, "f"), []byte("1")))
			sp, err := txn.Savepoint(ctx)
			must(err)
			txn.c.restart(db.clock.Now(), 0)
			if err := txn.RollbackToSavepoint(ctx, sp); !errors.Is(err, ErrSavepointEpoch) {
				t.Fatalf("rollback to a savepoint of an earlier epoch: %v", err)
			}
			must(txn.Rollback(ctx))
		})
	}
}

// TestAddSeqRange: ignored ranges merge when they touch or overlap.
func TestAddSeqRange(t *testing.T) {
	rs := addSeqRange(nil, 3, 5)
	rs = addSeqRange(rs, 8, 9)
	rs = addSeqRange(rs, 6, 7) // touches both
	if len(rs) != 1 || rs[0].Start != 3 || rs[0].End != 9 {
		t.Fatalf("got %v, want [3,9]", rs)
	}
	rs = addSeqRange(rs, 12, 12)
	if len(rs) != 2 {
		t.Fatalf("got %v, want two ranges", rs)
	}
}
