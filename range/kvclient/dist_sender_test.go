package kvclient_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

func key(i int) []byte { return []byte(fmt.Sprintf("key%03d", i)) }

func scanReq(start, end []byte, maxKeys, maxBytes int64, reverse bool) *rangepb.RequestUnion {
	return &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
		Span: &rangepb.Span{Key: start, EndKey: end}, MaxKeys: maxKeys, MaxBytes: maxBytes, Reverse: reverse,
	}}}
}

// TestDistSender checks how a batch is cut by range and put back together:
// responses in request order, single-key runs per range, scans across
// ranges (including empty ones) with key and byte limits, increments and
// delete ranges across ranges.
func TestDistSender(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ds := kvclient.NewDistSender(c)
	// Ranges [KeyMin, key010), [key010, key020), ..., [key090, KeyMax),
	// and an empty one [key045, key050).
	for _, i := range []int{50, 10, 20, 30, 40, 45, 60, 70, 80, 90} {
		if _, err := ds.AdminSplit(ctx, key(i)); err != nil {
			t.Fatal(err)
		}
	}
	var puts []*rangepb.RequestUnion
	for i := range 100 {
		if i >= 45 && i < 50 {
			continue
		}
		puts = append(puts, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: key(i), Value: key(i)}}})
	}
	if _, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: puts}); err != nil {
		t.Fatal(err)
	}
	// A mixed batch: gets in descending order across ranges, a scan, an
	// increment: each response answers its own request.
	reqs := []*rangepb.RequestUnion{
		{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key(95)}}},
		{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key(5)}}},
		{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key(6)}}},
		scanReq(key(38), key(62), 0, 0, false),
		{Value: &rangepb.RequestUnion_Increment{Increment: &rangepb.IncrementRequest{Key: []byte("counter"), Increment: 3}}},
		{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key(47)}}},
	}
	resp, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Responses
	if string(r[0].GetGet().Value) != string(key(95)) || string(r[1].GetGet().Value) != string(key(5)) ||
		string(r[2].GetGet().Value) != string(key(6)) || r[5].GetGet().Found {
		t.Fatalf("gets: %v", r)
	}
	if rows := r[3].GetScan().Rows; len(rows) != 24-5 || string(rows[0].Key) != string(key(38)) || string(rows[len(rows)-1].Key) != string(key(61)) {
		t.Fatalf("scan across four ranges, one empty: %d rows", len(rows))
	}
	if n := r[4].GetIncrement().NewValue; n != 3 {
		t.Fatalf("increment: %d", n)
	}
	// Byte limits carry across ranges: each row is 12 bytes.
	resp, err = ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{scanReq(key(0), key(100), 0, 12*25, false)}})
	if err != nil {
		t.Fatal(err)
	}
	s := resp.Responses[0].GetScan()
	if len(s.Rows) != 25 || string(s.ResumeKey) != string(key(25)) {
		t.Fatalf("scan with 25 rows' worth of bytes: %d rows, resume at %q", len(s.Rows), s.ResumeKey)
	}
	// A key limit met exactly at a range boundary resumes at the next range.
	resp, err = ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{scanReq(key(0), key(100), 20, 0, false)}})
	if err != nil {
		t.Fatal(err)
	}
	if s := resp.Responses[0].GetScan(); len(s.Rows) != 20 || string(s.ResumeKey) != string(key(20)) {
		t.Fatalf("scan of 20: %d rows, resume at %q", len(s.Rows), s.ResumeKey)
	}
	resp, err = ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{scanReq(key(0), key(100), 20, 0, true)}})
	if err != nil {
		t.Fatal(err)
	}
	if s := resp.Responses[0].GetScan(); len(s.Rows) != 20 || string(s.Rows[0].Key) != string(key(99)) || string(s.ResumeKey) != string(key(80)) {
		t.Fatalf("reverse scan of 20: %d rows, resume at %q", len(s.Rows), s.ResumeKey)
	}
	// Delete range across ranges, listing the keys it deleted.
	resp, err = ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_DeleteRange{
		DeleteRange: &rangepb.DeleteRangeRequest{Span: &rangepb.Span{Key: key(15), EndKey: key(85)}, ReturnKeys: true},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	if dr := resp.Responses[0].GetDeleteRange(); dr.Deleted != 70-5 || len(dr.Keys) != 70-5 ||
		string(dr.Keys[0]) != string(key(15)) || string(dr.Keys[len(dr.Keys)-1]) != string(key(84)) {
		t.Fatalf("delete range: %d deleted, %d keys listed", dr.Deleted, len(dr.Keys))
	}
	resp, err = ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{scanReq(key(0), key(100), 0, 0, false)}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.Responses[0].GetScan().Rows); n != 30 {
		t.Fatalf("after the delete range: %d rows", n)
	}
	// A request not addressed by key is refused.
	if _, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_ComputeChecksum{
		ComputeChecksum: &rangepb.ComputeChecksumRequest{},
	}}}}); err == nil {
		t.Fatal("a checksum request went through the DistSender")
	}
}

// headerRecorder passes batches on to a cluster, recording their headers.
type headerRecorder struct {
	*kvtest.Cluster
	headers []*rangepb.BatchHeader
}

func (h *headerRecorder) SendBatch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	h.headers = append(h.headers, ba.Header)
	return h.Cluster.SendBatch(ctx, ba)
}

// TestDistSenderKeepsHeader: each part of a transaction's batch carries the
// header's flags. The DistSender once rebuilt the header without
// async_consensus, so that no write of a SQL transaction was ever
// pipelined (every UPDATE of pgbench TPC-B waited for its Raft round,
// ~0.4 ms on this VM), while the txn package's tests, which send to the
// ranges directly, saw pipelining work.
func TestDistSenderKeepsHeader(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec := &headerRecorder{Cluster: c}
	ds := kvclient.NewDistSender(rec)
	if _, err := ds.AdminSplit(ctx, key(50)); err != nil {
		t.Fatal(err)
	}
	txn := &rangepb.Transaction{Meta: &rangepb.TxnMeta{Id: make([]byte, 16), Key: key(1),
		WriteTimestamp: &rangepb.Timestamp{WallTime: 1}}, ReadTimestamp: &rangepb.Timestamp{WallTime: 1}}
	rec.headers = nil
	// Every field of the header but the addressing ones is set, so that a
	// field added later and not passed on fails here.
	h := &rangepb.BatchHeader{Txn: txn, AsyncConsensus: true, LockTimeoutNanos: 5e6, LockNoWait: true, ReadSequence: 3}
	fields := h.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if name := f.Name(); name != "range_id" && name != "replica" && name != "timestamp" && !h.ProtoReflect().Has(f) {
			t.Fatalf("header field %s not set by the test: set it and pass it on in DistSender.sendBatch", name)
		}
	}
	if _, err := ds.Send(ctx, &rangepb.BatchRequest{Header: h, Requests: []*rangepb.RequestUnion{
		{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key(1)}}},
		{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key(60)}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if len(rec.headers) != 2 {
		t.Fatalf("%d parts sent, want 2", len(rec.headers))
	}
	for i, h := range rec.headers {
		for j := range fields.Len() {
			f := fields.Get(j)
			if name := f.Name(); name != "range_id" && name != "replica" && name != "timestamp" && !h.ProtoReflect().Has(f) {
				t.Errorf("part %d: header lost %s", i, name)
			}
		}
	}
}
