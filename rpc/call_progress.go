package rpc

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc/stats"
)

// CallProgress records how far one unary call got on the wire, so that a
// caller whose call failed can tell "never reached the node" (safe to send
// elsewhere) from "reached it, answer lost" (the node may have done it).
// gRPC answers both with codes.Unavailable: a refused connection, and a
// connection that broke after the request left.
type CallProgress struct {
	sent, answered atomic.Bool
}

type callProgressKey struct{}

// WithCallProgress returns a context whose calls, made on connections
// dialed with this package's options, report their progress to the
// returned CallProgress.
func WithCallProgress(ctx context.Context) (context.Context, *CallProgress) {
	p := &CallProgress{}
	return context.WithValue(ctx, callProgressKey{}, p), p
}

// MayHaveExecuted reports whether the request's headers were handed to the
// transport and no answer (headers or status) came back from the node:
// the node may have received and executed the call.
func (p *CallProgress) MayHaveExecuted() bool {
	return p.sent.Load() && !p.answered.Load()
}

// progressHandler is the client stats handler that fills CallProgress.
type progressHandler struct{}

var _ stats.Handler = progressHandler{}

func (progressHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (progressHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	p, _ := ctx.Value(callProgressKey{}).(*CallProgress)
	if p == nil {
		return
	}
	switch s.(type) {
	case *stats.OutHeader:
		p.sent.Store(true)
	case *stats.InHeader, *stats.InTrailer:
		// The node answered: a status it sent is its own verdict (a node
		// refuses with Unavailable only before it starts on a request).
		p.answered.Store(true)
	}
}

func (progressHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (progressHandler) HandleConn(context.Context, stats.ConnStats) {}
