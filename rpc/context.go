// Package rpc is how nodes talk: gRPC connections between nodes, checked on
// every call for the cluster they belong to and the node they are meant
// for; heartbeats that measure clock offsets, so that a node whose clock is
// beyond the maximum offset from the others stops serving; and the gRPC
// implementation of the Raft transport. The services themselves are defined
// in range/rangepb and implemented by the range layer.
package rpc

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"github.com/meridiandb/meridian/range/rangepb"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Metadata keys every call carries.
const (
	mdClusterID = "meridian-cluster-id"
	mdFromNode  = "meridian-from-node"
	mdToNode    = "meridian-to-node"
)

// Options configure a Context. Zero fields take the documented defaults.
type Options struct {
	// ClusterID is the cluster this node belongs to, and NodeID this node.
	// Both may be left empty by a node that has not joined a cluster yet:
	// it serves only the exempt services (see ExemptServicePrefix) until
	// SetIdentity names them.
	ClusterID []byte
	NodeID    int32
	// Clock is this node's clock; its MaxOffset bounds tolerated offsets.
	Clock *hlc.Clock
	// HeartbeatInterval is how often each connection pings. Default 1s.
	HeartbeatInterval time.Duration
	// ServerTLS, when set, makes the server accept only TLS connections
	// (mutual TLS when it asks for client certificates); ClientTLS is what
	// this node dials other nodes with. Nil: plaintext (insecure mode).
	ServerTLS, ClientTLS *tls.Config
}

// ExemptServicePrefix names the gRPC service whose calls are not bound to
// a cluster and node ID: joining and operator commands, which come from
// nodes and tools that know neither yet. With TLS they still need a
// certificate of the cluster's CA.
const ExemptServicePrefix = "/meridian.serverpb.Admin/"

// identity is who this node is, once known.
type identity struct {
	clusterID []byte
	nodeID    int32
}

// Context holds a node's connections to other nodes and the checks every
// call passes. It is safe for concurrent use.
type Context struct {
	opts    Options
	stopper *stop.Stopper
	ident   atomic.Pointer[identity]
	// RemoteClocks tracks the measured offsets to other nodes.
	RemoteClocks *RemoteClockMonitor

	mu struct {
		sync.Mutex
		conns map[connKey]*Conn
	}
}

// NewContext returns a Context whose heartbeat loops run under stopper.
func NewContext(stopper *stop.Stopper, opts Options) *Context {
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = time.Second
	}
	c := &Context{
		opts:         opts,
		stopper:      stopper,
		RemoteClocks: NewRemoteClockMonitor(opts.Clock),
	}
	c.mu.conns = map[connKey]*Conn{}
	if len(opts.ClusterID) > 0 {
		c.ident.Store(&identity{clusterID: opts.ClusterID, nodeID: opts.NodeID})
	}
	stopper.AddCloser(c.closeConns)
	return c
}

// SetIdentity names the cluster and node of a node that has just joined
// (or bootstrapped) one. It may be called once, and only on a Context made
// without them.
func (c *Context) SetIdentity(clusterID []byte, nodeID int32) error {
	if !c.ident.CompareAndSwap(nil, &identity{clusterID: clusterID, nodeID: nodeID}) {
		return errors.New("rpc: the node's identity is already set")
	}
	return nil
}

func (c *Context) identity() identity {
	if id := c.ident.Load(); id != nil {
		return *id
	}
	return identity{}
}

// NodeID returns this node's ID (0 until it is known).
func (c *Context) NodeID() int32 { return c.identity().nodeID }

// ClusterID returns the cluster's ID (nil until it is known).
func (c *Context) ClusterID() []byte { return c.identity().clusterID }

// DialOptions are the options every connection of this node's is made
// with: its transport credentials and message limits. Tools dialing the
// exempt service use them too.
func (c *Context) DialOptions() []grpc.DialOption {
	return ClientDialOptions(c.opts.ClientTLS)
}

// ClientDialOptions are the dial options of a connection made with
// tlsConf (nil: plaintext).
func ClientDialOptions(tlsConf *tls.Config) []grpc.DialOption {
	creds := insecure.NewCredentials()
	if tlsConf != nil {
		creds = credentials.NewTLS(tlsConf)
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// A restarted node should be reachable again within a second, not
		// after gRPC's default backoff of up to two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
		// Responses can be as large as requests (a transaction's record
		// with many lock spans comes back in its EndTxn response).
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
		// Tells a failed call that never left from one whose answer was
		// lost (see CallProgress).
		grpc.WithStatsHandler(progressHandler{}),
	}
}

type connKey struct {
	addr   string
	target int32
}

// Conn is a connection to one node, heartbeated while open.
type Conn struct {
	*grpc.ClientConn
	target int32
	// healthy is closed after the first successful heartbeat.
	healthy chan struct{}
	once    sync.Once
	mu      struct {
		sync.Mutex
		err error
		// failed is closed at the next failed heartbeat (and replaced).
		failed chan struct{}
	}
}

