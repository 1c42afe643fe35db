package kvserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// txnProto is a transaction at ts with the given epoch and priority,
// anchored at anchor.
func txnProto(idByte byte, anchor []byte, epoch, priority int32, ts hlc.Timestamp) *rangepb.Transaction {
	id := make([]byte, 16)
	id[0] = idByte
	p := &rangepb.Timestamp{WallTime: ts.WallTime, Logical: ts.Logical}
	return &rangepb.Transaction{
		Meta:          &rangepb.TxnMeta{Id: id, Key: anchor, Epoch: epoch, Priority: priority, WriteTimestamp: p, MinTimestamp: p},
		ReadTimestamp: p, GlobalUncertaintyLimit: p,
	}
}

func sendTxn(ctx context.Context, s kvserver.KeySender, txn *rangepb.Transaction, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: txn}, Requests: reqs})
}

func heartbeatReq(anchor []byte) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_HeartbeatTxn{HeartbeatTxn: &rangepb.HeartbeatTxnRequest{Key: anchor}}}
}

func endTxnReq(anchor []byte, commit bool, spans ...*rangepb.Span) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_EndTxn{EndTxn: &rangepb.EndTxnRequest{Key: anchor, Commit: commit, LockSpans: spans}}}
}

func pushReq(pushee *rangepb.Transaction, typ rangepb.PushTxnType) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_PushTxn{PushTxn: &rangepb.PushTxnRequest{
		Key: pushee.Meta.Key, Pushee: pushee.Meta, PushType: typ, PushTo: pushee.Meta.WriteTimestamp}}}
}

