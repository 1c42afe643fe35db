package storerpc

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/stop"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestGRPCClusterReplicates runs three real stores over gRPC: range 1
// starts on node 1, gains voters on nodes 2 and 3 (each receives a
// snapshot over a Snapshot stream), takes writes, and every replica ends
// with the same data.
func TestGRPCClusterReplicates(t *testing.T) {
	c := newGRPCCluster(t, 3)
	ctx := testContext(t, 60*time.Second)
	for i := range 25 {
		if err := c.put(ctx, fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := c.send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{
		ChangeReplicas: &rangepb.ChangeReplicasRequest{Changes: []*rangepb.ReplicaChange{
			{Type: rangepb.ChangeType_ADD_VOTER, NodeId: 2, StoreId: 2},
			{Type: rangepb.ChangeType_ADD_VOTER, NodeId: 3, StoreId: 3},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if desc := resp.Responses[0].GetChangeReplicas().Desc; len(desc.Replicas) != 3 {
		t.Fatalf("after adding two voters: %v", desc)
	}
	for i := 25; i < 50; i++ {
		if err := c.put(ctx, fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		v, found, err := c.get(ctx, fmt.Sprintf("k%03d", i))
		if err != nil || !found || v != fmt.Sprintf("v%d", i) {
			t.Fatalf("k%03d: %q %v %v", i, v, found, err)
		}
	}
	if n := c.nodes[0].transport.Metrics().SnapshotsSent; n < 2 {
		t.Fatalf("the new replicas should have received snapshots, %d sent", n)
	}
	checkReplicasAgree(t, ctx, c)

	// Move the lease to n3: n1 then answers with a NotLeaseHolderError,
	// typed on this side of the wire, whose hint names n3.
	if _, err := c.send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
		TransferLease: &rangepb.TransferLeaseRequest{Target: &rangepb.ReplicaDescriptor{NodeId: 3}},
	}}); err != nil {
		t.Fatal(err)
	}
	_, err = rpc.SendBatch(ctx, c.client(1, 1), &rangepb.BatchRequest{
		Header:   &rangepb.BatchHeader{RangeId: 1},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte("k001")}}}},
	})
	var nlhe *kvserver.NotLeaseHolderError
	if !errors.As(err, &nlhe) || nlhe.Lease.GetReplica().GetNodeId() != 3 {
		t.Fatalf("n1 after the lease moved to n3: %v", err)
	}
	if err := c.put(ctx, "after-transfer", "v"); err != nil {
		t.Fatal(err)
	}
	if v, found, err := c.get(ctx, "after-transfer"); err != nil || !found || v != "v" {
		t.Fatalf("after-transfer: %q %v %v", v, found, err)
	}
}

