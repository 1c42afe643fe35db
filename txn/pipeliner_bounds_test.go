package txn

import (
	"context"
	"fmt"
	"testing"

	"github.com/meridiandb/meridian/range/rangepb"
)

// TestPipelinerBounds: a batch of more than maxPipelinedBatchWrites writes
// goes synchronously, and no batch is pipelined once the writes in flight
// would pass maxInFlightWrites: a bulk transaction does not keep its
// hundreds of thousands of writes in flight (each later request looked at
// all of them, and the commit would prove them all).
func TestPipelinerBounds(t *testing.T) {
	var async []bool
	p := &txnPipeliner{wrapped: senderFunc(func(_ context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
		async = append(async, ba.Header.AsyncConsensus)
		br := &rangepb.BatchResponse{}
		for range ba.Requests {
			br.Responses = append(br.Responses, &rangepb.ResponseUnion{})
		}
		return br, nil
	})}
	next := 0
	batch := func(n int) *rangepb.BatchRequest {
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: &rangepb.Transaction{Meta: &rangepb.TxnMeta{}}}}
		for range n {
			next++
			ba.Requests = append(ba.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{
				Key: []byte(fmt.Sprintf("k%06d", next)), Sequence: int32(next)}}})
		}
		return ba
	}
	ctx := context.Background()
	if _, err := p.SendLocked(ctx, batch(maxPipelinedBatchWrites+1)); err != nil {
		t.Fatal(err)
	}
	if async[0] || len(p.inFlight) != 0 {
		t.Fatalf("a batch of %d writes pipelined (%d in flight)", maxPipelinedBatchWrites+1, len(p.inFlight))
	}
	for len(p.inFlight)+maxPipelinedBatchWrites <= maxInFlightWrites {
		if _, err := p.SendLocked(ctx, batch(maxPipelinedBatchWrites)); err != nil {
			t.Fatal(err)
		}
		if !async[len(async)-1] {
			t.Fatalf("a batch of %d writes with %d in flight went synchronously", maxPipelinedBatchWrites, len(p.inFlight))
		}
	}
	before := len(p.inFlight)
	if _, err := p.SendLocked(ctx, batch(maxPipelinedBatchWrites)); err != nil {
		t.Fatal(err)
	}
	if async[len(async)-1] || len(p.inFlight) != before {
		t.Fatalf("pipelined past the bound: %d in flight, bound %d", len(p.inFlight), maxInFlightWrites)
	}
}
