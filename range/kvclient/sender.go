// Package kvclient is the client side of the range layer. Sender sends KV
// batches to a range, named by ID, over gRPC, finding its leaseholder.
// DistSender builds addressing by key on it: a RangeCache of descriptors
// filled from the meta2 records in range 1, batches split by range, and
// retries with a refreshed cache when a range answers RangeKeyMismatch.
package kvclient

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sender routes batches to leaseholders. It is safe for concurrent use.
type Sender struct {
	// AttemptTimeout bounds one attempt at one node. A node that stops
	// answering is noticed sooner, by its failing heartbeats (the attempt
	// is then abandoned), and a dead one refuses connections at once; this
	// bound is the last resort, so it sits far above a slow write's
	// latency under load (a range funnelling a bulk load through one Raft
	// group, Pebble stalling writes while it flushes): a write that times
	// out is ambiguous (40003 to a SQL client). Default 1 minute.
	AttemptTimeout time.Duration

	rpcCtx  *rpc.Context
	resolve rpc.AddressResolver
	// nodes lists the nodes to try, when the leaseholder is not known.
	nodes func() []rangepb.NodeID
	// local serves the batches addressed to localID, this node, without
	// gRPC (SetLocal); nil: every node is reached over gRPC.
	local   LocalServer
	localID rangepb.NodeID

	mu struct {
		sync.Mutex
		// leaseholders caches the node that last served each range.
		leaseholders map[rangepb.RangeID]rangepb.NodeID
	}
}

// NewSender returns a sender that reaches a fixed set of nodes through
// rpcCtx (tools and tests that start the nodes themselves).
func NewSender(rpcCtx *rpc.Context, resolve rpc.AddressResolver, nodes []rangepb.NodeID) *Sender {
	return NewDynamicSender(rpcCtx, resolve, func() []rangepb.NodeID { return nodes })
}

// NewDynamicSender returns a sender that reaches through rpcCtx the nodes
// that nodes lists at the time of each request: a cluster's members
// change, and a node learns of them as they join.
func NewDynamicSender(rpcCtx *rpc.Context, resolve rpc.AddressResolver, nodes func() []rangepb.NodeID) *Sender {
	s := &Sender{AttemptTimeout: time.Minute, rpcCtx: rpcCtx, resolve: resolve, nodes: nodes}
	s.mu.leaseholders = map[rangepb.RangeID]rangepb.NodeID{}
	return s
}

// LocalServer is this node's own Internal service, called in process:
// rpc.LocalServer. It answers as a remote node does over gRPC — a batch's
// error in BatchResponse.Error, a node that refuses to serve as a gRPC
// status error — so that the sender treats both alike.
type LocalServer interface {
	Batch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// SetLocal makes the sender reach node id, the node it runs on, through
// srv instead of gRPC: the node's requests to its own store skip the
// loopback connection and the protobuf encoding. Call it before the first
// Send.
func (s *Sender) SetLocal(id rangepb.NodeID, srv LocalServer) {
	s.localID, s.local = id, srv
}

// Send sends reqs to range id: first to the cached leaseholder, then
// following NotLeaseHolder hints and trying every node, until one serves it,
// every node has answered twice in a row that it has no replica (the
// RangeNotFound error is returned: the range is gone), or ctx ends. Errors
// other than "not here" are returned as they come, typed (see
// rpc.DecodeBatchError).
func (s *Sender) Send(ctx context.Context, id rangepb.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return s.SendBatch(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: int64(id)}, Requests: reqs})
}

// SendBatch is Send for a whole batch, whose header names the range and
// may carry a timestamp or a transaction.
func (s *Sender) SendBatch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	id := rangepb.RangeID(ba.Header.GetRangeId())
	nodes := s.nodes()
	if len(nodes) == 0 {
		return nil, errors.Newf("r%d: no node to send to: the cluster's members are not known yet", id)
	}
	s.mu.Lock()
	next, ok := s.mu.leaseholders[id]
	s.mu.Unlock()
	if !ok {
		next = nodes[0]
	}
	var lastErr error
	backoff := time.Millisecond
	// goneRounds counts the consecutive rounds in which every node
	// answered RangeNotFound (or could not be reached): the range was
	// merged away (or removed everywhere), and only the caller can find
	// where its keys went (the DistSender evicts its cached descriptor
	// and reads meta2 again).
	goneRounds := 0
	for {
		notFound, unreachable := 0, 0
		for range nodes {
			to := next
			next = after(nodes, to)
			resp, err := s.sendTo(ctx, to, ba)
			if err == nil {
				s.mu.Lock()
				s.mu.leaseholders[id] = to
				s.mu.Unlock()
				return resp, nil
			}
			lastErr = err
			var nlhe *rangepb.NotLeaseHolderError
			var rnf *rangepb.RangeNotFoundError
			var lost *answerLostError
			switch {
			case errors.As(err, &nlhe):
				if h := nlhe.Lease.GetReplica(); h != nil && rangepb.NodeID(h.NodeId) != to {
					next = rangepb.NodeID(h.NodeId)
				}
			case errors.As(err, &lost) && !replayable(ba):
				// The node may have applied it: sending it elsewhere could
				// apply it twice (CockroachDB's DistSender answers the same).
				return nil, &rangepb.AmbiguousResultError{Reason: err.Error()}
			case errors.As(err, &rnf):
				notFound++
			case status.Code(errors.UnwrapAll(err)) == codes.Unavailable:
				unreachable++
			case status.Code(errors.UnwrapAll(err)) == codes.DeadlineExceeded && !replayable(ba):
				return nil, &rangepb.AmbiguousResultError{Reason: "attempt on node timed out: " + err.Error()}
			case status.Code(errors.UnwrapAll(err)) == codes.DeadlineExceeded:
			default:
				return nil, err
			}
			if ctx.Err() != nil {
				return nil, errors.Wrapf(lastErr, "r%d: no leaseholder reachable", id)
			}
		}
		if notFound > 0 && notFound+unreachable == len(nodes) {
			goneRounds++
		} else {
			goneRounds = 0
		}
		if goneRounds >= 2 {
			return nil, lastErr
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errors.Wrapf(lastErr, "r%d: no leaseholder reachable", id)
		case <-t.C:
		}
		backoff = min(2*backoff, 200*time.Millisecond)
		if ns := s.nodes(); len(ns) > 0 {
			nodes = ns // members may have joined meanwhile
		}
	}
}

