package kv

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/meridiandb/meridian/hlc"
)

// TestMVCCCompareUnitValues: the comparer returns -1, 0 or +1 and nothing
// else, as Pebble's Compare contract says (its columnar blocks switch on
// +1 exactly), and orders keys antisymmetrically.
func TestMVCCCompareUnitValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var keys [][]byte
	for _, k := range []string{"", "a", "k05", "k05\x00", "k06", "k050"} {
		keys = append(keys, EncodeMVCCKey(MVCCKey{Key: []byte(k)}))
		for range 3 {
			ts := hlc.Timestamp{WallTime: 1 + rng.Int64N(1e16), Logical: int32(rng.IntN(3))}
			keys = append(keys, EncodeMVCCKey(MVCCKey{Key: []byte(k), Timestamp: ts}))
		}
	}
	for _, a := range keys {
		for _, b := range keys {
			c := mvccCompare(a, b)
			if c != -1 && c != 0 && c != 1 {
				t.Fatalf("mvccCompare(%x, %x) = %d", a, b, c)
			}
			if mvccCompare(b, a) != -c {
				t.Fatalf("mvccCompare(%x, %x) = %d, but reversed %d", a, b, c, mvccCompare(b, a))
			}
		}
	}
}

// TestScanOverFlushedRangeDeletions: versions written, cleared by range
// deletions (as replica removal and snapshots do) and flushed to
// sstables: every scan over them returns. With a comparer that returned
// other positive values than +1, Pebble's search of a columnar block's
// range-deletion boundaries went wrong and a scan's first positioning
// never ended (found by TestKVNemesis: a read holding its latches hung,
// and every request behind it).
func TestScanOverFlushedRangeDeletions(t *testing.T) {
	eng, err := Open(t.TempDir(), Options{InMemory: true, Logger: QuietLogger{}, CacheSize: 8 << 20, MemTableSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%02d", i)) }
	span := func() ([]byte, []byte) {
		a, c := rng.IntN(16), rng.IntN(16)
		return key(min(a, c)), key(max(a, c) + 1)
	}
	wall := int64(1e15)
	for op := range 600 {
		switch p := rng.IntN(100); {
		case p < 60:
			wall += 1 + int64(rng.IntN(1000))
			b := eng.NewBatch()
			ts := hlc.Timestamp{WallTime: wall, Logical: int32(rng.IntN(3))}
			if err := MVCCPut(b, nil, key(rng.IntN(16)), ts, MakeBytesValue([]byte("v")), MVCCWriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(false); err != nil {
				t.Fatal(err)
			}
		case p < 70:
			b := eng.NewBatch()
			if err := b.ClearRange(span()); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(false); err != nil {
				t.Fatal(err)
			}
		case p < 73:
			if err := eng.Flush(); err != nil {
				t.Fatal(err)
			}
		default:
			start, end := span()
			done := make(chan error, 1)
			go func() {
				ro := eng.NewReadOnly()
				_, err := MVCCScan(ro, start, end, hlc.Timestamp{WallTime: wall + 1}, MVCCScanOptions{})
				// Closed before the answer: once the test has it, it may
				// close the engine, and an iterator closed after that
				// panics in Pebble's file cache.
				ro.Close()
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("op %d: a scan of [%s, %s) did not return", op, start, end)
			}
		}
	}
}
