package kvclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeLocal answers as a node's Internal service does (rpc.LocalServer):
// with answer, or blocking until the call's context ends.
type fakeLocal struct {
	mu     sync.Mutex
	calls  int
	answer func(ctx context.Context) (*rangepb.BatchResponse, error)
}

func (f *fakeLocal) Batch(ctx context.Context, _ *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	return f.answer(ctx)
}

// TestSenderLocal: a sender reaches its own node through the local server,
// never over gRPC, and reads its answers as it reads a remote node's:
// typed errors (a NotLeaseHolder hint is followed, a RangeKeyMismatch
// comes back as one), a node refusing to serve makes it try the next, and
// an attempt that outlives AttemptTimeout is ambiguous for a write.
func TestSenderLocal(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	rpcCtx := rpc.NewContext(stopper, rpc.Options{ClusterID: []byte("c"), NodeID: 1,
		Clock: hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset), HeartbeatInterval: time.Second})
	var mu sync.Mutex
	var resolved []kvserver.NodeID
	resolve := func(id kvserver.NodeID) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		resolved = append(resolved, id)
		return "", errors.Newf("node %d is not reachable in this test", id)
	}
	resolvedNodes := func() []kvserver.NodeID {
		mu.Lock()
		defer mu.Unlock()
		out := resolved
		resolved = nil
		return out
	}
	s := kvclient.NewSender(rpcCtx, resolve, []kvserver.NodeID{1, 2})
	local := &fakeLocal{}
	s.SetLocal(1, local)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte("k")}}}
	put := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte("k")}}}

	// Served locally.
	local.answer = func(context.Context) (*rangepb.BatchResponse, error) {
		return &rangepb.BatchResponse{Responses: []*rangepb.ResponseUnion{{Value: &rangepb.ResponseUnion_Get{Get: &rangepb.GetResponse{Found: true}}}}}, nil
	}
	br, err := s.Send(ctx, 1, get)
	if err != nil || !br.Responses[0].GetGet().GetFound() {
		t.Fatalf("local get: %v %v", br, err)
	}
	if r := resolvedNodes(); len(r) != 0 {
		t.Fatalf("a local call looked up nodes %v", r)
	}

	// A typed error in the response is the Go type again.
	desc := &rangepb.RangeDescriptor{RangeId: 1, StartKey: []byte("a"), EndKey: []byte("b")}
	local.answer = func(context.Context) (*rangepb.BatchResponse, error) {
		return &rangepb.BatchResponse{Error: rpc.EncodeBatchError(&kvserver.RangeKeyMismatchError{Key: []byte("k"), Desc: desc})}, nil
	}
	_, err = s.Send(ctx, 1, get)
	if rkm := (*kvserver.RangeKeyMismatchError)(nil); !errors.As(err, &rkm) || rkm.Desc.RangeId != 1 {
		t.Fatalf("want a RangeKeyMismatchError, got %v", err)
	}

	// NotLeaseHolder names node 2: the sender goes there next.
	local.answer = func(context.Context) (*rangepb.BatchResponse, error) {
		return &rangepb.BatchResponse{Error: rpc.EncodeBatchError(&kvserver.NotLeaseHolderError{RangeID: 1,
			Lease: &rangepb.Lease{Replica: &rangepb.ReplicaDescriptor{NodeId: 2}}, Reason: "moved"})}, nil
	}
	if _, err = s.Send(ctx, 1, get); err == nil {
		t.Fatal("expected node 2's lookup failure")
	}
	if r := resolvedNodes(); len(r) != 1 || r[0] != 2 {
		t.Fatalf("after a NotLeaseHolder hint the sender looked up %v, want [2]", r)
	}

	// A node refusing to serve (stopping, or its clock off) is Unavailable:
	// the sender tries the next node.
	local.answer = func(context.Context) (*rangepb.BatchResponse, error) {
		return nil, status.Error(codes.Unavailable, "node 1 refuses to serve")
	}
	if _, err = s.Send(ctx, 1, get); err == nil {
		t.Fatal("expected node 2's lookup failure")
	}
	if r := resolvedNodes(); len(r) != 1 || r[0] != 2 {
		t.Fatalf("after Unavailable the sender looked up %v, want [2]", r)
	}

	// No answer within the attempt timeout: a write is ambiguous.
	s.AttemptTimeout = 20 * time.Millisecond
	local.answer = func(ctx context.Context) (*rangepb.BatchResponse, error) {
		<-ctx.Done()
		return nil, &kvserver.AmbiguousResultError{Reason: "gave up waiting: " + ctx.Err().Error()}
	}
	_, err = s.Send(ctx, 1, put)
	if amb := (*kvserver.AmbiguousResultError)(nil); !errors.As(err, &amb) {
		t.Fatalf("a write that timed out: want AmbiguousResultError, got %v", err)
	}
}
