package kvserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

func tsOf(p *rangepb.Timestamp) hlc.Timestamp {
	return hlc.Timestamp{WallTime: p.GetWallTime(), Logical: p.GetLogical()}
}

func putReq(k, v string) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
}

func getReq(k string) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(k)}}}
}

// TestTxnWriteBelowReadIsPushed: the timestamp cache moves a write above
// an earlier read of its key by another transaction; the response carries
// the pushed write timestamp. A write of the reader itself is not pushed.
func TestTxnWriteBelowReadIsPushed(t *testing.T) {
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 1}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.KeySender()
	now := c.Nodes[0].Clock.Now()
	k := string(kvtest.RangeKey(2, "k"))
	if _, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{getReq(k)}}); err != nil {
		t.Fatal(err)
	}
	now = c.Nodes[0].Clock.Now()
	reader := txnProto(1, []byte(k), 0, 1, now.Add(1000, 0))
	if _, err := sendTxn(ctx, s, reader, getReq(k)); err != nil {
		t.Fatal(err)
	}
	writer := txnProto(2, []byte(k), 0, 1, now)
	br, err := sendTxn(ctx, s, writer, heartbeatReq([]byte(k)), putReq(k, "v"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tsOf(br.Txn.Meta.WriteTimestamp); !now.Add(1000, 0).Less(got) {
		t.Fatalf("write at %s, not above the read at %s", got, now.Add(1000, 0))
	}
	if got := tsOf(br.Txn.ReadTimestamp); got != now {
		t.Fatalf("the read timestamp moved to %s", got)
	}
	// The reader writing its own read key stays where it is.
	k2 := string(kvtest.RangeKey(2, "k2"))
	if _, err := sendTxn(ctx, s, reader, getReq(k2)); err != nil {
		t.Fatal(err)
	}
	br, err = sendTxn(ctx, s, reader, heartbeatReq([]byte(k2)), putReq(k2, "v"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tsOf(br.Txn.Meta.WriteTimestamp); got != now.Add(1000, 0) {
		t.Fatalf("own read pushed the write to %s", got)
	}
}

// TestEndTxnResolvesLocalIntentsInTheCommit: EndTxn resolves the intents in
// its record's range in the same command (none left when it returns) and
// those elsewhere after it.
func TestEndTxnResolvesLocalIntentsInTheCommit(t *testing.T) {
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 1}, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.KeySender()
	local, remote := string(kvtest.RangeKey(2, "a")), string(kvtest.RangeKey(3, "b"))
	// Leases first: a lease starts above every timestamp before it (the
	// timestamp cache's low-water mark), which would push the writes.
	for _, k := range []string{local, remote} {
		if _, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{getReq(k)}}); err != nil {
			t.Fatal(err)
		}
	}
	txn := txnProto(1, []byte(local), 0, 1, c.Nodes[0].Clock.Now())
	if _, err := sendTxn(ctx, s, txn, heartbeatReq([]byte(local)), putReq(local, "1"), putReq(remote, "2")); err != nil {
		t.Fatal(err)
	}
	locks := func(prefix []byte) int {
		it, err := c.Nodes[0].Engine.NewIterator(kv.IterOptions{LowerBound: kv.LockTableKey(prefix), UpperBound: kv.LockTableKey(append(prefix, 0xff))})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for it.SeekGE(kv.MVCCKey{Key: kv.LockTableKey(prefix)}); ; it.Next() {
			if ok, _ := it.Valid(); !ok {
				return n
			}
			n++
		}
	}
	if locks(kvtest.RangeKey(2, "")) != 1 || locks(kvtest.RangeKey(3, "")) != 1 {
		t.Fatal("intents not written")
	}
	spans := []*rangepb.Span{{Key: []byte(local)}, {Key: []byte(remote)}}
	br, err := sendTxn(ctx, s, txn, endTxnReq([]byte(local), true, spans...))
	if err != nil || br.Txn.Status != rangepb.TransactionStatus_COMMITTED {
		t.Fatalf("commit: %v %v", br, err)
	}
	if n := locks(kvtest.RangeKey(2, "")); n != 0 {
		t.Fatalf("%d local intents left after the commit", n)
	}
	// The commit sent again (its answer was lost, the client retried) is
	// answered as what happened: committed.
	br, err = sendTxn(ctx, s, txn, endTxnReq([]byte(local), true, spans...))
	if err != nil || br.Txn.Status != rangepb.TransactionStatus_COMMITTED {
		t.Fatalf("the commit replayed: %v %v", br, err)
	}
	deadline := hlc.PhysicalNow().Add(10 * time.Second)
	for locks(kvtest.RangeKey(3, "")) != 0 {
		if hlc.PhysicalNow().After(deadline) {
			t.Fatal("the remote intent was never resolved")
		}
		<-time.After(time.Millisecond)
	}
	for _, k := range []string{local, remote} {
		br, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{getReq(k)}})
		if err != nil || !br.Responses[0].GetGet().Found {
			t.Fatalf("%s after commit: %v %v", k, br, err)
		}
	}
	_ = kvserver.DefaultTxnLivenessThreshold
}

