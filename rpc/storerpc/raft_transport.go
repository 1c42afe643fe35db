package storerpc

import (
	"context"
	"google.golang.org/grpc"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/stop"
)

// RaftTransportOptions tune a RaftTransport. Zero fields take the documented
// defaults.
type RaftTransportOptions struct {
	// QueueSize bounds the batches waiting for each destination; Send drops
	// beyond it. Default 10000.
	QueueSize int
	// MaxBatchBytes stops coalescing queued batches into one stream message
	// once their Raft messages add up to this many bytes. Default 1 MiB,
	// well below gRPC's default 4 MiB message limit.
	MaxBatchBytes int
	// SnapshotChunkBytes is the size of the SST chunks of a snapshot stream.
	// Default 1 MiB.
	SnapshotChunkBytes int
	// InitialBackoff is the first wait before reconnecting a broken stream;
	// it doubles up to MaxBackoff. Defaults 50ms and 2s.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func (o *RaftTransportOptions) setDefaults() {
	if o.QueueSize == 0 {
		o.QueueSize = 10000
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = 1 << 20
	}
	if o.SnapshotChunkBytes == 0 {
		o.SnapshotChunkBytes = 1 << 20
	}
	if o.InitialBackoff == 0 {
		o.InitialBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 2 * time.Second
	}
}

// RaftTransport is the gRPC implementation of kvserver.Transport. Each
// destination node gets one long-lived RaftMessages stream, fed by a
// bounded queue: Send never blocks (a full queue, or a destination that is
// unreachable, drops messages, which Raft tolerates), and whatever piled up
// while the stream was busy goes out as one stream message. Snapshots go
// over their own stream per snapshot, so a large one never holds up
// heartbeats. It is safe for concurrent use.
type RaftTransport struct {
	rpcCtx  *rpc.Context
	stopper *stop.Stopper
	resolve rpc.AddressResolver
	opts    RaftTransportOptions
	metrics raftTransportMetrics

	mu struct {
		sync.Mutex
		queues map[kvserver.NodeID]*raftSendQueue
	}
}

var _ kvserver.Transport = (*RaftTransport)(nil)

// NewRaftTransport returns a transport that dials through rpcCtx, finds
// nodes through resolve, and runs its streams as tasks of stopper.
func NewRaftTransport(
	rpcCtx *rpc.Context, stopper *stop.Stopper, resolve rpc.AddressResolver, opts RaftTransportOptions,
) *RaftTransport {
	opts.setDefaults()
	t := &RaftTransport{rpcCtx: rpcCtx, stopper: stopper, resolve: resolve, opts: opts}
	t.mu.queues = map[kvserver.NodeID]*raftSendQueue{}
	return t
}

// RaftTransportMetrics counts what a RaftTransport did.
type RaftTransportMetrics struct {
	// MessagesSent counts Raft messages handed to a stream, and
	// StreamSends the stream messages that carried them.
	MessagesSent, StreamSends int64
	// MessagesDropped counts Raft messages dropped: queue full, or the
	// destination unreachable.
	MessagesDropped int64
	// Refused counts batches the receiver reported it could not handle.
	Refused int64
	// StreamErrors counts streams that failed to open or broke.
	StreamErrors int64
	// SnapshotsSent counts snapshots the receiver accepted.
	SnapshotsSent int64
}

type raftTransportMetrics struct {
	messagesSent, streamSends, messagesDropped, refused, streamErrors, snapshotsSent atomic.Int64
}

// Metrics returns the transport's counters.
func (t *RaftTransport) Metrics() RaftTransportMetrics {
	m := &t.metrics
	return RaftTransportMetrics{
		MessagesSent: m.messagesSent.Load(), StreamSends: m.streamSends.Load(),
		MessagesDropped: m.messagesDropped.Load(), Refused: m.refused.Load(),
		StreamErrors: m.streamErrors.Load(), SnapshotsSent: m.snapshotsSent.Load(),
	}
}

// raftSendQueue holds the batches waiting for one destination.
type raftSendQueue struct {
	to kvserver.NodeID
	ch chan *rangepb.RaftMessageBatch
	// carry is a batch taken from ch that could not join the batch being
	// built. Only the queue's task touches it.
	carry *rangepb.RaftMessageBatch
}