// Failed returns a channel closed when a heartbeat fails after this call:
// the node stopped answering, so requests waiting on it should give up.
func (c *Conn) Failed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.failed == nil {
		c.mu.failed = make(chan struct{})
	}
	return c.mu.failed
}

// Err returns the error of the last heartbeat, nil if it succeeded.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.err
}

// WaitHealthy blocks until the first heartbeat succeeds or ctx ends.
func (c *Conn) WaitHealthy(ctx context.Context) error {
	select {
	case <-c.healthy:
		return nil
	case <-ctx.Done():
		if err := c.Err(); err != nil {
			return err
		}
		return ctx.Err()
	}
}

// Dial returns the (cached) connection to node target at addr and starts
// heartbeating it.
func (c *Context) Dial(addr string, target int32) (*Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := connKey{addr: addr, target: target}
	if conn, ok := c.mu.conns[key]; ok {
		return conn, nil
	}
	cc, err := grpc.NewClient(addr, append(c.DialOptions(),
		grpc.WithUnaryInterceptor(c.clientUnary(target)),
		grpc.WithStreamInterceptor(c.clientStream(target)),
	)...)
	if err != nil {
		return nil, errors.Wrapf(err, "dialing node %d at %s", target, addr)
	}
	conn := &Conn{ClientConn: cc, target: target, healthy: make(chan struct{})}
	if err := c.stopper.RunAsyncTask("rpc-heartbeat", func(ctx context.Context) {
		c.heartbeatLoop(ctx, conn)
	}); err != nil {
		_ = cc.Close()
		return nil, err
	}
	c.mu.conns[key] = conn
	return conn, nil
}

func (c *Context) closeConns() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, conn := range c.mu.conns {
		_ = conn.Close()
		delete(c.mu.conns, key)
	}
}

func (c *Context) outgoing(ctx context.Context, target int32) context.Context {
	id := c.identity()
	return metadata.AppendToOutgoingContext(ctx,
		mdClusterID, hex.EncodeToString(id.clusterID),
		mdFromNode, strconv.Itoa(int(id.nodeID)),
		mdToNode, strconv.Itoa(int(target)))
}

func (c *Context) clientUnary(target int32) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(c.outgoing(ctx, target), method, req, reply, cc, opts...)
	}
}

func (c *Context) clientStream(target int32) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(c.outgoing(ctx, target), desc, cc, method, opts...)
	}
}

// MaxMessageBytes bounds one gRPC message a server accepts. gRPC's default,
// 4 MiB, is smaller than a Raft message carrying one large command; a
// message over the limit breaks its stream, so Raft's retries would be
// refused forever.
const MaxMessageBytes = 256 << 20

// NewServer returns a gRPC server that refuses calls from another cluster or
// meant for another node, and — except heartbeats, which are how a node
// learns its clock is healthy again — calls while this node's clock is
// beyond the maximum offset from most of the cluster. The Heartbeat service
// is registered on it.
func (c *Context) NewServer() *grpc.Server {
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageBytes)}
	if c.opts.ServerTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(c.opts.ServerTLS)))
	}
	s := grpc.NewServer(append(opts,
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := c.checkIncoming(ctx, info.FullMethod); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if err := c.checkIncoming(ss.Context(), info.FullMethod); err != nil {
				return err
			}
			return handler(srv, ss)
		}),
	)...)
	registerHeartbeat(s, c)
	return s
}

const pingMethod = "/meridian.rangepb.Heartbeat/Ping"

func (c *Context) checkIncoming(ctx context.Context, method string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	get := func(k string) string {
		if v := md.Get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if strings.HasPrefix(method, ExemptServicePrefix) {
		return nil
	}
	id := c.identity()
	if id.clusterID == nil {
		return status.Errorf(codes.Unavailable, "this node has not joined a cluster yet (waiting for `meridian init` or a node to join through)")
	}
	want := hex.EncodeToString(id.clusterID)
	if got := get(mdClusterID); got != want {
		if got == "" {
			got = "none"
		}
		return status.Errorf(codes.FailedPrecondition,
			"cluster ID mismatch: node %d belongs to cluster %s, the call came from cluster %s", id.nodeID, want, got)
	}
	if to := get(mdToNode); to != strconv.Itoa(int(id.nodeID)) {
		return status.Errorf(codes.FailedPrecondition,
			"call meant for node %s reached node %d", to, id.nodeID)
	}
	if method != pingMethod {
		if err := c.RemoteClocks.VerifyHealthy(); err != nil {
			return status.Errorf(codes.Unavailable, "node %d refuses to serve: %v", id.nodeID, err)
		}
	}
	return nil
}

// Serve runs s on ln until stopper stops, then stops s, closing its
// connections.
func Serve(stopper *stop.Stopper, s *grpc.Server, ln net.Listener) error {
	if err := stopper.RunAsyncTask("grpc-stop-on-quiesce", func(ctx context.Context) {
		<-ctx.Done()
		s.Stop()
	}); err != nil {
		return err
	}
	return stopper.RunAsyncTask("grpc-serve", func(context.Context) { _ = s.Serve(ln) })
}

// AddressResolver returns the address a node serves RPCs on.
type AddressResolver func(rangepb.NodeID) (string, error)
