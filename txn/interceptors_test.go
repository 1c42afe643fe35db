package txn

import (
	"context"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
)

// Each interceptor alone, against a mock of the layers below it.

type mockSender struct {
	batches []*rangepb.BatchRequest
	fn      func(ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

func (m *mockSender) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	m.batches = append(m.batches, ba)
	if m.fn != nil {
		return m.fn(ba)
	}
	br := &rangepb.BatchResponse{Txn: ba.Header.Txn}
	for range ba.Requests {
		br.Responses = append(br.Responses, &rangepb.ResponseUnion{})
	}
	return br, nil
}

func testTxnProto(read, write int64) *rangepb.Transaction {
	return &rangepb.Transaction{
		Meta:          &rangepb.TxnMeta{Id: make([]byte, 16), WriteTimestamp: tsToProto(hlc.Timestamp{WallTime: write})},
		ReadTimestamp: tsToProto(hlc.Timestamp{WallTime: read}),
	}
}

func batch(txn *rangepb.Transaction, reqs ...*rangepb.RequestUnion) *rangepb.BatchRequest {
	return &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: txn}, Requests: reqs}
}

func put(k string) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(k), Value: []byte("v")}}}
}

func get(k string) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(k)}}}
}

func endTxn(commit bool) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_EndTxn{EndTxn: &rangepb.EndTxnRequest{Commit: commit}}}
}

func TestHeartbeaterCreatesRecordWithFirstWrite(t *testing.T) {
	ctx := context.Background()
	m := &mockSender{}
	h := &txnHeartbeater{}
	h.setWrapped(m)
	if _, err := h.SendLocked(ctx, batch(testTxnProto(1, 1), get("a"))); err != nil {
		t.Fatal(err)
	}
	if len(m.batches[0].Requests) != 1 {
		t.Fatal("a read-only batch got a heartbeat")
	}
	br, err := h.SendLocked(ctx, batch(testTxnProto(1, 1), put("b"), put("c")))
	if err != nil {
		t.Fatal(err)
	}
	sent := m.batches[1]
	if hb := sent.Requests[0].GetHeartbeatTxn(); hb == nil || string(hb.Key) != "b" || string(sent.Header.Txn.Meta.Key) != "b" {
		t.Fatalf("first write: %v", sent)
	}
	if len(br.Responses) != 2 {
		t.Fatalf("the heartbeat's response leaked: %d responses", len(br.Responses))
	}
	if _, err := h.SendLocked(ctx, batch(testTxnProto(1, 1), put("d"))); err != nil {
		t.Fatal(err)
	}
	if len(m.batches[2].Requests) != 1 {
		t.Fatal("a second record creation")
	}
	// Once the loop learned of an abort, only a rollback goes through.
	h.aborted = testTxnProto(1, 1)
	var tae *kvserver.TransactionAbortedError
	if _, err := h.SendLocked(ctx, batch(testTxnProto(1, 1), get("a"))); !errors.As(err, &tae) {
		t.Fatalf("after abort: %v", err)
	}
	if _, err := h.SendLocked(ctx, batch(testTxnProto(1, 1), endTxn(false))); err != nil {
		t.Fatal(err)
	}
}

func TestSeqNumAllocator(t *testing.T) {
	ctx := context.Background()
	m := &mockSender{}
	s := &txnSeqNumAllocator{}
	s.setWrapped(m)
	for _, ba := range []*rangepb.BatchRequest{
		batch(testTxnProto(1, 1), put("a"), get("a"), put("b")),
		batch(testTxnProto(1, 1), get("a")),
		batch(testTxnProto(1, 1), put("c")),
	} {
		if _, err := s.SendLocked(ctx, ba); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []int32{0, 2, 2} {
		if got := m.batches[i].Header.Txn.Meta.Sequence; got != want {
			t.Fatalf("batch %d: sequence %d, want %d", i, got, want)
		}
	}
}

func TestCommitterFillsLockSpansAndElidesReadOnly(t *testing.T) {
	ctx := context.Background()
	m := &mockSender{}
	c := &txnCommitter{}
	c.setWrapped(m)
	br, err := c.SendLocked(ctx, batch(testTxnProto(1, 1), endTxn(true)))
	if err != nil || len(m.batches) != 0 || br.Txn.Status != rangepb.TransactionStatus_COMMITTED {
		t.Fatalf("read-only commit: sent %d batches, %v, %v", len(m.batches), br, err)
	}
	txn := testTxnProto(1, 1)
	txn.Meta.Key = []byte("a")
	for _, ba := range []*rangepb.BatchRequest{batch(txn, put("a")), batch(txn, put("b"), put("a")), batch(txn, endTxn(true))} {
		if _, err := c.SendLocked(ctx, ba); err != nil {
			t.Fatal(err)
		}
	}
	et := m.batches[2].Requests[0].GetEndTxn()
	if string(et.Key) != "a" || len(et.LockSpans) != 2 || !et.Commit {
		t.Fatalf("EndTxn: %v", et)
	}
}

func TestSpanRefresherRefreshesPushedCommit(t *testing.T) {
	ctx := context.Background()
	m := &mockSender{}
	r := &txnSpanRefresher{}
	r.setWrapped(m)
	if _, err := r.SendLocked(ctx, batch(testTxnProto(10, 10), get("a"))); err != nil {
		t.Fatal(err)
	}
	// Pushed to 20: the commit first refreshes "a" from 10 to 20.
	ba := batch(testTxnProto(10, 20), endTxn(true))
	if _, err := r.SendLocked(ctx, ba); err != nil {
		t.Fatal(err)
	}
	ref := m.batches[1]
	if rr := ref.Requests[0].GetRefresh(); rr == nil || string(rr.Key) != "a" || tsFromProto(rr.RefreshFrom).WallTime != 10 ||
		tsFromProto(ref.Header.Txn.ReadTimestamp).WallTime != 20 {
		t.Fatalf("refresh: %v", ref)
	}
	if tsFromProto(m.batches[2].Header.Txn.ReadTimestamp).WallTime != 20 {
		t.Fatal("the commit went out at the old read timestamp")
	}

	// A failed refresh is a retry error.
	m.fn = func(ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
		if ba.Requests[0].GetRefresh() != nil {
			return nil, &kvserver.TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_REFRESH_FAILED, Txn: ba.Header.Txn}
		}
		return &rangepb.BatchResponse{Responses: []*rangepb.ResponseUnion{{}}}, nil
	}
	_, err := r.SendLocked(ctx, batch(testTxnProto(20, 30), endTxn(true)))
	var tre *kvserver.TransactionRetryError
	if !errors.As(err, &tre) || !IsRetryable(toRetryable(err, testTxnProto(20, 30))) {
		t.Fatalf("failed refresh: %v", err)
	}

	// An uncertain read refreshes to the value's timestamp and reads again.
	m.batches, m.fn = nil, nil
	first := true
	m.fn = func(ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
		if ba.Requests[0].GetGet() != nil && first {
			first = false
			return nil, &kv.ReadWithinUncertaintyIntervalError{ValueTimestamp: hlc.Timestamp{WallTime: 25}}
		}
		return &rangepb.BatchResponse{Responses: []*rangepb.ResponseUnion{{}}}, nil
	}
	r.epochBumpedLocked()
	if _, err := r.SendLocked(ctx, batch(testTxnProto(20, 20), get("b"))); err != nil {
		t.Fatal(err)
	}
	if last := m.batches[len(m.batches)-1]; tsFromProto(last.Header.Txn.ReadTimestamp).WallTime != 25 {
		t.Fatalf("re-read at %v", last.Header.Txn.ReadTimestamp)
	}
}