// Send queues batch for node to. It never blocks.
func (t *RaftTransport) Send(to kvserver.NodeID, batch *rangepb.RaftMessageBatch) {
	q := t.queue(to)
	if q == nil {
		t.metrics.messagesDropped.Add(int64(len(batch.Messages)))
		return
	}
	select {
	case q.ch <- batch:
	default:
		t.metrics.messagesDropped.Add(int64(len(batch.Messages)))
	}
}

// queue returns the queue of node to, starting its stream task on first
// use; nil once the stopper is stopping.
func (t *RaftTransport) queue(to kvserver.NodeID) *raftSendQueue {
	t.mu.Lock()
	defer t.mu.Unlock()
	if q, ok := t.mu.queues[to]; ok {
		return q
	}
	q := &raftSendQueue{to: to, ch: make(chan *rangepb.RaftMessageBatch, t.opts.QueueSize)}
	if err := t.stopper.RunAsyncTask("raft-transport-send", func(ctx context.Context) {
		t.processQueue(ctx, q)
	}); err != nil {
		return nil
	}
	t.mu.queues[to] = q
	return q
}

// processQueue keeps a stream to q's node open and feeds it, reconnecting
// with exponential backoff. Messages queued while there is no stream are
// dropped: they would be stale by the time one opens, and Raft resends.
func (t *RaftTransport) processQueue(ctx context.Context, q *raftSendQueue) {
	backoff := t.opts.InitialBackoff
	for {
		start := hlc.PhysicalNow()
		t.runStream(ctx, q)
		if ctx.Err() != nil {
			return
		}
		t.metrics.streamErrors.Add(1)
		// gRPC opens a stream before the receiver has accepted it, so only
		// a stream that lasted tells a healthy peer from one that refuses
		// every stream (another cluster, a clock beyond the max offset).
		if hlc.PhysicalNow().Sub(start) > t.opts.MaxBackoff {
			backoff = t.opts.InitialBackoff
		}
		if !t.dropFor(ctx, q, backoff) {
			return
		}
		backoff = min(2*backoff, t.opts.MaxBackoff)
	}
}

// dropFor drops whatever is queued for d. It returns false if ctx ended.
func (t *RaftTransport) dropFor(ctx context.Context, q *raftSendQueue, d time.Duration) bool {
	if q.carry != nil {
		t.metrics.messagesDropped.Add(int64(len(q.carry.Messages)))
		q.carry = nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case b := <-q.ch:
			t.metrics.messagesDropped.Add(int64(len(b.Messages)))
		case <-timer.C:
			return true
		}
	}
}

// runStream opens a stream to q's node and sends on it until it breaks or
// ctx ends. Why it broke does not change what happens next: reconnect.
func (t *RaftTransport) runStream(ctx context.Context, q *raftSendQueue) {
	client, err := t.client(q.to)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.RaftMessages(ctx)
	if err != nil {
		return
	}
	// The receiver answers only to report a batch it could not handle; the
	// answers must be read, or they would fill the stream's window, and a
	// failed read is how a broken idle stream is noticed.
	recvErr := make(chan error, 1)
	if err := t.stopper.RunAsyncTask("raft-transport-recv", func(context.Context) {
		for {
			resp, err := stream.Recv()
			if err != nil {
				recvErr <- err
				cancel()
				return
			}
			if resp.Error != "" {
				t.metrics.refused.Add(1)
			}
		}
	}); err != nil {
		return
	}
	defer func() {
		cancel()
		<-recvErr
	}()
	for {
		b := q.carry
		q.carry = nil
		if b == nil {
			select {
			case <-ctx.Done():
				return
			case b = <-q.ch:
			}
		}
		b = t.coalesce(q, b)
		if err := stream.Send(b); err != nil {
			t.metrics.messagesDropped.Add(int64(len(b.Messages)))
			return
		}
		t.metrics.streamSends.Add(1)
		t.metrics.messagesSent.Add(int64(len(b.Messages)))
	}
}

