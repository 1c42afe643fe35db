package storerpc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// failingNode answers every batch with err.
type failingNode struct {
	recordingNode
	err error
}

func (n *failingNode) Send(context.Context, *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if n.err != nil {
		return nil, n.err
	}
	return &rangepb.BatchResponse{Responses: []*rangepb.ResponseUnion{{Value: &rangepb.ResponseUnion_Get{Get: &rangepb.GetResponse{Found: true, Value: []byte("v")}}}}}, nil
}

// TestLocalServerAnswersAsRemote: a node's own call through LocalServer
// gets what the same call over gRPC gets — the same answer, the same Go
// error types and messages (typed range and transaction errors, a stopping
// node as Unavailable) — so a sender acts on both alike.
func TestLocalServerAnswersAsRemote(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	node := &failingNode{}
	internal := NewInternalServer(node)
	c, addr := startRPCNode(t, stopper, 1, internal.Register)
	conn, err := c.Dial(addr, 1)
	if err != nil {
		t.Fatal(err)
	}
	remote := rangepb.NewInternalClient(conn.ClientConn)
	local := rpc.NewLocalServer(c, internal)
	sendLocal := func(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
		return rpc.SendBatch(ctx, localClient{local}, ba)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	lease := &rangepb.Lease{Replica: &rangepb.ReplicaDescriptor{NodeId: 3, ReplicaId: 4}, Sequence: 9}
	desc := &rangepb.RangeDescriptor{RangeId: 5, StartKey: []byte("a"), EndKey: []byte("m")}
	txn := &rangepb.Transaction{Meta: &rangepb.TxnMeta{Id: make([]byte, 16), Epoch: 3}}
	for _, nodeErr := range []error{
		nil,
		&kvserver.NotLeaseHolderError{RangeId: 5, Lease: lease, Reason: "lease expired"},
		errors.Wrap(&kvserver.RangeKeyMismatchError{Key: []byte("z"), Desc: desc}, "serving"),
		&kvserver.RangeNotFoundError{RangeId: 5, NodeId: 1},
		&kvserver.AmbiguousResultError{Reason: "the store is stopping"},
		&kvserver.TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_SERIALIZABLE, Txn: txn},
		&kvserver.TransactionAbortedError{Txn: txn},
		&kv.ReadWithinUncertaintyIntervalError{Key: []byte("k"), ValueTimestamp: hlc.Timestamp{WallTime: 5}},
		&kvserver.NodeUnavailableError{NodeID: 1},
		errors.New("something else"),
	} {
		node.err = nodeErr
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: 5}}
		rresp, rerr := rpc.SendBatch(ctx, remote, ba)
		lresp, lerr := sendLocal(ctx, ba)
		if describe(lresp, lerr) != describe(rresp, rerr) {
			t.Errorf("node error %v:\n local  %s\n remote %s", nodeErr, describe(lresp, lerr), describe(rresp, rerr))
		}
	}
}

// describe names what a sender sees of an answer: the response, or the
// error's type, gRPC code and message.
func describe(br *rangepb.BatchResponse, err error) string {
	if err != nil {
		return fmt.Sprintf("%T code=%v %q", errors.UnwrapAll(err), status.Code(err), err.Error())
	}
	return fmt.Sprintf("ok %v", br.GetResponses())
}

// localClient calls a LocalServer as a rangepb.InternalClient (Batch only).
type localClient struct{ l *rpc.LocalServer }

func (c localClient) Batch(ctx context.Context, ba *rangepb.BatchRequest, _ ...grpc.CallOption) (*rangepb.BatchResponse, error) {
	return c.l.Batch(ctx, ba)
}

func (localClient) RaftMessages(context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[rangepb.RaftMessageBatch, rangepb.RaftMessageResponse], error) {
	return nil, errors.New("not served locally")
}

func (localClient) Snapshot(context.Context, ...grpc.CallOption) (grpc.ClientStreamingClient[rangepb.SnapshotRequest, rangepb.SnapshotResponse], error) {
	return nil, errors.New("not served locally")
}