// TestTxnEmptySpans: reads and writes over empty or inverted spans, inside
// a transaction or not, are answered (with nothing), never a crash.
func TestTxnEmptySpans(t *testing.T) {
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 1}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := kvtest.RangeKey(2, "k")
	for _, txn := range []*rangepb.Transaction{nil, txnProto(1, k, 0, 1, c.Nodes[0].Clock.Now())} {
		for _, end := range [][]byte{nil, {}, k, kvtest.RangeKey(2, "a")} {
			scan := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{Span: &rangepb.Span{Key: k, EndKey: end}}}}
			br, err := c.SendBatch(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: 2, Txn: txn}, Requests: []*rangepb.RequestUnion{scan}})
			if err != nil {
				t.Fatalf("scan [%q, %q): %v", k, end, err)
			}
			if len(end) > 0 && len(br.Responses[0].GetScan().Rows) != 0 {
				t.Fatalf("scan [%q, %q) found rows", k, end)
			}
		}
	}
}

// TestLockingReadKeepsLockOnWriteTooOld: a transaction's locking read that
// meets a value committed above its read timestamp fails with
// WriteTooOld, and holds the key's lock all the same: a writer of another
// transaction queues behind it instead of slipping in before the reader
// reads again above the value (which it then does without meeting
// anything new), and goes on once the reader ends.
func TestLockingReadKeepsLockOnWriteTooOld(t *testing.T) {
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 1}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.KeySender()
	k, anchor := string(kvtest.RangeKey(2, "k")), kvtest.RangeKey(2, "anchor")
	reader := txnProto(1, anchor, 0, 1, c.Nodes[0].Clock.Now())
	if _, err := sendTxn(ctx, s, reader, heartbeatReq(anchor), putReq(string(anchor), "x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{putReq(k, "newer")}}); err != nil {
		t.Fatal(err)
	}
	lockingGet := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(k), ForUpdate: true}}}
	_, err := sendTxn(ctx, s, reader, lockingGet)
	var wto *kv.WriteTooOldError
	if !errors.As(err, &wto) {
		t.Fatalf("locking read below a newer value: %v, want WriteTooOld", err)
	}
	writer := txnProto(2, []byte(k), 0, 1, c.Nodes[0].Clock.Now())
	done := make(chan error, 1)
	go func() {
		_, err := sendTxn(ctx, s, writer, heartbeatReq([]byte(k)), putReq(k, "writer"))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the writer did not wait for the reader's lock: %v", err)
	case <-time.After(200 * time.Millisecond):
		// Still waiting, as it should: a timer is the only way to observe
		// that nothing happens.
	}
	// The reader reads again above the newer value: its own lock.
	above := &rangepb.Timestamp{WallTime: wto.ActualTimestamp.WallTime, Logical: wto.ActualTimestamp.Logical}
	reader.ReadTimestamp, reader.Meta.WriteTimestamp = above, above
	br, err := sendTxn(ctx, s, reader, lockingGet)
	if err != nil {
		t.Fatalf("reading again above the newer value: %v", err)
	}
	if got := string(br.Responses[0].GetGet().GetValue()); !strings.HasSuffix(got, "newer") {
		t.Fatalf("read %q, want the newer value", got)
	}
	if _, err := sendTxn(ctx, s, reader, endTxnReq(anchor, true, &rangepb.Span{Key: anchor}, &rangepb.Span{Key: []byte(k)})); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the writer after the reader's commit: %v", err)
	}
}

// TestFailedConditionIsARead: a conditional put whose condition failed
// read its key, and the timestamp cache keeps that read: a later write of
// the key below it is pushed above it. (An INSERT ... ON CONFLICT DO
// NOTHING that found its key taken at the commit commits having inserted
// nothing: a delete slipped in below would make that answer wrong.)
func TestFailedConditionIsARead(t *testing.T) {
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 1}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.KeySender()
	k := string(kvtest.RangeKey(2, "k"))
	if _, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{putReq(k, "v")}}); err != nil {
		t.Fatal(err)
	}
	now := c.Nodes[0].Clock.Now()
	inserter := txnProto(1, []byte(k), 0, 1, now.Add(1000, 0))
	_, err := sendTxn(ctx, s, inserter, heartbeatReq([]byte(k)), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ConditionalPut{
		ConditionalPut: &rangepb.ConditionalPutRequest{Key: []byte(k), Value: []byte("new")}}})
	if !errors.HasType(err, (*kv.ConditionFailedError)(nil)) {
		t.Fatalf("insert of a taken key: %v, want a ConditionFailedError", err)
	}
	deleter := txnProto(2, []byte(k), 0, 1, now)
	br, err := sendTxn(ctx, s, deleter, heartbeatReq([]byte(k)), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Delete{
		Delete: &rangepb.DeleteRequest{Key: []byte(k)}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tsOf(br.Txn.Meta.WriteTimestamp); !now.Add(1000, 0).Less(got) {
		t.Fatalf("delete at %s, not above the failed insert's read at %s", got, now.Add(1000, 0))
	}
}
