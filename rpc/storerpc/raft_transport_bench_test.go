package storerpc

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/grpc"
)

// BenchmarkRaftTransport measures Raft messages per second through one
// stream between two nodes over loopback gRPC, one message per Send, as a
// store sends them. The sender keeps at most inFlight messages undelivered,
// so the queue never overflows and nothing is dropped. inflight=1 waits
// for each message before sending the next: the round trip, with nothing
// to batch; inflight=1024 shows what batching queued messages gains.
func BenchmarkRaftTransport(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 16 << 10} {
		for _, inFlight := range []int{1, 1024} {
			b.Run(fmt.Sprintf("size=%d/inflight=%d", size, inFlight), func(b *testing.B) {
				benchmarkRaftTransport(b, size, inFlight)
			})
		}
	}
}

func benchmarkRaftTransport(b *testing.B, size, inFlight int) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	node := &recordingNode{delivered: make(chan struct{}, 1)}
	_, addr := startRPCNode(b, stopper, 2, NewInternalServer(node).Register)
	client, _ := startRPCNode(b, stopper, 1, func(*grpc.Server) {})
	tr := NewRaftTransport(client, stopper, fixedResolver(map[kvserver.NodeID]string{2: addr}), RaftTransportOptions{})
	payload := bytes.Repeat([]byte("r"), size)
	batch := func() *rangepb.RaftMessageBatch {
		return &rangepb.RaftMessageBatch{ClusterId: testClusterID, FromNodeId: 1, ToNodeId: 2,
			Messages: []*rangepb.RaftMessage{{RangeId: 1, Message: payload}}}
	}
	// Open the stream before timing.
	tr.Send(2, batch())
	waitDelivered(b, node, 1)

	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		got, _ := node.received()
		limit := min(b.N, got-1+inFlight)
		if sent >= limit {
			waitDelivered(b, node, got+1)
			continue
		}
		for ; sent < limit; sent++ {
			tr.Send(2, batch())
		}
	}
	waitDelivered(b, node, b.N+1)
	b.StopTimer()
	m := tr.Metrics()
	if m.MessagesDropped != 0 {
		b.Fatalf("%d messages dropped", m.MessagesDropped)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(m.MessagesSent)/float64(m.StreamSends), "msgs/stream-send")
}

// waitDelivered waits until node has received n messages.
func waitDelivered(b *testing.B, node *recordingNode, n int) {
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if got, _ := node.received(); got >= n {
			return
		}
		select {
		case <-node.delivered:
		case <-deadline.C:
			got, _ := node.received()
			b.Fatalf("only %d of %d messages arrived", got, n)
		}
	}
}
