package kvserver

import (
	"context"

	"github.com/meridiandb/meridian/range/rangepb"
)

// NodeID names a node. Each node has one store for now, so it also names
// the store.
type NodeID = rangepb.NodeID

// Transport carries Raft messages and snapshots from this store to others.
// Message delivery is best effort, as Raft expects: a message may be lost,
// delayed, duplicated or reordered, and Raft recovers. Implementations: the
// gRPC transport of package rpc, and MemTransport for tests.
type Transport interface {
	// Send queues batch for delivery to node to and returns at once.
	Send(to NodeID, batch *rangepb.RaftMessageBatch)
	// SendSnapshot streams a snapshot to node to and returns once the
	// receiver has applied it, or refused it.
	SendSnapshot(ctx context.Context, to NodeID, snap *Snapshot) error
	// SendBatch sends a KV batch to node to and returns its answer; a
	// replica uses it to ask its peers (consistency check results).
	SendBatch(ctx context.Context, to NodeID, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// MessageHandler receives what a Transport delivers. The Store implements it.
type MessageHandler interface {
	HandleRaftBatch(ctx context.Context, batch *rangepb.RaftMessageBatch) error
	HandleSnapshot(ctx context.Context, snap *Snapshot) error
	Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// Snapshot is a replica's state sent to a replica too far behind to catch up
// from the log: the Raft message that carries the snapshot's metadata, the
// range descriptor, and the range's data as an SST.
type Snapshot struct {
	Header *rangepb.RaftMessageBatch
	Desc   *rangepb.RangeDescriptor
	SST    []byte
	// Checksum is the crc32c of SST; the receiver refuses a mismatch.
	Checksum uint32
}