// checkReplicasAgree runs a consistency check through the Batch RPC and
// waits for every replica of range 1 to report the leaseholder's checksum
// at the same applied index, then for their applied indexes to converge.
func checkReplicasAgree(t *testing.T, ctx context.Context, c *grpcCluster) {
	t.Helper()
	resp, err := c.send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ComputeChecksum{ComputeChecksum: &rangepb.ComputeChecksumRequest{}}})
	if err != nil {
		t.Fatal(err)
	}
	ref := resp.Responses[0].GetComputeChecksum().Checksums[0]
	lh, err := c.nodes[ref.Replica.NodeId-1].store.GetReplica(1)
	if err != nil {
		t.Fatal(err)
	}
	var checkID []byte
	for _, id := range lh.ChecksumIDs() {
		if sum, idx, _ := lh.Checksum(id); idx == ref.AppliedIndex && bytes.Equal(sum, ref.Checksum) {
			checkID = id
		}
	}
	if checkID == nil {
		t.Fatal("the leaseholder has no record of the consistency check")
	}
	replicas := make([]*kvserver.Replica, len(c.nodes))
	for i, n := range c.nodes {
		if replicas[i], err = n.store.GetReplica(1); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range replicas {
		if err := waitFor(ctx, func() error {
			sum, idx, ok := r.Checksum(checkID)
			if !ok {
				return errors.Newf("n%d has not applied the consistency check", i+1)
			}
			if idx != ref.AppliedIndex || !bytes.Equal(sum, ref.Checksum) {
				t.Fatalf("n%d: checksum %x at %d, leaseholder %x at %d", i+1, sum, idx, ref.Checksum, ref.AppliedIndex)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitFor(ctx, func() error {
		want := replicas[0].AppliedIndex()
		for i, r := range replicas {
			if got := r.AppliedIndex(); got != want {
				return errors.Newf("n%d applied %d, n1 %d", i+1, got, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestGRPCRefusesOtherCluster: a node of another cluster can neither send
// a batch nor open a Raft stream.
func TestGRPCRefusesOtherCluster(t *testing.T) {
	c := newGRPCCluster(t, 1)
	ctx := testContext(t, 30*time.Second)
	stopper := stop.NewStopper()
	defer stopper.Stop()
	stranger := rpc.NewContext(stopper, rpc.Options{
		ClusterID: []byte("another-cluster"), NodeID: 2,
		Clock: hlc.NewClock(c.manual.UnixNano, 250*time.Millisecond), HeartbeatInterval: 50 * time.Millisecond,
	})
	conn, err := stranger.Dial(c.addrs[1], 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rpc.SendBatch(ctx, rangepb.NewInternalClient(conn.ClientConn), &rangepb.BatchRequest{
		Header:   &rangepb.BatchHeader{RangeId: 1},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte("x"), Value: []byte("y")}}}},
	})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "cluster ID mismatch") {
		t.Fatalf("a batch from another cluster: %v", err)
	}
	if _, found, err := c.get(ctx, "x"); err != nil || found {
		t.Fatalf("the refused batch wrote: found=%v err=%v", found, err)
	}

	tr := NewRaftTransport(stranger, stopper, c.resolve, RaftTransportOptions{InitialBackoff: time.Millisecond})
	if err := waitFor(ctx, func() error {
		tr.Send(1, &rangepb.RaftMessageBatch{ClusterId: []byte("another-cluster"), FromNodeId: 2, ToNodeId: 1,
			Messages: []*rangepb.RaftMessage{{RangeId: 1}}})
		if tr.Metrics().StreamErrors == 0 {
			return errors.New("the raft stream from another cluster was not refused")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotCorruptRefused: a snapshot whose SST was damaged after its
// checksum was computed is refused with a checksum error, and the receiver
// creates no replica and applies nothing.
func TestSnapshotCorruptRefused(t *testing.T) {
	c := newGRPCCluster(t, 2)
	ctx := testContext(t, 30*time.Second)
	for i := range 10 {
		if err := c.put(ctx, fmt.Sprintf("k%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	snap := testSnapshot(t, c.nodes[0].engine)
	snap.SST[len(snap.SST)/2] ^= 0xff
	err := c.nodes[0].transport.SendSnapshot(ctx, 2, snap)
	if err == nil || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("a corrupt snapshot: %v", err)
	}
	var rnf *kvserver.RangeNotFoundError
	if _, err := c.nodes[1].store.GetReplica(1); !errors.As(err, &rnf) {
		t.Fatalf("the corrupt snapshot left a replica on n2: %v", err)
	}
	if sst, err := kv.ExportSST(c.nodes[1].engine, kv.Span{Key: []byte("k"), EndKey: []byte("l")}); err != nil || bytes.Contains(sst, []byte("k05")) {
		t.Fatalf("the corrupt snapshot's data reached n2's engine (err %v)", err)
	}
}

// testSnapshot builds a snapshot of range 1 from eng addressed to a new
// replica on node 2, as a leaseholder would.
func testSnapshot(t *testing.T, eng kv.Engine) *kvserver.Snapshot {
	t.Helper()
	sst, err := kv.ExportSST(eng, kv.Span{Key: kv.LocalMax, EndKey: kv.KeyMax})
	if err != nil {
		t.Fatal(err)
	}
	desc := &rangepb.RangeDescriptor{
		RangeId: 1, StartKey: kv.KeyMin, EndKey: kv.KeyMax, NextReplicaId: 3,
		Replicas: []*rangepb.ReplicaDescriptor{{NodeId: 1, StoreId: 1, ReplicaId: 1}, {NodeId: 2, StoreId: 2, ReplicaId: 2}},
	}
	msg := raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: 6, Snapshot: &raftpb.Snapshot{
		Metadata: raftpb.SnapshotMetadata{Index: 100, Term: 6, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}}},
	}}
	data, err := msg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return &kvserver.Snapshot{
		Header: &rangepb.RaftMessageBatch{ClusterId: testClusterID, FromNodeId: 1, ToNodeId: 2, Messages: []*rangepb.RaftMessage{{
			RangeId: 1, FromReplica: desc.Replicas[0], ToReplica: desc.Replicas[1], Message: data,
		}}},
		Desc: desc, SST: sst, Checksum: crc32.Checksum(sst, crc32.MakeTable(crc32.Castagnoli)),
	}
}

// recordingNode is a Node that records what reaches it.
type recordingNode struct {
	mu        sync.Mutex
	snapshots []*kvserver.Snapshot
	messages  int
	// delivered, if set, is signalled (without blocking) after each batch.
	delivered chan struct{}
}

func (n *recordingNode) HandleRaftBatch(_ context.Context, b *rangepb.RaftMessageBatch) error {
	n.mu.Lock()
	n.messages += len(b.Messages)
	n.mu.Unlock()
	if n.delivered != nil {
		select {
		case n.delivered <- struct{}{}:
		default:
		}
	}
	return nil
}

func (n *recordingNode) HandleSnapshot(_ context.Context, s *kvserver.Snapshot) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.snapshots = append(n.snapshots, s)
	return nil
}

func (n *recordingNode) Send(context.Context, *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	return &rangepb.BatchResponse{}, nil
}

func (n *recordingNode) received() (messages, snapshots int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.messages, len(n.snapshots)
}

// startRPCNode serves, as node id of testClusterID, whatever register
// registers, until stopper stops.
func startRPCNode(t testing.TB, stopper *stop.Stopper, id int32, register func(*grpc.Server)) (*rpc.Context, string) {
	t.Helper()
	clock := hlc.NewClock(hlc.NewManualClock(1e15).UnixNano, 250*time.Millisecond)
	c := rpc.NewContext(stopper, rpc.Options{ClusterID: testClusterID, NodeID: id, Clock: clock, HeartbeatInterval: 50 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := c.NewServer()
	register(s)
	if err := rpc.Serve(stopper, s, ln); err != nil {
		t.Fatal(err)
	}
	return c, ln.Addr().String()
}

func fixedResolver(addrs map[kvserver.NodeID]string) rpc.AddressResolver {
	return func(id kvserver.NodeID) (string, error) {
		if a, ok := addrs[id]; ok {
			return a, nil
		}
		return "", errors.Newf("unknown node %d", id)
	}
}

// TestSnapshotStreamProtocol: the server refuses malformed and oversized
// snapshot streams with a clear gRPC error, handing nothing to the node,
// and reassembles a well-formed one from its chunks.
func TestSnapshotStreamProtocol(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	ctx := testContext(t, 30*time.Second)
	node := &recordingNode{}
	srv := NewInternalServer(node)
	srv.maxSnapshotBytes = 64 << 10
	_, addr := startRPCNode(t, stopper, 2, srv.Register)
	client, _ := startRPCNode(t, stopper, 1, func(*grpc.Server) {})
	tr := NewRaftTransport(client, stopper, fixedResolver(map[kvserver.NodeID]string{2: addr}),
		RaftTransportOptions{SnapshotChunkBytes: 10 << 10})
	conn, err := client.Dial(addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	ic := rangepb.NewInternalClient(conn.ClientConn)

	raw := func(msgs ...*rangepb.SnapshotRequest) error {
		stream, err := ic.Snapshot(ctx)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := stream.Send(m); err != nil {
				break // the server's reason comes with CloseAndRecv
			}
		}
		_, err = stream.CloseAndRecv()
		return err
	}
	err = raw(&rangepb.SnapshotRequest{SstChunk: []byte("data"), Final: true})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "first message must carry a header") {
		t.Fatalf("a stream without a header: %v", err)
	}
	err = raw()
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "empty snapshot stream") {
		t.Fatalf("an empty stream: %v", err)
	}
	snap := &kvserver.Snapshot{
		Header: &rangepb.RaftMessageBatch{ClusterId: testClusterID, FromNodeId: 1, ToNodeId: 2, Messages: []*rangepb.RaftMessage{{RangeId: 7}}},
		Desc:   &rangepb.RangeDescriptor{RangeId: 7},
	}
	err = raw(&rangepb.SnapshotRequest{Header: snap.Header, Desc: snap.Desc}, &rangepb.SnapshotRequest{SstChunk: []byte("x")})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "before its final chunk") {
		t.Fatalf("a stream without a final chunk: %v", err)
	}
	snap.SST = bytes.Repeat([]byte("s"), 100<<10)
	err = tr.SendSnapshot(ctx, 2, snap)
	if status.Code(errors.UnwrapAll(err)) != codes.ResourceExhausted || !strings.Contains(err.Error(), "larger than the 65536 bytes") {
		t.Fatalf("an oversized snapshot: %v", err)
	}
	if _, n := node.received(); n != 0 {
		t.Fatalf("%d refused snapshots reached the node", n)
	}

	snap.SST = bytes.Repeat([]byte("0123456789"), 5000)
	if err := tr.SendSnapshot(ctx, 2, snap); err != nil {
		t.Fatal(err)
	}
	node.mu.Lock()
	defer node.mu.Unlock()
	if len(node.snapshots) != 1 || !bytes.Equal(node.snapshots[0].SST, snap.SST) || node.snapshots[0].Desc.RangeId != 7 {
		t.Fatalf("the snapshot did not arrive whole: %d snapshots", len(node.snapshots))
	}
}

// gatedRaftServer counts the stream messages and Raft messages it
// receives, holding the stream after the first message until open is
// closed, so that the sender's queue fills behind it.
type gatedRaftServer struct {
	rangepb.UnimplementedInternalServer
	open chan struct{}
	// breakFirst ends the first stream after its first message.
	breakFirst bool

	mu struct {
		sync.Mutex
		streams, streamMsgs int
		ids                 []int64
	}
}

func (s *gatedRaftServer) RaftMessages(stream grpc.BidiStreamingServer[rangepb.RaftMessageBatch, rangepb.RaftMessageResponse]) error {
	s.mu.Lock()
	s.mu.streams++
	first := s.mu.streams == 1
	s.mu.Unlock()
	for {
		b, err := stream.Recv()
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.mu.streamMsgs++
		for _, m := range b.Messages {
			s.mu.ids = append(s.mu.ids, m.RangeId)
		}
		n := s.mu.streamMsgs
		s.mu.Unlock()
		if first && s.breakFirst {
			return status.Error(codes.Internal, "stream broken on purpose")
		}
		if n == 1 && s.open != nil {
			select {
			case <-s.open:
			case <-stream.Context().Done():
				return stream.Context().Err()
			}
		}
	}
}

func (s *gatedRaftServer) counts() (streams, streamMsgs int, ids []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.streams, s.mu.streamMsgs, append([]int64(nil), s.mu.ids...)
}

// TestRaftTransportCoalesces: batches queued while the stream is busy go
// out merged into fewer stream messages, and every message arrives, in
// order.
func TestRaftTransportCoalesces(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	ctx := testContext(t, 30*time.Second)
	srv := &gatedRaftServer{open: make(chan struct{})}
	_, addr := startRPCNode(t, stopper, 2, func(s *grpc.Server) { rangepb.RegisterInternalServer(s, srv) })
	client, _ := startRPCNode(t, stopper, 1, func(*grpc.Server) {})
	tr := NewRaftTransport(client, stopper, fixedResolver(map[kvserver.NodeID]string{2: addr}), RaftTransportOptions{})

	payload := bytes.Repeat([]byte("m"), 16<<10)
	send := func(id int64) {
		tr.Send(2, &rangepb.RaftMessageBatch{ClusterId: testClusterID, FromNodeId: 1, ToNodeId: 2,
			Messages: []*rangepb.RaftMessage{{RangeId: id, Message: payload}}})
	}
	send(0)
	if err := waitFor(ctx, func() error {
		if _, n, _ := srv.counts(); n == 0 {
			return errors.New("the first message did not arrive")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The server now holds the stream: once gRPC's flow-control window is
	// full, the sender blocks and the rest piles up in the queue.
	const total = 300
	for i := int64(1); i < total; i++ {
		send(i)
	}
	close(srv.open)
	if err := waitFor(ctx, func() error {
		if _, _, ids := srv.counts(); len(ids) < total {
			return errors.Newf("%d of %d messages arrived", len(ids), total)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, streamMsgs, ids := srv.counts()
	for i, id := range ids {
		if id != int64(i) {
			t.Fatalf("message %d arrived as %d-th", id, i)
		}
	}
	if streamMsgs > total/4 {
		t.Fatalf("%d messages took %d stream messages: not batched", total, streamMsgs)
	}
	m := tr.Metrics()
	if m.MessagesDropped != 0 || m.MessagesSent != total || m.StreamSends != int64(streamMsgs) {
		t.Fatalf("metrics %+v, server saw %d stream messages", m, streamMsgs)
	}
	t.Logf("%d messages in %d stream messages", total, streamMsgs)
}

// TestRaftTransportReconnects: when the stream breaks, the transport opens
// a new one and later messages arrive on it.
func TestRaftTransportReconnects(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	ctx := testContext(t, 30*time.Second)
	srv := &gatedRaftServer{breakFirst: true}
	_, addr := startRPCNode(t, stopper, 2, func(s *grpc.Server) { rangepb.RegisterInternalServer(s, srv) })
	client, _ := startRPCNode(t, stopper, 1, func(*grpc.Server) {})
	tr := NewRaftTransport(client, stopper, fixedResolver(map[kvserver.NodeID]string{2: addr}),
		RaftTransportOptions{InitialBackoff: time.Millisecond})
	if err := waitFor(ctx, func() error {
		tr.Send(2, &rangepb.RaftMessageBatch{ClusterId: testClusterID, FromNodeId: 1, ToNodeId: 2,
			Messages: []*rangepb.RaftMessage{{RangeId: 1}}})
		if streams, n, _ := srv.counts(); streams < 2 || n < 2 {
			return errors.Newf("%d streams, %d messages", streams, n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if m := tr.Metrics(); m.StreamErrors == 0 {
		t.Fatalf("the broken stream went unnoticed: %+v", m)
	}
}

// TestBatchErrorsRoundTrip: the range layer's typed errors survive the
// wire, so that errors.As works on the sender's side.
func TestBatchErrorsRoundTrip(t *testing.T) {
	lease := &rangepb.Lease{Replica: &rangepb.ReplicaDescriptor{NodeId: 3, ReplicaId: 4}, Sequence: 9}
	desc := &rangepb.RangeDescriptor{RangeId: 5, StartKey: []byte("a"), EndKey: []byte("m")}
	right := &rangepb.RangeDescriptor{RangeId: 6, StartKey: []byte("m"), EndKey: []byte("z")}
	for _, err := range []error{
		&kvserver.NotLeaseHolderError{RangeId: 5, Lease: lease, Reason: "lease expired"},
		&kvserver.RangeNotFoundError{RangeId: 5, NodeId: 2},
		&kvserver.RangeKeyMismatchError{Key: []byte("z"), Desc: desc, Ranges: []*rangepb.RangeDescriptor{right}},
		&kvserver.AmbiguousResultError{Reason: "node stopped"},
		&kvserver.InvalidSplitKeyError{Key: []byte("a"), Reason: "the key is the range's start key", Desc: desc},
		errors.New("something else"),
	} {
		wrapped := errors.Wrap(err, "serving batch")
		got := rpc.DecodeBatchError(rpc.EncodeBatchError(wrapped))
		switch want := err.(type) {
		case *kvserver.NotLeaseHolderError:
			var e *kvserver.NotLeaseHolderError
			if !errors.As(got, &e) || e.Lease.Replica.NodeId != 3 || e.Error() != want.Error() {
				t.Errorf("%v became %v", err, got)
			}
		case *kvserver.RangeNotFoundError:
			var e *kvserver.RangeNotFoundError
			if !errors.As(got, &e) || !proto.Equal(e, want) {
				t.Errorf("%v became %v", err, got)
			}
		case *kvserver.RangeKeyMismatchError:
			var e *kvserver.RangeKeyMismatchError
			if !errors.As(got, &e) || e.Error() != want.Error() || len(e.Ranges) != 1 || e.Ranges[0].RangeId != 6 {
				t.Errorf("%v became %v", err, got)
			}
		case *kvserver.InvalidSplitKeyError:
			var e *kvserver.InvalidSplitKeyError
			if !errors.As(got, &e) || e.Error() != want.Error() {
				t.Errorf("%v became %v", err, got)
			}
		case *kvserver.AmbiguousResultError:
			var e *kvserver.AmbiguousResultError
			if !errors.As(got, &e) || !proto.Equal(e, want) {
				t.Errorf("%v became %v", err, got)
			}
		default:
			if got.Error() != wrapped.Error() {
				t.Errorf("%v became %v", wrapped, got)
			}
		}
	}
}

// TestRaftTransportLargeMessage: a Raft message bigger than gRPC's default
// 4 MiB limit (one large command) still gets through.
func TestRaftTransportLargeMessage(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	ctx := testContext(t, 30*time.Second)
	node := &recordingNode{}
	_, addr := startRPCNode(t, stopper, 2, NewInternalServer(node).Register)
	client, _ := startRPCNode(t, stopper, 1, func(*grpc.Server) {})
	tr := NewRaftTransport(client, stopper, fixedResolver(map[kvserver.NodeID]string{2: addr}), RaftTransportOptions{})
	tr.Send(2, &rangepb.RaftMessageBatch{ClusterId: testClusterID, FromNodeId: 1, ToNodeId: 2,
		Messages: []*rangepb.RaftMessage{{RangeId: 1, Message: make([]byte, 6<<20)}}})
	if err := waitFor(ctx, func() error {
		if n, _ := node.received(); n != 1 {
			return errors.Newf("the large message did not arrive: %+v", tr.Metrics())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
