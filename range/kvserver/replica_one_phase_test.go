package kvserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/range/rangepb"
)

func TestIsOnePhaseCommit(t *testing.T) {
	desc := &rangepb.RangeDescriptor{RangeId: 2, StartKey: []byte("a"), EndKey: []byte("m")}
	txn := &rangepb.Transaction{Meta: &rangepb.TxnMeta{Id: make([]byte, 16), Key: []byte("b")}}
	put := func(k string) *rangepb.RequestUnion {
		return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(k)}}}
	}
	del := func(k string) *rangepb.RequestUnion {
		return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Delete{Delete: &rangepb.DeleteRequest{Key: []byte(k)}}}
	}
	get := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte("x")}}}
	hb := func(k string) *rangepb.RequestUnion {
		return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_HeartbeatTxn{HeartbeatTxn: &rangepb.HeartbeatTxnRequest{Key: []byte(k)}}}
	}
	delRange := func(k, end string) *rangepb.RequestUnion {
		return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_DeleteRange{DeleteRange: &rangepb.DeleteRangeRequest{
			Span: &rangepb.Span{Key: []byte(k), EndKey: []byte(end)}}}}
	}
	keys := func(n int) []string {
		var ks []string
		for i := range n {
			ks = append(ks, fmt.Sprintf("c%d", i))
		}
		return ks
	}
	puts := func(n int) []*rangepb.RequestUnion {
		var rs []*rangepb.RequestUnion
		for _, k := range keys(n) {
			rs = append(rs, put(k))
		}
		return rs
	}
	// end's spans are keys, or key-end for a span.
	end := func(commit bool, spans ...string) *rangepb.RequestUnion {
		et := &rangepb.EndTxnRequest{Key: []byte("b"), Commit: commit}
		for _, s := range spans {
			k, e, _ := strings.Cut(s, "-")
			et.LockSpans = append(et.LockSpans, &rangepb.Span{Key: []byte(k), EndKey: []byte(e)})
		}
		return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_EndTxn{EndTxn: et}}
	}
	for _, tc := range []struct {
		name string
		txn  *rangepb.Transaction
		reqs []*rangepb.RequestUnion
		want bool
		// committed: the writes may be written as committed values.
		committed bool
	}{
		{"whole txn", txn, []*rangepb.RequestUnion{hb("b"), put("b"), del("c"), end(true, "b", "c")}, true, true},
		{"with a read", txn, []*rangepb.RequestUnion{hb("b"), get, put("b"), end(true, "b")}, true, true},
		{"no heartbeat", txn, []*rangepb.RequestUnion{put("b"), end(true, "b")}, true, true},
		{"a key written twice", txn, []*rangepb.RequestUnion{put("b"), del("b"), end(true, "b")}, true, false},
		{"a ranged write", txn, []*rangepb.RequestUnion{put("b"), delRange("c", "e"), end(true, "b", "c-e")}, true, false},
		{"many keys", txn, append(puts(maxSyncResolveSpans+1), end(true, keys(maxSyncResolveSpans+1)...)), true, true},
		{"many keys, one twice", txn, append(append(puts(maxSyncResolveSpans+1), put("c0")), end(true, keys(maxSyncResolveSpans+1)...)), false, false},
		{"a lock span written before", txn, []*rangepb.RequestUnion{hb("b"), put("b"), end(true, "b", "d")}, false, false},
		{"a lock span on another range", txn, []*rangepb.RequestUnion{hb("b"), put("b"), put("z"), end(true, "b", "z")}, false, false},
		{"rollback", txn, []*rangepb.RequestUnion{hb("b"), put("b"), end(false, "b")}, false, false},
		{"commit alone", txn, []*rangepb.RequestUnion{end(true, "b")}, false, false},
		{"heartbeat of another anchor", txn, []*rangepb.RequestUnion{hb("c"), put("b"), end(true, "b")}, false, false},
		{"not transactional", nil, []*rangepb.RequestUnion{put("b"), end(true, "b")}, false, false},
		{"commit not last", txn, []*rangepb.RequestUnion{end(true, "b"), put("b")}, false, false},
	} {
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: tc.txn}, Requests: tc.reqs}
		if got, committed := isOnePhaseCommit(ba, desc); got != tc.want || committed != tc.committed {
			t.Errorf("%s: isOnePhaseCommit = %v, %v; want %v, %v", tc.name, got, committed, tc.want, tc.committed)
		}
	}
}
