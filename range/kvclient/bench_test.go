package kvclient_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// BenchmarkDistScan scans 1,000 keys on three nodes, held by one range or
// cut into ten (issue 11: ranges=10 within 1.5× of ranges=1, the
// per-range parts being sent at once):
//
//	go test -run '^$' -bench DistScan -benchmem ./range/kvclient/
//
// The in-process cluster answers a request with a function call; the
// RTT variant adds a round trip of 1 ms to every request the DistSender
// sends, as a network between client and nodes would, which is what
// sending the parts at once saves.
//
// Measured 2026-12-06 08:55 UTC (2-core VM shared with other helpers,
// -count 3, medians), parts sent range by range -> at once:
// ranges=1 401 us -> 420 us, ranges=10 756 us -> 598 us (1.89x -> 1.42x);
// RTT ranges=1 1.72 ms -> 1.59 ms, ranges=10 12.3 ms -> 2.06 ms
// (7.1x -> 1.30x).
func BenchmarkDistScan(b *testing.B) {
	for _, ranges := range []int{1, 10} {
		b.Run(fmt.Sprintf("ranges=%d", ranges), func(b *testing.B) {
			benchDistScan(b, ranges, 0)
		})
	}
}

func BenchmarkDistScanRTT(b *testing.B) {
	for _, ranges := range []int{1, 10} {
		b.Run(fmt.Sprintf("ranges=%d", ranges), func(b *testing.B) {
			benchDistScan(b, ranges, time.Millisecond)
		})
	}
}

// rttSender delays every request by a round trip.
type rttSender struct {
	c   *kvtest.Cluster
	rtt time.Duration
}

func (s rttSender) Send(ctx context.Context, id kvserver.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	t := time.NewTimer(s.rtt)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	return s.c.Send(ctx, id, reqs...)
}

func benchDistScan(b *testing.B, ranges int, rtt time.Duration) {
	const keys = 1000
	c := kvtest.NewCluster(b, kvtest.Options{Nodes: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		b.Fatal(err)
	}
	var sender kvserver.RangeSender = c
	if rtt > 0 {
		sender = rttSender{c: c, rtt: rtt}
	}
	ds := kvclient.NewDistSender(sender)
	bkey := func(i int) []byte { return []byte(fmt.Sprintf("bench%04d", i)) }
	for r := 1; r < ranges; r++ {
		if _, err := ds.AdminSplit(ctx, bkey(r*keys/ranges)); err != nil {
			b.Fatal(err)
		}
	}
	var puts []*rangepb.RequestUnion
	for i := range keys {
		puts = append(puts, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: bkey(i), Value: []byte("value-of-some-thirty-bytes-xx")}}})
	}
	if _, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: puts}); err != nil {
		b.Fatal(err)
	}
	scan := &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{scanReq(bkey(0), bkey(keys), 0, 0, false)}}
	check := func() {
		resp, err := ds.Send(ctx, scan)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(resp.Responses[0].GetScan().Rows); n != keys {
			b.Fatalf("scan: %d rows", n)
		}
	}
	check() // warm the range cache and the leases
	b.ResetTimer()
	for range b.N {
		check()
	}
}
