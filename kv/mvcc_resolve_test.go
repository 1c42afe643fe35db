package kv

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/meridiandb/meridian/hlc"
)

// TestIntentResolverBatch resolves the intents of two transactions
// through one IntentResolver over one batch, in a random order with
// repeats and with keys of the other transaction mixed in, and checks the
// outcome and the stats against a recount: the resolver's iterator reads
// the batch as it was when it was made, so a repeated key must not be
// resolved twice from the stale view.
func TestIntentResolverBatch(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	e, err := Open(t.TempDir(), Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	ts := hlc.Timestamp{WallTime: 100}
	txns := []*Txn{
		{TxnMeta: TxnMeta{ID: TxnID{1}, Key: []byte("a"), WriteTimestamp: ts, MinTimestamp: ts}, ReadTimestamp: ts},
		{TxnMeta: TxnMeta{ID: TxnID{2}, Key: []byte("b"), WriteTimestamp: ts, MinTimestamp: ts}, ReadTimestamp: ts},
	}
	var ms MVCCStats
	const n = 200
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%04d", i)) }
	b := e.NewBatch()
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			if err := MVCCPut(b, &ms, key(i), hlc.Timestamp{WallTime: 50}, MakeBytesValue([]byte("old")), MVCCWriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := MVCCPut(b, &ms, key(i), ts, MakeBytesValue([]byte(fmt.Sprint("new", i))), MVCCWriteOptions{Txn: txns[i%2]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	commitTs := hlc.Timestamp{WallTime: 200}
	b = e.NewBatch()
	r := NewIntentResolver(b)
	for k := 0; k < 3*n; k++ {
		i := rng.IntN(n)
		meta := txns[0].TxnMeta
		meta.WriteTimestamp = commitTs
		status := COMMITTED
		if i%4 == 1 {
			status = ABORTED
		}
		ok, err := r.Resolve(&ms, LockUpdate{Span: Span{Key: key(i)}, Txn: meta, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		if ok && i%2 != 0 {
			t.Fatalf("resolved %s, an intent of the other transaction", key(i))
		}
	}
	r.Close()
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	got, err := ComputeStats(e, KeyMin, KeyMax, ms.LastUpdateNanos)
	if err != nil {
		t.Fatal(err)
	}
	if got != ms {
		t.Fatalf("stats after resolution:\nkept     %+v\nrecounted %+v", ms, got)
	}
}

// TestCommitInPlace commits intents at their own timestamp: the
// provisional versions already are the committed ones, so resolution
// writes nothing but the lock records' deletions (one operation per key
// in the batch), and the values and the stats come out as a recount says.
func TestCommitInPlace(t *testing.T) {
	e, err := Open(t.TempDir(), Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	ts := hlc.Timestamp{WallTime: 100}
	txn := &Txn{TxnMeta: TxnMeta{ID: TxnID{1}, Key: []byte("a"), WriteTimestamp: ts, MinTimestamp: ts}, ReadTimestamp: ts}
	var ms MVCCStats
	const n = 50
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%04d", i)) }
	b := e.NewBatch()
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			if err := MVCCPut(b, &ms, key(i), hlc.Timestamp{WallTime: 50}, MakeBytesValue([]byte("old")), MVCCWriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := MVCCPut(b, &ms, key(i), ts, MakeBytesValue([]byte(fmt.Sprint("new", i))), MVCCWriteOptions{Txn: txn}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	b = e.NewBatch()
	r := NewIntentResolver(b)
	for i := 0; i < n; i++ {
		if ok, err := r.Resolve(&ms, LockUpdate{Span: Span{Key: key(i)}, Txn: txn.TxnMeta, Status: COMMITTED}); err != nil || !ok {
			t.Fatalf("resolving %s: %v, %v", key(i), ok, err)
		}
	}
	r.Close()
	// A batch's header holds its operation count at bytes 8..12.
	if ops := binary.LittleEndian.Uint32(b.Repr()[8:12]); ops != n {
		t.Fatalf("resolution wrote %d operations, want %d (one lock deletion per key)", ops, n)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		v, err := MVCCGet(e, key(i), hlc.Timestamp{WallTime: 150}, MVCCGetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := MakeBytesValue([]byte(fmt.Sprint("new", i))); v.Value == nil || !v.Value.Equal(want) || v.Timestamp != ts {
			t.Fatalf("%s = %v at %s, want %v at %s", key(i), v.Value, v.Timestamp, want, ts)
		}
	}
	got, err := ComputeStats(e, KeyMin, KeyMax, ms.LastUpdateNanos)
	if err != nil {
		t.Fatal(err)
	}
	if got != ms {
		t.Fatalf("stats after resolution:\nkept      %+v\nrecounted %+v", ms, got)
	}
}

// TestLockMarker: a lock resolved with KeepMarker leaves an empty record
// that every reader takes for no lock; the next transaction locks the key
// over it; the stats count it nowhere.
func TestLockMarker(t *testing.T) {
	e, err := Open(t.TempDir(), Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	var ms MVCCStats
	key := []byte("hot")
	keep := func([]byte) bool { return true }
	for i := 1; i <= 3; i++ {
		ts := hlc.Timestamp{WallTime: int64(100 * i)}
		txn := &Txn{TxnMeta: TxnMeta{ID: TxnID{byte(i)}, Key: key, WriteTimestamp: ts, MinTimestamp: ts}, ReadTimestamp: ts}
		if err := MVCCPut(e, &ms, key, ts, MakeBytesValue([]byte(fmt.Sprint("v", i))), MVCCWriteOptions{Txn: txn}); err != nil {
			t.Fatalf("write %d over the marker: %v", i, err)
		}
		// Another transaction's read above the intent meets it.
		if _, err := MVCCGet(e, key, ts.Next(), MVCCGetOptions{}); err == nil {
			t.Fatalf("write %d: a read above the intent did not meet it", i)
		}
		status := COMMITTED
		if i == 2 {
			status = ABORTED
		}
		if ok, err := MVCCResolveIntent(e, &ms, LockUpdate{Span: Span{Key: key}, Txn: txn.TxnMeta, Status: status, KeepMarker: keep}); err != nil || !ok {
			t.Fatalf("resolving write %d: %v, %v", i, ok, err)
		}
		v, err := MVCCGet(e, key, ts.Next(), MVCCGetOptions{})
		if err != nil {
			t.Fatalf("read after resolving write %d: %v", i, err)
		}
		want := fmt.Sprint("v", i)
		if i == 2 {
			want = "v1"
		}
		if v.Value == nil || !v.Value.Equal(MakeBytesValue([]byte(want))) {
			t.Fatalf("read after resolving write %d: %v, want %s", i, v.Value, want)
		}
		raw, err := e.NewIterator(IterOptions{LowerBound: LocalLockTablePrefix, UpperBound: LocalLockTableMax})
		if err != nil {
			t.Fatal(err)
		}
		raw.SeekGE(MVCCKey{Key: LockTableKey(key)})
		if ok, _ := raw.Valid(); !ok {
			t.Fatalf("write %d: no marker left", i)
		} else if v, _ := raw.UnsafeValue(); len(v) != 0 {
			t.Fatalf("write %d: lock record %x left, want an empty marker", i, v)
		}
		raw.Close()
		got, err := ComputeStats(e, KeyMin, KeyMax, ms.LastUpdateNanos)
		if err != nil {
			t.Fatal(err)
		}
		if got != ms {
			t.Fatalf("stats after write %d:\nkept      %+v\nrecounted %+v", i, ms, got)
		}
	}
}

// TestCommitTakesOnlyItsEpoch: resolving a transaction COMMITTED at one
// epoch removes its intents of any other epoch, earlier or later, and
// commits those of its own.
func TestCommitTakesOnlyItsEpoch(t *testing.T) {
	e, err := Open(t.TempDir(), Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	var ms MVCCStats
	ts := hlc.Timestamp{WallTime: 100}
	base := hlc.Timestamp{WallTime: 50}
	for i, epoch := range []int32{0, 1, 2} {
		key := []byte(fmt.Sprint("k", i))
		if err := MVCCPut(e, &ms, key, base, MakeBytesValue([]byte("committed before")), MVCCWriteOptions{}); err != nil {
			t.Fatal(err)
		}
		txn := &Txn{TxnMeta: TxnMeta{ID: TxnID{7}, Key: []byte("k0"), Epoch: epoch, WriteTimestamp: ts, MinTimestamp: ts}, ReadTimestamp: ts}
		if err := MVCCPut(e, &ms, key, ts, MakeBytesValue([]byte(fmt.Sprint("epoch ", epoch))), MVCCWriteOptions{Txn: txn}); err != nil {
			t.Fatal(err)
		}
		commit := txn.TxnMeta
		commit.Epoch = 1
		if ok, err := MVCCResolveIntent(e, &ms, LockUpdate{Span: Span{Key: key}, Txn: commit, Status: COMMITTED}); err != nil || !ok {
			t.Fatalf("resolving the epoch %d intent: %v, %v", epoch, ok, err)
		}
		res, err := MVCCGet(e, key, ts.Next(), MVCCGetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := "committed before"
		if epoch == 1 {
			want = "epoch 1"
		}
		if res.Value == nil || string(res.Value.RawBytes) != want {
			t.Fatalf("epoch %d intent, committed at epoch 1: read %v, want %q", epoch, res.Value, want)
		}
	}
	got, err := ComputeStats(e, KeyMin, KeyMax, ms.LastUpdateNanos)
	if err != nil {
		t.Fatal(err)
	}
	if got != ms {
		t.Fatalf("stats:\nkept      %+v\nrecounted %+v", ms, got)
	}
}
