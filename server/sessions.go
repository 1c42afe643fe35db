package server

import (
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/vtable"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// clusterSessions is every live node's SQL sessions (sql.ClusterSessions):
// this node's from its executor, the others' over the Admin service.
type clusterSessions struct{ n *Node }

var _ sql.ClusterSessions = clusterSessions{}

// sessionCallTimeout bounds one node's answer: a node that does not
// answer in time is left out of pg_stat_activity.
const sessionCallTimeout = 5 * time.Second

// List implements sql.ClusterSessions: the nodes answer in parallel; one
// that cannot be reached is left out.
func (c clusterSessions) List(ctx context.Context) ([]vtable.Activity, error) {
	n := c.n
	ex := n.sqlExec.Load()
	if ex == nil {
		return nil, nil
	}
	out := ex.LocalSessions()
	now := n.cfg.Clock.Now()
	var others []kvserver.NodeID
	for _, id := range n.dir.nodeIDs() {
		if id != n.nodeID && n.liveness.IsLive(id, now) {
			others = append(others, id)
		}
	}
	answers := make([][]vtable.Activity, len(others))
	done := make(chan struct{}, len(others))
	for i, id := range others {
		if err := n.stopper.RunAsyncTask("list-sessions", func(ctx context.Context) {
			defer func() { done <- struct{}{} }()
			answers[i] = c.listOn(ctx, id)
		}); err != nil {
			done <- struct{}{}
		}
	}
	for range others {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	for _, a := range answers {
		out = append(out, a...)
	}
	return out, nil
}

func (c clusterSessions) listOn(ctx context.Context, id kvserver.NodeID) []vtable.Activity {
	ctx, cancel := context.WithTimeout(ctx, sessionCallTimeout)
	defer cancel()
	admin, err := c.n.adminClient(id)
	if err != nil {
		return nil
	}
	resp, err := admin.ListSessions(ctx, &serverpb.ListSessionsRequest{})
	if err != nil {
		return nil
	}
	out := make([]vtable.Activity, len(resp.Sessions))
	for i, s := range resp.Sessions {
		out[i] = vtable.Activity{PID: s.Pid, User: s.User, Database: s.Database, ApplicationName: s.ApplicationName,
			ClientAddr: s.ClientAddr, ClientPort: s.ClientPort, BackendStart: fromNanos(s.BackendStart),
			XactStart: fromNanos(s.XactStart), QueryStart: fromNanos(s.QueryStart), Changed: fromNanos(s.StateChange),
			State: s.State, Query: s.Query}
	}
	return out
}

// Signal implements sql.ClusterSessions: the session's node is named by
// its process ID (pgwire.NodeOfPID); one that names none is looked for
// on every live node.
func (c clusterSessions) Signal(ctx context.Context, pid uint32, terminate bool, requester string, superuser bool) (bool, string, error) {
	n := c.n
	targets := n.dir.nodeIDs()
	if id, ok := pgwire.NodeOfPID(pid); ok {
		targets = []kvserver.NodeID{kvserver.NodeID(id)}
	}
	for _, id := range targets {
		if id == n.nodeID {
			if ex := n.sqlExec.Load(); ex != nil {
				if found, denied := ex.SignalLocal(pid, terminate, requester, superuser); found {
					return true, denied, nil
				}
			}
			continue
		}
		admin, err := n.adminClient(id)
		if err != nil {
			continue // a node that cannot be reached has no session to signal
		}
		cctx, cancel := context.WithTimeout(ctx, sessionCallTimeout)
		resp, err := admin.SignalSession(cctx, &serverpb.SignalSessionRequest{Pid: pid, Terminate: terminate,
			Requester: requester, RequesterSuperuser: superuser})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return false, "", errors.Wrapf(err, "signalling process %d on n%d", pid, id)
			}
			continue
		}
		if resp.Found {
			return true, resp.Denied, nil
		}
	}
	return false, "", nil
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// ListSessions answers this node's SQL sessions (pg_stat_activity on any
// node).
func (a *adminServer) ListSessions(ctx context.Context, req *serverpb.ListSessionsRequest) (*serverpb.ListSessionsResponse, error) {
	ex := a.n.sqlExec.Load()
	if ex == nil {
		return &serverpb.ListSessionsResponse{}, nil
	}
	var out []*serverpb.SessionActivity
	for _, s := range ex.LocalSessions() {
		out = append(out, &serverpb.SessionActivity{Pid: s.PID, User: s.User, Database: s.Database,
			ApplicationName: s.ApplicationName, ClientAddr: s.ClientAddr, ClientPort: s.ClientPort,
			BackendStart: toNanos(s.BackendStart), XactStart: toNanos(s.XactStart), QueryStart: toNanos(s.QueryStart),
			StateChange: toNanos(s.Changed), State: s.State, Query: s.Query, NodeId: int32(a.n.nodeID)})
	}
	return &serverpb.ListSessionsResponse{Sessions: out}, nil
}

// SignalSession cancels or ends one of this node's SQL sessions
// (pg_cancel_backend, pg_terminate_backend on any node).
func (a *adminServer) SignalSession(ctx context.Context, req *serverpb.SignalSessionRequest) (*serverpb.SignalSessionResponse, error) {
	ex := a.n.sqlExec.Load()
	if ex == nil {
		return &serverpb.SignalSessionResponse{}, nil
	}
	if req.ByKey {
		if srv := a.n.sqlSrv.Load(); srv != nil {
			srv.Cancel(req.Pid, req.Secret)
		}
		// What became of it is not told, as for any CancelRequest.
		return &serverpb.SignalSessionResponse{}, nil
	}
	if req.Requester == "" {
		return nil, status.Error(codes.InvalidArgument, "a signal names its requester")
	}
	found, denied := ex.SignalLocal(req.Pid, req.Terminate, req.Requester, req.RequesterSuperuser)
	return &serverpb.SignalSessionResponse{Found: found, Denied: denied}, nil
}

// forwardCancel passes a client's CancelRequest for a session of node on
// to it (pgwire's Config.ForwardCancel), in the background: the client
// waits for no answer.
func (n *Node) forwardCancel(node int32, pid, secret uint32) {
	_ = n.stopper.RunAsyncTask("forward-cancel", func(ctx context.Context) {
		admin, err := n.adminClient(kvserver.NodeID(node))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, sessionCallTimeout)
		defer cancel()
		_, _ = admin.SignalSession(ctx, &serverpb.SignalSessionRequest{Pid: pid, ByKey: true, Secret: secret})
	})
}

// tempSchemaCleanupLoop drops the temporary schemas of sessions that are
// gone (sql's DropOrphanTempSchemas): right away, then every
// TempSchemaCleanupInterval. A schema names its session's process ID,
// and that its node; this node's own are orphans once no session here
// has them, another node's once that node is dead (its liveness expired
// TimeUntilStoreDead ago), never while it may still come back.
func (n *Node) tempSchemaCleanupLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.TempSchemaCleanupInterval)
	defer t.Stop()
	for {
		if ex := n.sqlExec.Load(); ex != nil {
			_, _ = ex.DropOrphanTempSchemas(ctx, func(pid uint32) (local, dead bool) {
				node, ok := pgwire.NodeOfPID(pid)
				switch {
				case !ok:
					// A process ID that names no node (node IDs past
					// 2^11): whose it is cannot be told, so it stays.
					return false, false
				case kvserver.NodeID(node) == n.nodeID:
					return true, false
				}
				return false, n.nodeState(kvserver.NodeID(node), n.cfg.Clock.Now()) == nodeDead
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
