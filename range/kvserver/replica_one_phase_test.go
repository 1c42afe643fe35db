package kvserver

import (
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
	end := func(commit bool, spans ...string) *rangepb.RequestUnion {
		et := &rangepb.EndTxnRequest{Key: []byte("b"), Commit: commit}
		for _, s := range spans {
			et.LockSpans = append(et.LockSpans, &rangepb.Span{Key: []byte(s)})
		}
		return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_EndTxn{EndTxn: et}}
	}
	for _, tc := range []struct {
		name string
		txn  *rangepb.Transaction
		reqs []*rangepb.RequestUnion
		want bool
	}{
		{"whole txn", txn, []*rangepb.RequestUnion{hb("b"), put("b"), del("c"), end(true, "b", "c")}, true},
		{"with a read", txn, []*rangepb.RequestUnion{hb("b"), get, put("b"), end(true, "b")}, true},
		{"no heartbeat", txn, []*rangepb.RequestUnion{put("b"), end(true, "b")}, true},
		{"a lock span written before", txn, []*rangepb.RequestUnion{hb("b"), put("b"), end(true, "b", "d")}, false},
		{"a lock span on another range", txn, []*rangepb.RequestUnion{hb("b"), put("b"), put("z"), end(true, "b", "z")}, false},
		{"rollback", txn, []*rangepb.RequestUnion{hb("b"), put("b"), end(false, "b")}, false},
		{"commit alone", txn, []*rangepb.RequestUnion{end(true, "b")}, false},
		{"heartbeat of another anchor", txn, []*rangepb.RequestUnion{hb("c"), put("b"), end(true, "b")}, false},
		{"not transactional", nil, []*rangepb.RequestUnion{put("b"), end(true, "b")}, false},
		{"commit not last", txn, []*rangepb.RequestUnion{end(true, "b"), put("b")}, false},
	} {
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: tc.txn}, Requests: tc.reqs}
		if got := isOnePhaseCommit(ba, desc); got != tc.want {
			t.Errorf("%s: isOnePhaseCommit = %v, want %v", tc.name, got, tc.want)
		}
	}
}
