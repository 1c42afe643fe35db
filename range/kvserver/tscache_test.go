package kvserver

import (
	"testing"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
)

func TestSimpleTSCache(t *testing.T) {
	ts := func(w int64) hlc.Timestamp { return hlc.Timestamp{WallTime: w} }
	t1, t2 := kv.TxnID{1}, kv.TxnID{2}
	c := newSimpleTSCache(4)
	c.SetLowWater(ts(5))
	if got, _ := c.GetMax([]byte("a"), nil); got != ts(5) {
		t.Fatalf("empty cache: %s, want the low-water mark", got)
	}
	c.Add([]byte("b"), []byte("d"), ts(10), t1)
	c.Add([]byte("c"), nil, ts(12), t2)
	c.Add([]byte("x"), nil, ts(3), t2) // below the low-water mark: dropped
	for _, tc := range []struct {
		start, end string
		want       hlc.Timestamp
		txn        kv.TxnID
	}{
		{"a", "", ts(5), kv.TxnID{}},
		{"b", "", ts(10), t1},
		{"c", "", ts(12), t2},
		{"a", "z", ts(12), t2},
		{"d", "", ts(5), kv.TxnID{}},
		{"x", "", ts(5), kv.TxnID{}},
	} {
		var end []byte
		if tc.end != "" {
			end = []byte(tc.end)
		}
		got, txn := c.GetMax([]byte(tc.start), end)
		if got != tc.want || txn != tc.txn {
			t.Errorf("GetMax(%s, %s) = %s %x, want %s %x", tc.start, tc.end, got, txn[:1], tc.want, tc.txn[:1])
		}
	}
	// Two transactions at one timestamp: neither owns it.
	c.Add([]byte("b"), []byte("d"), ts(12), t1)
	if _, txn := c.GetMax([]byte("c"), nil); txn != (kv.TxnID{}) {
		t.Fatal("a shared read timestamp has an owner")
	}
	// Past the bound, the entries fold into the low-water mark.
	for _, k := range []string{"p", "q", "r"} {
		c.Add([]byte(k), nil, ts(20), t1)
	}
	if got, _ := c.GetMax([]byte("a"), nil); got != ts(20) {
		t.Fatalf("after eviction: %s, want 20", got)
	}
}
