package kvnemesis

import (
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/hlc"
)

// TestValidate runs the validator on hand-made histories: it must pass a
// consistent one and name each violation.
func TestValidate(t *testing.T) {
	ts := func(w int64) hlc.Timestamp { return hlc.Timestamp{WallTime: w} }
	at := func(sec int) time.Time { return time.Unix(int64(sec), 0) }
	v := func(k, val string, w int64) row { return row{key: k, value: val, ts: ts(w)} }
	tomb := func(k string, w int64) row { return row{key: k, ts: ts(w), tombstone: true} }
	put := func(k, val string) op { return op{kind: opPut, key: k, value: val} }
	get := func(k, val string) op { return op{kind: opGet, key: k, found: val != "", got: val} }
	del := func(k string) op { return op{kind: opDel, key: k} }
	single := func(o op, w int64, start, end int) *step {
		return &step{ops: []op{o}, ts: ts(w), start: at(start), end: at(end)}
	}
	txn := func(w int64, start, end int, ops ...op) *step {
		return &step{txn: true, ops: ops, ts: ts(w), start: at(start), end: at(end)}
	}
	for _, tc := range []struct {
		name  string
		steps []*step
		h     history
		want  string // "" passes; "stale" expects a stale read
	}{
		{"consistent", []*step{
			single(put("a", "1"), 10, 0, 1),
			txn(20, 2, 3, get("a", "1"), put("b", "2"), del("a")),
			single(get("a", ""), 30, 4, 5),
		}, history{"a": {v("a", "1", 10), tomb("a", 20)}, "b": {v("b", "2", 20)}}, ""},
		{"lost write", []*step{single(put("a", "1"), 10, 0, 1)}, history{}, "lost write"},
		{"garbage", []*step{}, history{"a": {v("a", "x", 10)}}, "no client wrote"},
		{"aborted write persisted", []*step{{ops: []op{put("a", "1")}, status: aborted}},
			history{"a": {v("a", "1", 10)}}, "aborted"},
		{"torn transaction", []*step{txn(20, 0, 1, put("a", "1"), put("b", "2"))},
			history{"a": {v("a", "1", 20)}, "b": {v("b", "2", 30)}}, "not at the commit timestamp"},
		{"wrong read", []*step{
			single(put("a", "1"), 10, 0, 1),
			txn(20, 2, 3, get("a", "")),
		}, history{"a": {v("a", "1", 10)}}, "the key holds"},
		{"stale read", []*step{
			single(put("a", "1"), 30, 0, 1),
			txn(20, 2, 3, get("a", "")),
		}, history{"a": {v("a", "1", 30)}}, "stale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs, stale, reported := validate(tc.steps, tc.h)
			errs = append(errs, reported...)
			switch {
			case tc.want == "" && len(errs)+len(stale) > 0:
				t.Fatalf("unexpected: %v %v", errs, stale)
			case tc.want == "stale" && (len(stale) == 0 || len(errs) > 0):
				t.Fatalf("want a stale read only, got %v / %v", errs, stale)
			case tc.want != "" && tc.want != "stale" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want)):
				t.Fatalf("got %v, want %q", errs, tc.want)
			}
		})
	}
}
