package kv

import (
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

func TestMVCCRefresh(t *testing.T) {
	eng, err := Open("", Options{InMemory: true, Logger: QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ts := func(w int64) hlc.Timestamp { return hlc.Timestamp{WallTime: w} }
	if err := MVCCPut(eng, nil, []byte("a"), ts(10), MakeBytesValue([]byte("v")), MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	own := &Txn{TxnMeta: TxnMeta{ID: TxnID{1}, WriteTimestamp: ts(15)}, ReadTimestamp: ts(5)}
	other := &Txn{TxnMeta: TxnMeta{ID: TxnID{2}, WriteTimestamp: ts(30)}, ReadTimestamp: ts(30)}
	if err := MVCCPut(eng, nil, []byte("b"), ts(15), MakeBytesValue([]byte("mine")), MVCCWriteOptions{Txn: own}); err != nil {
		t.Fatal(err)
	}
	if err := MVCCPut(eng, nil, []byte("c"), ts(30), MakeBytesValue([]byte("theirs")), MVCCWriteOptions{Txn: other}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		start, end string
		from, to   int64
		fail       bool
	}{
		{"a", "", 10, 20, false}, // the write at 10 is not after from
		{"a", "", 9, 20, true},   // it is now
		{"a", "", 1, 9, false},   // nor before to
		{"b", "", 5, 20, false},  // own intent
		{"c", "", 5, 20, false},  // another's intent above to
		{"c", "", 5, 30, true},   // another's intent at or below to
		{"a", "z", 12, 25, false},
		{"a", "z", 5, 25, true},
	} {
		var end []byte
		if tc.end != "" {
			end = []byte(tc.end)
		}
		err := MVCCRefresh(eng, []byte(tc.start), end, ts(tc.from), ts(tc.to), own.ID)
		var rce *RefreshConflictError
		if tc.fail != errors.As(err, &rce) || (!tc.fail && err != nil) {
			t.Errorf("refresh %s-%s (%d, %d]: %v, want failure %v", tc.start, tc.end, tc.from, tc.to, err, tc.fail)
		}
	}
}
