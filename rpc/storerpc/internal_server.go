package storerpc

import (
	"context"
	"io"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Node is what the Internal service serves from: a node's store.
// *kvserver.Store implements it.
type Node interface {
	kvserver.MessageHandler
	Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

var _ Node = (*kvserver.Store)(nil)

// MaxSnapshotBytes bounds the snapshots a node accepts: the receiver holds
// a whole snapshot in memory before applying it, so a bigger one (or a
// stream that never ends) is refused rather than allowed to exhaust it.
const MaxSnapshotBytes = 512 << 20

// InternalServer serves the Internal service — KV batches, Raft messages
// and snapshots — from a Node. Calls reach it only through a server from
// Context.NewServer, whose interceptors have checked the cluster and the
// node. It is safe for concurrent use.
type InternalServer struct {
	rangepb.UnimplementedInternalServer
	node Node
	// maxSnapshotBytes is MaxSnapshotBytes; tests lower it.
	maxSnapshotBytes int
}

// NewInternalServer returns a server for node's Internal service.
func NewInternalServer(node Node) *InternalServer {
	return &InternalServer{node: node, maxSnapshotBytes: MaxSnapshotBytes}
}

// Register registers s on g.
func (s *InternalServer) Register(g *grpc.Server) { rangepb.RegisterInternalServer(g, s) }

// Batch serves a KV batch. An error the range layer returns travels in the
// response, typed (see EncodeBatchError), so the sender can act on it; a
// node that is stopping fails the call as Unavailable instead, as a dead
// node would.
func (s *InternalServer) Batch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	resp, err := s.node.Send(ctx, ba)
	if err != nil {
		var unavail *kvserver.NodeUnavailableError
		if errors.As(err, &unavail) {
			return nil, status.Error(codes.Unavailable, err.Error())
		}
		return &rangepb.BatchResponse{Error: rpc.EncodeBatchError(err)}, nil
	}
	if resp == nil {
		resp = &rangepb.BatchResponse{}
	}
	return resp, nil
}

// RaftMessages hands each batch the stream delivers to the node. It
// answers only when the node refuses a batch, and keeps the stream open:
// the next batch may be fine. A stopping node ends the stream.
func (s *InternalServer) RaftMessages(stream grpc.BidiStreamingServer[rangepb.RaftMessageBatch, rangepb.RaftMessageResponse]) error {
	ctx := stream.Context()
	for {
		b, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.node.HandleRaftBatch(ctx, b); err != nil {
			if errors.Is(err, stop.ErrStopping) {
				return status.Error(codes.Unavailable, err.Error())
			}
			if err := stream.Send(&rangepb.RaftMessageResponse{Error: err.Error()}); err != nil {
				return err
			}
		}
	}
}

// Snapshot reassembles a snapshot from its stream and hands it to the
// node. A stream that breaks the protocol (no header first, too big, no
// final chunk) fails with InvalidArgument or ResourceExhausted; a snapshot
// the node refuses is answered with the node's reason.
func (s *InternalServer) Snapshot(stream grpc.ClientStreamingServer[rangepb.SnapshotRequest, rangepb.SnapshotResponse]) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "empty snapshot stream")
	}
	if err != nil {
		return err
	}
	h := first.Header
	if h == nil || first.Desc == nil || len(h.Messages) != 1 {
		return status.Error(codes.InvalidArgument,
			"malformed snapshot stream: the first message must carry a header with one raft message and a range descriptor")
	}
	snap := &kvserver.Snapshot{Header: h, Desc: first.Desc, Checksum: first.Checksum}
	for m := first; ; {
		if len(snap.SST)+len(m.SstChunk) > s.maxSnapshotBytes {
			return status.Errorf(codes.ResourceExhausted,
				"snapshot of r%d from node %d refused: larger than the %d bytes a node accepts",
				h.Messages[0].RangeId, h.FromNodeId, s.maxSnapshotBytes)
		}
		snap.SST = append(snap.SST, m.SstChunk...)
		if m.Final {
			break
		}
		m, err = stream.Recv()
		if errors.Is(err, io.EOF) {
			return status.Errorf(codes.InvalidArgument,
				"snapshot stream of r%d from node %d ended before its final chunk", h.Messages[0].RangeId, h.FromNodeId)
		}
		if err != nil {
			return err
		}
	}
	resp := &rangepb.SnapshotResponse{}
	if err := s.node.HandleSnapshot(stream.Context(), snap); err != nil {
		resp.Error = err.Error()
	}
	return stream.SendAndClose(resp)
}
