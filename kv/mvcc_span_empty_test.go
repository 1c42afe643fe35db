package kv

import (
	"fmt"
	"testing"

	"github.com/meridiandb/meridian/hlc"
)

// TestMVCCSpanEmpty: a span is empty only with no version (a tombstone
// counts), no intent and no lock marker in it; and writes told their key
// is absent (KnownAbsent) leave exactly what reading writes would, stats
// included, intents and committed values alike.
func TestMVCCSpanEmpty(t *testing.T) {
	eng, err := Open("", Options{InMemory: true, Logger: QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ts := func(w int64) hlc.Timestamp { return hlc.Timestamp{WallTime: w} }
	empty := func(start, end string) bool {
		t.Helper()
		ok, err := MVCCSpanEmpty(eng, []byte(start), []byte(end))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !empty("a", "z") {
		t.Fatal("a new engine's span is not empty")
	}
	if err := MVCCPut(eng, nil, []byte("c"), ts(10), MakeBytesValue([]byte("v")), MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := MVCCDelete(eng, nil, []byte("e"), ts(10), MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	txn := &Txn{TxnMeta: TxnMeta{ID: TxnID{1}, WriteTimestamp: ts(20)}, ReadTimestamp: ts(20)}
	if err := MVCCPut(eng, nil, []byte("g"), ts(20), MakeBytesValue([]byte("i")), MVCCWriteOptions{Txn: txn}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		start, end string
		want       bool
	}{
		{"a", "c", true}, {"a", "c\x00", false}, {"c\x00", "e", true}, {"d", "f", false},
		{"f", "g", true}, {"f", "h", false}, {"g\x00", "z", true},
	} {
		if got := empty(tc.start, tc.end); got != tc.want {
			t.Errorf("[%q, %q) empty = %v, want %v", tc.start, tc.end, got, tc.want)
		}
	}

	// The same writes with and without KnownAbsent, on fresh keys: the
	// same data and stats.
	write := func(prefix string, absent bool) MVCCStats {
		var ms MVCCStats
		for i := range 20 {
			k := []byte(fmt.Sprintf("%s%02d", prefix, i))
			opts := MVCCWriteOptions{KnownAbsent: absent}
			switch i % 3 {
			case 1:
				opts.Txn = &Txn{TxnMeta: TxnMeta{ID: TxnID{2}, WriteTimestamp: ts(40), Sequence: int32(i)}, ReadTimestamp: ts(40)}
			case 2:
				opts.Txn = &Txn{TxnMeta: TxnMeta{ID: TxnID{3}, WriteTimestamp: ts(40), Sequence: int32(i)}, ReadTimestamp: ts(40)}
				opts.Committed, opts.FreshRead = true, true
			}
			if err := MVCCConditionalPut(eng, &ms, k, ts(40), MakeBytesValue([]byte("x")), nil, false, opts); err != nil {
				t.Fatal(err)
			}
		}
		return ms
	}
	if !empty("m", "n") || !empty("p", "q") {
		t.Fatal("the spans to write are not empty")
	}
	reading, absent := write("m", false), write("p", true)
	if reading != absent {
		t.Fatalf("stats of KnownAbsent writes %+v, of reading writes %+v", absent, reading)
	}
	for _, p := range []string{"m", "p"} {
		got, err := ComputeStats(eng, []byte(p), []byte(p+"\xff"), 50)
		if err != nil {
			t.Fatal(err)
		}
		if got.LiveCount != 20 {
			t.Fatalf("%s: %d live keys, want 20", p, got.LiveCount)
		}
	}
}
