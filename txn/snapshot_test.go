package txn

import (
	"fmt"
	"testing"
)

// TestSnapshotReads: reads through At(Snapshot()) see the transaction's
// writes up to the snapshot and none made after it — on both ranges, for
// Get, GetMany and Scan and their locking forms, with writes held back
// (numbered when written, so a snapshot counts them) or sent — while the
// transaction itself reads its latest writes, a write that reads (CPut)
// reads at its own sequence, and the commit keeps every write.
func TestSnapshotReads(t *testing.T) {
	for _, buffer := range []bool{false, true} {
		t.Run(fmt.Sprintf("buffer=%v", buffer), func(t *testing.T) {
			tc := newTestCluster(t, Options{BufferWrites: buffer})
			ctx := testCtx(t)
			db := tc.db
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			a, rb, rc := key(0, "a"), key(1, "rb"), key(1, "rc")
			read := func(txn *Txn) string {
				t.Helper()
				var out string
				for _, k := range [][]byte{a, rb, rc} {
					v, found, err := txn.Get(ctx, k)
					must(err)
					if !found {
						v = []byte("-")
					}
					out += string(v)
				}
				vals, err := txn.GetMany(ctx, [][]byte{a, rb, rc})
				must(err)
				many := ""
				for _, v := range vals {
					if v == nil {
						v = []byte("-")
					}
					many += string(v)
				}
				kvs, err := txn.Scan(ctx, key(0, ""), key(2, ""), 0)
				must(err)
				scan := ""
				for _, kv := range kvs {
					scan += string(kv.Value)
				}
				locked, err := txn.ScanForUpdate(ctx, key(0, ""), key(2, ""), 0)
				must(err)
				lockedScan := ""
				for _, kv := range locked {
					lockedScan += string(kv.Value)
				}
				return out + " " + many + " " + scan + " " + lockedScan
			}
			txn := db.NewTxn("snapshot")
			before := txn.At(txn.Snapshot()) // before any write
			must(txn.Put(ctx, a, []byte("1")))
			must(txn.Put(ctx, rb, []byte("1")))
			s1 := txn.Snapshot()
			must(txn.Put(ctx, a, []byte("2")))
			must(txn.Del(ctx, rb))
			must(txn.Put(ctx, rc, []byte("2")))
			if got, want := read(txn.At(s1)), "11- 11- 11 11"; got != want {
				t.Fatalf("at the snapshot: %s, want %s", got, want)
			}
			if got, want := read(before), "--- --- "+" "; got != want {
				t.Fatalf("before the first write: %q, want %q", got, want)
			}
			if got, want := read(txn), "2-2 2-2 22 22"; got != want {
				t.Fatalf("the transaction: %s, want %s", got, want)
			}
			// A write through the view is the transaction's; its read
			// (the CPut's expectation) sees the latest value, not the
			// snapshot's.
			view := txn.At(s1)
			must(view.CPut(ctx, a, []byte("3"), []byte("2")))
			if got, want := read(view), "11- 11- 11 11"; got != want {
				t.Fatalf("at the snapshot after a write through it: %s, want %s", got, want)
			}
			must(txn.Commit(ctx))
			check := db.NewTxn("check")
			if got, want := read(check), "3-2 3-2 32 32"; got != want {
				t.Fatalf("committed: %s, want %s", got, want)
			}
			must(check.Commit(ctx))
		})
	}
}
