package kvserver

import (
	"fmt"
	"testing"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TestNoteAbsentSpans: a batch's keys straddling data (here a value at
// "b", between the batch's first key "a" and the rest) are halved until
// the halves are empty: nearly every key is known absent, none whose span
// holds data; a key twice, a ranged write, or too few writes check
// nothing.
func TestNoteAbsentSpans(t *testing.T) {
	eng, err := kv.Open("", kv.Options{InMemory: true, Logger: kv.QuietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := kv.MVCCPut(eng, nil, []byte("b"), hlc.Timestamp{WallTime: 1}, kv.MakeBytesValue([]byte("v")), kv.MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	put := func(k string) *rangepb.RequestUnion {
		return rangepb.MakeRequestUnion(&rangepb.PutRequest{Key: []byte(k)})
	}
	batch := func(n int, extra ...*rangepb.RequestUnion) *rangepb.BatchRequest {
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}}
		ba.Requests = append(ba.Requests, put("a"))
		for i := range n {
			ba.Requests = append(ba.Requests, put(fmt.Sprintf("k%03d", i)))
		}
		ba.Requests = append(ba.Requests, extra...)
		return ba
	}
	ec := &evalCtx{}
	if err := ec.noteAbsentSpans(eng, batch(200)); err != nil {
		t.Fatal(err)
	}
	if ec.knownAbsent([]byte("a")) || ec.knownAbsent([]byte("b")) {
		t.Fatal("a key of a span holding data is known absent")
	}
	absent := 0
	for i := range 200 {
		if ec.knownAbsent([]byte(fmt.Sprintf("k%03d", i))) {
			absent++
		}
	}
	if absent < 170 {
		t.Fatalf("%d of 200 keys known absent (spans %d)", absent, len(ec.absent))
	}
	for _, tc := range []struct {
		name string
		ba   *rangepb.BatchRequest
	}{
		{"too few", batch(minAbsentBatch - 2)},
		{"a key twice", batch(100, put("k007"))},
		{"a ranged write", batch(100, rangepb.MakeRequestUnion(&rangepb.DeleteRangeRequest{Span: &rangepb.Span{Key: []byte("x"), EndKey: []byte("y")}}))},
	} {
		ec := &evalCtx{}
		if err := ec.noteAbsentSpans(eng, tc.ba); err != nil {
			t.Fatal(err)
		}
		if len(ec.absent) != 0 {
			t.Errorf("%s: %d spans known empty, want none", tc.name, len(ec.absent))
		}
	}
}
