package kvclient_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// scanRecorder is a RangeSender that records the scans it forwards and can
// hold each one until a number of them are in flight at once.
type scanRecorder struct {
	c  *kvtest.Cluster
	mu struct {
		sync.Mutex
		scans []*rangepb.ScanRequest
		// barrier: hold each scan until this many have arrived (0: none).
		barrier int
		cond    *sync.Cond
	}
}

func newScanRecorder(ctx context.Context, c *kvtest.Cluster) *scanRecorder {
	r := &scanRecorder{c: c}
	r.mu.cond = sync.NewCond(&r.mu)
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.mu.cond.Broadcast()
		r.mu.Unlock()
	})
	return r
}

func (r *scanRecorder) Send(ctx context.Context, id kvserver.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	var scan *rangepb.ScanRequest
	if len(reqs) == 1 {
		scan = reqs[0].GetScan()
	}
	// Not meta2 lookups: the test's scans.
	if scan != nil && bytes.HasPrefix(scan.Span.GetKey(), []byte("key")) {
		r.mu.Lock()
		r.mu.scans = append(r.mu.scans, scan)
		// Count parts arrived, not parts in flight: the last to arrive
		// may finish before the others wake up.
		r.mu.cond.Broadcast()
		// Sequential parts would wait here until ctx ends (which wakes
		// them, see newScanRecorder) and fail.
		for r.mu.barrier > 0 && len(r.mu.scans) < r.mu.barrier && ctx.Err() == nil {
			r.mu.cond.Wait()
		}
		r.mu.Unlock()
	}
	return r.c.Send(ctx, id, reqs...)
}

// TestDistSenderScanParts: a scan without limits sends its per-range parts
// at once (each part is held until all five are in flight); one with a
// limit goes range by range; both keep the scan's ForUpdate flag in every
// part (the parts once lost it, so that a locking scan sent alone, cut by
// range, locked nothing); forward and reverse, the rows come back in
// order.
func TestDistSenderScanParts(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec := newScanRecorder(ctx, c)
	ds := kvclient.NewDistSender(rec)
	for _, i := range []int{20, 40, 60, 80} {
		if _, err := ds.AdminSplit(ctx, key(i)); err != nil {
			t.Fatal(err)
		}
	}
	var puts []*rangepb.RequestUnion
	for i := range 100 {
		puts = append(puts, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: key(i), Value: key(i)}}})
	}
	if _, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: puts}); err != nil {
		t.Fatal(err)
	}
	scan := func(maxKeys int64, reverse, forUpdate bool) []*rangepb.KeyValue {
		t.Helper()
		rec.mu.Lock()
		rec.mu.scans = nil
		rec.mu.Unlock()
		req := scanReq(key(0), key(100), maxKeys, 0, reverse)
		req.GetScan().ForUpdate = forUpdate
		resp, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{req}})
		if err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, s := range rec.mu.scans {
			if s.ForUpdate != forUpdate {
				t.Fatalf("a part of a scan with ForUpdate=%t has %t", forUpdate, s.ForUpdate)
			}
		}
		return resp.Responses[0].GetScan().Rows
	}
	checkRows := func(rows []*rangepb.KeyValue, n int, reverse bool) {
		t.Helper()
		if len(rows) != n {
			t.Fatalf("%d rows, want %d", len(rows), n)
		}
		for i, r := range rows {
			want := key(i)
			if reverse {
				want = key(99 - i)
			}
			if string(r.Key) != string(want) {
				t.Fatalf("row %d: %s, want %s", i, r.Key, want)
			}
		}
	}
	rec.mu.Lock()
	rec.mu.barrier = 5
	rec.mu.Unlock()
	for _, reverse := range []bool{false, true} {
		for _, forUpdate := range []bool{false, true} {
			checkRows(scan(0, reverse, forUpdate), 100, reverse)
		}
	}
	rec.mu.Lock()
	rec.mu.barrier = 0
	rec.mu.Unlock()
	for _, reverse := range []bool{false, true} {
		checkRows(scan(50, reverse, true), 50, reverse)
	}
}
