package rpc

import (
	"bytes"
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type heartbeatServer struct {
	rangepb.UnimplementedHeartbeatServer
	c *Context
}

func registerHeartbeat(s *grpc.Server, c *Context) {
	rangepb.RegisterHeartbeatServer(s, &heartbeatServer{c: c})
}

func (h *heartbeatServer) Ping(ctx context.Context, req *rangepb.PingRequest) (*rangepb.PingResponse, error) {
	id := h.c.identity()
	if id.clusterID == nil || !bytes.Equal(req.ClusterId, id.clusterID) {
		return nil, status.Errorf(codes.FailedPrecondition, "cluster ID mismatch in ping from node %d", req.OriginNodeId)
	}
	if req.OriginMaxOffsetNanos != 0 && req.OriginMaxOffsetNanos != int64(h.c.opts.Clock.MaxOffset()) {
		return nil, status.Errorf(codes.FailedPrecondition,
			"node %d runs with max offset %s, this node with %s: every node must use the same",
			req.OriginNodeId, time.Duration(req.OriginMaxOffsetNanos), h.c.opts.Clock.MaxOffset())
	}
	return &rangepb.PingResponse{
		ClusterId:       id.clusterID,
		NodeId:          id.nodeID,
		ServerWallNanos: h.c.opts.Clock.PhysicalNow(),
	}, nil
}

// heartbeatLoop pings conn's node every interval until ctx ends, recording
// the clock offset of each successful ping.
func (c *Context) heartbeatLoop(ctx context.Context, conn *Conn) {
	client := rangepb.NewHeartbeatClient(conn.ClientConn)
	ticker := time.NewTicker(c.opts.HeartbeatInterval)
	defer ticker.Stop()
	for {
		err := c.ping(ctx, client, conn.target)
		conn.mu.Lock()
		conn.mu.err = err
		if err != nil && conn.mu.failed != nil {
			close(conn.mu.failed)
			conn.mu.failed = nil
		}
		conn.mu.Unlock()
		if err == nil {
			conn.once.Do(func() { close(conn.healthy) })
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (c *Context) ping(ctx context.Context, client rangepb.HeartbeatClient, target int32) error {
	ctx, cancel := context.WithTimeout(ctx, 2*c.opts.HeartbeatInterval)
	defer cancel()
	clock := c.opts.Clock
	sent := clock.PhysicalNow()
	resp, err := client.Ping(ctx, &rangepb.PingRequest{
		ClusterId:            c.ClusterID(),
		OriginNodeId:         c.NodeID(),
		TargetNodeId:         target,
		OriginWallNanos:      sent,
		OriginMaxOffsetNanos: int64(clock.MaxOffset()),
	})
	if err != nil {
		return errors.Wrapf(err, "heartbeat to node %d", target)
	}
	recv := clock.PhysicalNow()
	// The server read its clock somewhere in the round trip; assume the
	// middle and count half the round trip as uncertainty.
	rtt := recv - sent
	c.RemoteClocks.Update(target, Offset{
		Offset:      time.Duration(resp.ServerWallNanos - (sent + rtt/2)),
		Uncertainty: time.Duration(rtt / 2),
		MeasuredAt:  recv,
	})
	return nil
}