// coalesce merges the batches queued behind first into one, up to
// MaxBatchBytes. Batches are never modified: the caller may still hold
// them.
func (t *RaftTransport) coalesce(q *raftSendQueue, first *rangepb.RaftMessageBatch) *rangepb.RaftMessageBatch {
	out := first
	size := batchBytes(first)
	for size < t.opts.MaxBatchBytes {
		var b *rangepb.RaftMessageBatch
		select {
		case b = <-q.ch:
		default:
			return out
		}
		// Every batch to one node comes from the same store and carries
		// the same header; one that does not starts the next message.
		if b.FromNodeId != first.FromNodeId || b.ToNodeId != first.ToNodeId ||
			string(b.ClusterId) != string(first.ClusterId) {
			q.carry = b
			return out
		}
		if out == first {
			out = &rangepb.RaftMessageBatch{
				ClusterId: first.ClusterId, FromNodeId: first.FromNodeId, ToNodeId: first.ToNodeId,
				Messages: append(make([]*rangepb.RaftMessage, 0, 2*len(first.Messages)), first.Messages...),
			}
		}
		out.Messages = append(out.Messages, b.Messages...)
		size += batchBytes(b)
	}
	return out
}

// batchBytes estimates b's size on the wire cheaply: the Raft payloads
// dominate.
func batchBytes(b *rangepb.RaftMessageBatch) int {
	n := 0
	for _, m := range b.Messages {
		n += len(m.Message) + 32
	}
	return n
}

func (t *RaftTransport) client(to kvserver.NodeID) (rangepb.InternalClient, error) {
	addr, err := t.resolve(to)
	if err != nil {
		return nil, errors.Wrapf(err, "resolving node %d", to)
	}
	conn, err := t.rpcCtx.Dial(addr, int32(to))
	if err != nil {
		return nil, err
	}
	return rangepb.NewInternalClient(conn.ClientConn), nil
}

// SendBatch sends a KV batch to node to over the Batch RPC; a refusal in
// the response comes back as the typed error. The call waits (within ctx)
// for a connection to a node that is restarting, rather than failing at
// once.
func (t *RaftTransport) SendBatch(ctx context.Context, to kvserver.NodeID, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	client, err := t.client(to)
	if err != nil {
		return nil, err
	}
	return rpc.SendBatch(ctx, client, ba, grpc.WaitForReady(true))
}

// SendSnapshot streams snap to node to: a first message with its header,
// descriptor and checksum, then the SST in chunks, the last marked final.
// It returns once the receiver has handled it, with the receiver's
// refusal, if any, as the error.
func (t *RaftTransport) SendSnapshot(ctx context.Context, to kvserver.NodeID, snap *kvserver.Snapshot) error {
	return t.stopper.RunTask(ctx, "raft-transport-snapshot", func(ctx context.Context) error {
		return t.sendSnapshot(ctx, to, snap)
	})
}

func (t *RaftTransport) sendSnapshot(ctx context.Context, to kvserver.NodeID, snap *kvserver.Snapshot) error {
	client, err := t.client(to)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.Snapshot(ctx)
	if err != nil {
		return errors.Wrapf(err, "opening a snapshot stream to node %d", to)
	}
	err = stream.Send(&rangepb.SnapshotRequest{
		Header: snap.Header, Desc: snap.Desc, Checksum: snap.Checksum, Final: len(snap.SST) == 0,
	})
	for off := 0; err == nil && off < len(snap.SST); off += t.opts.SnapshotChunkBytes {
		end := min(off+t.opts.SnapshotChunkBytes, len(snap.SST))
		err = stream.Send(&rangepb.SnapshotRequest{SstChunk: snap.SST[off:end], Final: end == len(snap.SST)})
	}
	// io.EOF means the receiver ended the stream early; its reason comes
	// with the response.
	if err != nil && !errors.Is(err, io.EOF) {
		return errors.Wrapf(err, "sending a snapshot to node %d", to)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return errors.Wrapf(err, "snapshot to node %d", to)
	}
	if resp.Error != "" {
		return errors.Newf("node %d refused the snapshot: %s", to, resp.Error)
	}
	t.metrics.snapshotsSent.Add(1)
	return nil
}
