package txn

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
)

// TestInsertAbsentBulk: batches of many inserts of new keys (a bulk load's
// chunks, which skip each key's reads when their span holds nothing: kv
// MVCCWriteOptions.KnownAbsent) still refuse a key taken before and a key
// twice in one batch, as a key-by-key check would, and leave the range's
// stats equal to a recount and its replicas alike.
func TestInsertAbsentBulk(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	rows := func(prefix string, n int) []KeyValue {
		var kvs []KeyValue
		for i := range n {
			kvs = append(kvs, KeyValue{Key: key(0, fmt.Sprintf("%s%04d", prefix, i)), Value: []byte("v")})
		}
		return kvs
	}
	insert := func(kvs []KeyValue) error {
		return tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
			txn.BufferWrites()
			return txn.InsertAbsent(ctx, kvs)
		})
	}
	if err := insert(rows("a", 500)); err != nil {
		t.Fatal(err)
	}
	// A span with one key taken, in its middle: refused, nothing kept.
	if err := tc.db.Put(ctx, key(0, "b0250"), []byte("taken")); err != nil {
		t.Fatal(err)
	}
	var cfe *kv.ConditionFailedError
	if err := insert(rows("b", 500)); !errors.As(err, &cfe) || string(cfe.Key) != string(key(0, "b0250")) {
		t.Fatalf("insert over a taken key: %v", err)
	}
	if _, found, err := tc.db.Get(ctx, key(0, "b0000")); err != nil || found {
		t.Fatalf("a refused batch's first key: found=%v err=%v", found, err)
	}
	// A key twice in one batch of new keys.
	twice := append(rows("c", 100), KeyValue{Key: key(0, "c0042"), Value: []byte("again")})
	if err := insert(twice); !errors.As(err, &cfe) || string(cfe.Key) != string(key(0, "c0042")) {
		t.Fatalf("insert of a key twice: %v", err)
	}
	for i := range 500 {
		v, found, err := tc.db.Get(ctx, key(0, fmt.Sprintf("a%04d", i)))
		if err != nil || !found || string(v) != "v" {
			t.Fatalf("a%04d: %q found=%v err=%v", i, v, found, err)
		}
	}
	waitFor(t, "every intent resolved", func() bool { return tc.LockRecords(t) == 0 })
	lh := tc.Leaseholder(2)
	r, err := tc.Nodes[lh-1].Store.GetReplica(2)
	if err != nil {
		t.Fatal(err)
	}
	got, want, err := r.StatsAndRecompute()
	if err != nil {
		t.Fatal(err)
	}
	if got.LiveCount != want.LiveCount || got.KeyCount != want.KeyCount || got.ValCount != want.ValCount ||
		got.LiveBytes != want.LiveBytes || got.IntentCount != want.IntentCount {
		t.Fatalf("stats %+v, recomputed %+v", got, want)
	}
	if err := tc.CheckConsistency(ctx, 2); err != nil {
		t.Fatal(err)
	}
}
