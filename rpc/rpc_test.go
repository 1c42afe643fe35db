package rpc

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
	"github.com/meridiandb/meridian/stop/leaktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

// echoInternal answers every Batch with an empty response.
type echoInternal struct {
	rangepb.UnimplementedInternalServer
}

func (echoInternal) Batch(context.Context, *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	return &rangepb.BatchResponse{}, nil
}

type testNode struct {
	ctx   *Context
	phys  *hlc.ManualClock
	addr  string
	clock *hlc.Clock
}

func startNode(t *testing.T, stopper *stop.Stopper, cluster string, id int32, physNanos int64) *testNode {
	t.Helper()
	phys := hlc.NewManualClock(physNanos)
	clock := hlc.NewClock(phys.UnixNano, 500*time.Millisecond)
	c := NewContext(stopper, Options{
		ClusterID: []byte(cluster), NodeID: id, Clock: clock, HeartbeatInterval: 20 * time.Millisecond,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := c.NewServer()
	rangepb.RegisterInternalServer(s, echoInternal{})
	if err := Serve(stopper, s, ln); err != nil {
		t.Fatal(err)
	}
	return &testNode{ctx: c, phys: phys, addr: ln.Addr().String(), clock: clock}
}

func batch(t *testing.T, from *testNode, to *testNode, toID int32) error {
	t.Helper()
	conn, err := from.ctx.Dial(to.addr, toID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = rangepb.NewInternalClient(conn.ClientConn).Batch(ctx, &rangepb.BatchRequest{})
	return err
}

func TestCallChecks(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	const base = 1_000_000_000_000
	n1 := startNode(t, stopper, "cluster-a", 1, base)
	n2 := startNode(t, stopper, "cluster-a", 2, base)
	stranger := startNode(t, stopper, "cluster-b", 1, base)

	if err := batch(t, n1, n2, 2); err != nil {
		t.Fatalf("a call within the cluster failed: %v", err)
	}
	err := batch(t, stranger, n2, 2)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "cluster ID mismatch") {
		t.Fatalf("a call from another cluster: %v", err)
	}
	err = batch(t, n1, n2, 3)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "meant for node 3") {
		t.Fatalf("a call meant for another node: %v", err)
	}
}

// TestClockBeyondMaxOffsetRefusesToServe: of three nodes, n3's clock is a
// second ahead. Heartbeats measure it; n3 finds itself beyond the maximum
// offset from both others and refuses calls, while n1 and n2, each off from
// only one of two peers, keep serving.
func TestClockBeyondMaxOffsetRefusesToServe(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	const base = 1_000_000_000_000
	n1 := startNode(t, stopper, "c", 1, base)
	n2 := startNode(t, stopper, "c", 2, base)
	n3 := startNode(t, stopper, "c", 3, base+int64(time.Second))
	nodes := []*testNode{n1, n2, n3}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, from := range nodes {
		for j, to := range nodes {
			if i == j {
				continue
			}
			conn, err := from.ctx.Dial(to.addr, int32(j+1))
			if err != nil {
				t.Fatal(err)
			}
			if err := conn.WaitHealthy(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	err := n3.ctx.RemoteClocks.VerifyHealthy()
	if !errors.Is(err, ErrClockOffset) {
		t.Fatalf("n3 should find its clock beyond the max offset: %v", err)
	}
	if o := n3.ctx.RemoteClocks.Offsets()[1]; o.Offset > -900*time.Millisecond {
		t.Fatalf("n3's measured offset to n1: %+v", o)
	}
	for _, n := range []*testNode{n1, n2} {
		if err := n.ctx.RemoteClocks.VerifyHealthy(); err != nil {
			t.Fatalf("node %d: %v", n.ctx.NodeID(), err)
		}
	}
	err = batch(t, n1, n3, 3)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "refuses to serve") {
		t.Fatalf("n3 served a call with a bad clock: %v", err)
	}
	if err := batch(t, n3, n1, 1); err != nil {
		t.Fatalf("n1 should serve: %v", err)
	}
}

func TestPingRefusesDifferentMaxOffset(t *testing.T) {
	stopper := stop.NewStopper()
	defer stopper.Stop()
	n1 := startNode(t, stopper, "c", 1, 1e12)
	h := &heartbeatServer{c: n1.ctx}
	_, err := h.Ping(context.Background(), &rangepb.PingRequest{
		ClusterId: []byte("c"), OriginNodeId: 2, OriginMaxOffsetNanos: int64(time.Second),
	})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "max offset") {
		t.Fatalf("ping with another max offset: %v", err)
	}
}