// TestTxnBadInput: requests that do not fit a transaction's record fail
// with typed errors that say why, and change nothing.
func TestTxnBadInput(t *testing.T) {
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 1}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.KeySender()
	anchor := kvtest.RangeKey(2, "anchor")
	if _, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{getReq(string(anchor))}}); err != nil {
		t.Fatal(err)
	}
	now := c.Nodes[0].Clock.Now()

	// EndTxn of a transaction nobody knows (no record).
	unknown := txnProto(1, anchor, 0, 1, now)
	_, err := sendTxn(ctx, s, unknown, endTxnReq(anchor, true))
	var tse *kvserver.TransactionStatusError
	if !errors.As(err, &tse) || !strings.Contains(err.Error(), "no transaction record") {
		t.Fatalf("EndTxn of an unknown txn: %v", err)
	}

	// EndTxn without a transaction.
	if _, err := sendTxn(ctx, s, nil, endTxnReq(anchor, true)); err == nil || !strings.Contains(err.Error(), "needs a transaction") {
		t.Fatalf("EndTxn without a txn: %v", err)
	}

	// A pending transaction aborted by a push (the pusher has the higher
	// priority): its commit fails with TransactionAbortedError.
	victim := txnProto(2, anchor, 0, 1, now)
	if _, err := sendTxn(ctx, s, victim, heartbeatReq(anchor)); err != nil {
		t.Fatal(err)
	}
	pusher := txnProto(3, anchor, 0, 100, now)
	br, err := sendTxn(ctx, s, pusher, pushReq(victim, rangepb.PushTxnType_PUSH_ABORT))
	if err != nil || br.Responses[0].GetPushTxn().PusheeTxn.Status != rangepb.TransactionStatus_ABORTED {
		t.Fatalf("push: %v %v", br, err)
	}
	var tae *kvserver.TransactionAbortedError
	if _, err := sendTxn(ctx, s, victim, endTxnReq(anchor, true)); !errors.As(err, &tae) {
		t.Fatalf("commit of an aborted txn: %v", err)
	}
	if _, err := sendTxn(ctx, s, victim, heartbeatReq(anchor)); !errors.As(err, &tae) {
		t.Fatalf("heartbeat of an aborted txn: %v", err)
	}
	// A lower-priority, live pushee wins against nobody; a push the other
	// way round fails.
	strong := txnProto(4, anchor, 0, 1000, now)
	if _, err := sendTxn(ctx, s, strong, heartbeatReq(anchor)); err != nil {
		t.Fatal(err)
	}
	var tpe *kvserver.TransactionPushError
	if _, err := sendTxn(ctx, s, pusher, pushReq(strong, rangepb.PushTxnType_PUSH_ABORT)); !errors.As(err, &tpe) {
		t.Fatalf("push of a live, higher-priority txn: %v", err)
	}

	// A forced push (the concurrency manager decided) goes through.
	forced := pushReq(strong, rangepb.PushTxnType_PUSH_ABORT)
	forced.GetPushTxn().Force = true
	if br, err := sendTxn(ctx, s, pusher, forced); err != nil || br.Responses[0].GetPushTxn().PusheeTxn.Status != rangepb.TransactionStatus_ABORTED {
		t.Fatalf("forced push: %v %v", br, err)
	}
	strong = txnProto(9, anchor, 0, 1000, now)

	// A committed transaction: pushes leave it committed (the pusher learns
	// the outcome and resolves), a second commit or a rollback is refused.
	done := txnProto(5, anchor, 0, 1, now)
	if _, err := sendTxn(ctx, s, done, heartbeatReq(anchor)); err != nil {
		t.Fatal(err)
	}
	if _, err := sendTxn(ctx, s, done, endTxnReq(anchor, true)); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []rangepb.PushTxnType{rangepb.PushTxnType_PUSH_ABORT, rangepb.PushTxnType_PUSH_TIMESTAMP} {
		br, err := sendTxn(ctx, s, strong, pushReq(done, typ))
		if err != nil || br.Responses[0].GetPushTxn().PusheeTxn.Status != rangepb.TransactionStatus_COMMITTED {
			t.Fatalf("%s push of a committed txn: %v %v", typ, br, err)
		}
	}
	// Rolling back a committed transaction is refused; committing it again
	// (a commit whose answer was lost, sent again) is answered committed.
	if _, err := sendTxn(ctx, s, done, endTxnReq(anchor, false)); !errors.As(err, &tse) || !strings.Contains(err.Error(), "already committed") {
		t.Fatalf("EndTxn(commit=false) of a committed txn: %v", err)
	}
	if br, err := sendTxn(ctx, s, done, endTxnReq(anchor, true)); err != nil || br.Txn.Status != rangepb.TransactionStatus_COMMITTED {
		t.Fatalf("EndTxn(commit=true) of a committed txn, replayed: %v %v", br, err)
	}

	// A stale epoch: the record is at epoch 2, the commit names epoch 1.
	restarted := txnProto(6, anchor, 2, 1, now)
	if _, err := sendTxn(ctx, s, restarted, heartbeatReq(anchor)); err != nil {
		t.Fatal(err)
	}
	stale := txnProto(6, anchor, 1, 1, now)
	if _, err := sendTxn(ctx, s, stale, endTxnReq(anchor, true)); !errors.As(err, &tse) || !strings.Contains(err.Error(), "stale epoch") {
		t.Fatalf("EndTxn at a stale epoch: %v", err)
	}

	// A commit whose write timestamp was pushed above its read timestamp
	// (and not refreshed) must restart.
	pushed := txnProto(7, anchor, 0, 1, now)
	if _, err := sendTxn(ctx, s, pushed, heartbeatReq(anchor)); err != nil {
		t.Fatal(err)
	}
	p := pushReq(pushed, rangepb.PushTxnType_PUSH_TIMESTAMP)
	p.GetPushTxn().PushTo = &rangepb.Timestamp{WallTime: now.WallTime + 10}
	if _, err := sendTxn(ctx, s, strong, p); err != nil {
		t.Fatal(err)
	}
	var tre *kvserver.TransactionRetryError
	if _, err := sendTxn(ctx, s, pushed, endTxnReq(anchor, true)); !errors.As(err, &tre) || tre.Reason != rangepb.TransactionRetryReason_RETRY_SERIALIZABLE {
		t.Fatalf("commit of a pushed txn: %v", err)
	}

	// A push of a transaction without a record aborts it for good: its
	// first heartbeat (record creation) then fails.
	ghost := txnProto(8, anchor, 0, 1000, now)
	if _, err := sendTxn(ctx, s, nil, pushReq(ghost, rangepb.PushTxnType_PUSH_TIMESTAMP)); err != nil {
		t.Fatal(err)
	}
	if _, err := sendTxn(ctx, s, ghost, heartbeatReq(anchor)); !errors.As(err, &tae) {
		t.Fatalf("record creation after an abort by push: %v", err)
	}
	// A transaction cannot push itself.
	if _, err := sendTxn(ctx, s, strong, pushReq(strong, rangepb.PushTxnType_PUSH_ABORT)); err == nil {
		t.Fatal("a txn pushed itself")
	}
}
