package kvclient_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/rpc/storerpc"
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
		return &rangepb.BatchResponse{Error: rpc.EncodeBatchError(&kvserver.NotLeaseHolderError{RangeId: 1,
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

// fakeNode is a node's store for rpc.InternalServer: Send calls serve.
type fakeNode struct {
	serve func(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

func (n *fakeNode) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	return n.serve(ctx, ba)
}
func (*fakeNode) HandleRaftBatch(context.Context, *rangepb.RaftMessageBatch) error { return nil }
func (*fakeNode) HandleSnapshot(context.Context, *kvserver.Snapshot) error         { return nil }

// startFakeNode serves node id's Internal service over real gRPC on a
// loopback port.
func startFakeNode(t *testing.T, stopper *stop.Stopper, id int32, node *fakeNode) (string, *grpc.Server) {
	t.Helper()
	rpcCtx := rpc.NewContext(stopper, rpc.Options{ClusterID: []byte("c"), NodeID: id,
		Clock: hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset), HeartbeatInterval: time.Second})
	srv := rpcCtx.NewServer()
	storerpc.NewInternalServer(node).Register(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), srv
}

// TestSenderLostAnswer: when a node's connection breaks after a request
// reached it, a commit (or a write outside a transaction) is ambiguous —
// the node may have applied it — and is not sent to another node, while
// reads and a transaction's writes (replays MVCC recognises) go on to the
// next node. A node that could not be reached at all is no ambiguity.
func TestSenderLostAnswer(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	ok := &rangepb.BatchResponse{}
	var mu sync.Mutex
	served := map[string]int{}
	good, _ := startFakeNode(t, stopper, 3, &fakeNode{serve: func(_ context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		served[ba.Header.GetTxn().GetName()]++
		return ok, nil
	}})
	txn := func(id string) *rangepb.BatchHeader {
		return &rangepb.BatchHeader{RangeId: 1, Txn: &rangepb.Transaction{Name: id}}
	}
	put := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte("k")}}}
	get := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte("k")}}}
	commit := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_EndTxn{EndTxn: &rangepb.EndTxnRequest{Commit: true}}}
	for _, tc := range []struct {
		name      string
		ba        *rangepb.BatchRequest
		ambiguous bool
	}{
		{"commit", &rangepb.BatchRequest{Header: txn("commit"), Requests: []*rangepb.RequestUnion{put, commit}}, true},
		{"non-transactional write", &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: 1}, Requests: []*rangepb.RequestUnion{put}}, true},
		{"transactional write", &rangepb.BatchRequest{Header: txn("write"), Requests: []*rangepb.RequestUnion{put}}, false},
		{"read", &rangepb.BatchRequest{Header: txn("read"), Requests: []*rangepb.RequestUnion{get}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Node 2 takes the request and dies before answering.
			reached := make(chan struct{})
			var once sync.Once
			bad, badSrv := startFakeNode(t, stopper, 2, &fakeNode{serve: func(ctx context.Context, _ *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
				once.Do(func() { close(reached) })
				<-ctx.Done()
				return nil, ctx.Err()
			}})
			go func() {
				<-reached
				badSrv.Stop()
			}()
			s := newTestSender(stopper, map[kvserver.NodeID]string{2: bad, 3: good})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := s.SendBatch(ctx, tc.ba)
			amb := (*kvserver.AmbiguousResultError)(nil)
			mu.Lock()
			n := served[tc.ba.Header.GetTxn().GetName()]
			served[tc.ba.Header.GetTxn().GetName()] = 0
			mu.Unlock()
			switch {
			case tc.ambiguous && !errors.As(err, &amb):
				t.Fatalf("want AmbiguousResultError, got %v", err)
			case tc.ambiguous && n != 0:
				t.Fatalf("an ambiguous request was sent again, to node 3")
			case !tc.ambiguous && (err != nil || n != 1):
				t.Fatalf("want it served by node 3, got err %v, served %d times", err, n)
			}
		})
	}

	// A node nobody listens on: the commit never left, node 3 serves it.
	dead := refusingAddr(t)
	s := newTestSender(stopper, map[kvserver.NodeID]string{2: dead, 3: good})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.SendBatch(ctx, &rangepb.BatchRequest{Header: txn("refused"), Requests: []*rangepb.RequestUnion{put, commit}}); err != nil {
		t.Fatalf("a commit to an unreachable node then a live one: %v", err)
	}
}

// newTestSender returns a sender on node 1 that tries nodes 2 then 3 at
// addrs.
func newTestSender(stopper *stop.Stopper, addrs map[kvserver.NodeID]string) *kvclient.Sender {
	rpcCtx := rpc.NewContext(stopper, rpc.Options{ClusterID: []byte("c"), NodeID: 1,
		Clock: hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset), HeartbeatInterval: time.Second})
	resolve := func(id kvserver.NodeID) (string, error) {
		if a, ok := addrs[id]; ok {
			return a, nil
		}
		return "", errors.Newf("no node %d", id)
	}
	return kvclient.NewSender(rpcCtx, resolve, []kvserver.NodeID{2, 3})
}

// refusingAddr returns an address whose connections are refused, for as
// long as the test runs: a TCP socket bound to a port but not listening
// holds the port, so that no other process (make test runs many) can take
// it and answer, as one could a port freed by closing a listener.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
