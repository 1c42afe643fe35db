package rpc

import (
	"context"

	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// LocalServer is a node's Internal service as the node's own KV client
// calls it: the same Batch a remote call reaches (storerpc.InternalServer), without
// gRPC, the loopback connection and the protobuf encoding on both sides.
// It applies the checks a call from the network passes (Context.NewServer)
// that still mean something for a call from this node to itself: a node
// whose clock is beyond the maximum offset refuses to serve, as
// Unavailable. (The cluster and node IDs of the call are this node's.)
// The answer is what a remote call gets: a batch's error travels in
// BatchResponse.Error (see EncodeBatchError), so the caller decodes it the
// same way. It is safe for concurrent use.
//
// The request is shared, not copied: the store neither keeps it nor
// changes it, and the caller must not change it until the call returns.
type LocalServer struct {
	rpcCtx *Context
	srv    BatchServer
}

// BatchServer serves KV batches: the node's Internal service
// (storerpc.InternalServer).
type BatchServer interface {
	Batch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// NewLocalServer returns srv, the Internal service registered on the gRPC
// server of rpcCtx's node, for that node's own calls.
func NewLocalServer(rpcCtx *Context, srv BatchServer) *LocalServer {
	return &LocalServer{rpcCtx: rpcCtx, srv: srv}
}

// Batch serves a KV batch as the Internal service does for a remote call.
func (l *LocalServer) Batch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if err := l.rpcCtx.RemoteClocks.VerifyHealthy(); err != nil {
		return nil, status.Errorf(codes.Unavailable, "node %d refuses to serve: %v", l.rpcCtx.opts.NodeID, err)
	}
	return l.srv.Batch(ctx, ba)
}