// after returns the node that follows n in nodes (round robin).
func after(nodes []rangepb.NodeID, n rangepb.NodeID) rangepb.NodeID {
	for i, x := range nodes {
		if x == n {
			return nodes[(i+1)%len(nodes)]
		}
	}
	return nodes[0]
}

// sendTo sends one attempt to one node, with a deadline of its own so
// that a dead node costs at most that.
func (s *Sender) sendTo(ctx context.Context, to rangepb.NodeID, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if s.local != nil && to == s.localID {
		return s.sendLocal(ctx, to, ba)
	}
	addr, err := s.resolve(to)
	if err != nil {
		return nil, err
	}
	conn, err := s.rpcCtx.Dial(addr, int32(to))
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeoutCause(ctx, s.AttemptTimeout, errNoAnswer)
	defer cancel()
	// Give up on the node as soon as a heartbeat to it fails.
	failed := conn.Failed()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-failed:
			cancel()
		case <-done:
		}
	}()
	actx, progress := rpc.WithCallProgress(actx)
	br, err := rpc.SendBatch(actx, rangepb.NewInternalClient(conn.ClientConn), ba)
	if err != nil && status.Code(errors.UnwrapAll(err)) == codes.Unavailable && progress.MayHaveExecuted() {
		return nil, &answerLostError{node: to, err: err}
	}
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		if !progress.MayHaveExecuted() {
			// Abandoned before the request left (the connection's
			// heartbeats failed while it was being dialed): the node never
			// saw it, so it may go elsewhere even if it commits. Calling it
			// a timeout made a commit to an unreachable node ambiguous
			// (40003) now and then (TestSenderLostAnswer).
			return nil, status.Error(codes.Unavailable, fmt.Sprintf("node %d: not sent: %v", to, context.Cause(actx)))
		}
		// Abandoned after it left (no answer in time, or the heartbeats
		// failed): what Send treats as a timed-out attempt.
		return nil, status.Error(codes.DeadlineExceeded, fmt.Sprintf("node %d: %v", to, context.Cause(actx)))
	}
	return br, err
}

// sendLocal is sendTo for this node: the same answers, without gRPC. There
// are no heartbeats to watch (a node does not heartbeat itself, and its
// store cannot become unreachable from it); the attempt timeout holds as
// for any node.
func (s *Sender) sendLocal(ctx context.Context, to rangepb.NodeID, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	actx, cancel := context.WithTimeoutCause(ctx, s.AttemptTimeout, errNoAnswer)
	defer cancel()
	br, err := s.local.Batch(actx, ba)
	if err == nil && br.Error != nil {
		br, err = nil, rpc.DecodeBatchError(br.Error)
	}
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		return nil, status.Error(codes.DeadlineExceeded, fmt.Sprintf("node %d: %v", to, context.Cause(actx)))
	}
	return br, err
}

// errNoAnswer is the cause of an attempt that outlived AttemptTimeout.
var errNoAnswer = errors.New("no answer within the attempt timeout")

// answerLostError: the request reached node's transport and the
// connection broke before an answer came back. The node may have executed
// it.
type answerLostError struct {
	node rangepb.NodeID
	err  error
}

func (e *answerLostError) Error() string {
	return fmt.Sprintf("node %d: connection lost after the request was sent: %v", e.node, e.err)
}

func (e *answerLostError) Unwrap() error { return e.err }

// replayable reports whether sending ba again after an attempt that may
// have executed is harmless. Reads and the transaction bookkeeping
// requests are idempotent; so are a transaction's writes, which MVCC
// recognises as replays by their sequence numbers. A commit (EndTxn) and
// writes outside a transaction are not: a commit may have resolved and
// cleaned up what a replay would find missing, and a replayed
// non-transactional CPut or Increment would fail or count twice.
func replayable(ba *rangepb.BatchRequest) bool {
	txnal := ba.GetHeader().GetTxn() != nil
	for _, r := range ba.Requests {
		switch f := r.Flags(); {
		case f.Has(rangepb.Idempotent):
		case f.Has(rangepb.WritesUserKeys):
			if !txnal {
				return false
			}
		default:
			return false
		}
	}
	return true
}
