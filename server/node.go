// Package server assembles one Meridian node: its store (a Pebble engine
// holding replicas), the gRPC server other nodes and clients call, and the
// Raft transport to its peers, and (when asked) the PostgreSQL server whose
// SQL runs in the cluster's transactions, started and stopped in order
// under one stopper.
package server

import (
	"net"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/stop"
	"github.com/meridiandb/meridian/txn"
)

// Config configures a node. Zero fields take the documented defaults.
type Config struct {
	// NodeID and ClusterID identify the node. Required.
	NodeID    kvserver.NodeID
	ClusterID []byte
	// StoreDir is the store's directory. Required.
	StoreDir string
	// Listener accepts the node's gRPC connections. Required.
	Listener net.Listener
	// Resolve finds other nodes' addresses. Required.
	Resolve rpc.AddressResolver
	// Clock is the node's clock. Default: the machine's clock with the
	// default maximum offset.
	Clock *hlc.Clock
	// Bootstrap writes the cluster's first range (all keys) into the store,
	// with this node as its only replica. Exactly one node of a new cluster
	// does this, once.
	Bootstrap bool
	// Store holds the store's tuning (ticks, lease duration); its identity
	// and wiring fields are filled in.
	Store kvserver.StoreConfig
	// CacheSize is the engine's block cache. Default: kv's default.
	CacheSize int64
	// SQLListener, when set, serves PostgreSQL clients (pgwire) on it,
	// running SQL in the cluster's transactions.
	SQLListener net.Listener
	// SQLAuth checks the passwords of SQL users. Nil: anyone may connect
	// as anyone, for development clusters on loopback only.
	SQLAuth pgwire.Authenticator
	// Nodes are the cluster's nodes, which the node's own KV client tries
	// when it looks for range 1's leaseholder (splits allocate range IDs
	// and update meta2 there). Default: this node alone; NotLeaseHolder
	// hints lead the client on from there.
	Nodes []kvserver.NodeID
}

// Node is a running node.
type Node struct {
	cfg       Config
	stopper   *stop.Stopper
	engine    kv.Engine
	store     *kvserver.Store
	rpcCtx    *rpc.Context
	transport *rpc.RaftTransport
	// dist routes the node's own KV requests (transactions, pushes and
	// intent resolution, SQL) to the ranges that hold their keys.
	dist *kvclient.DistSender
	// ranges sends to a range by ID (admin requests).
	ranges *kvclient.Sender
	db     *txn.DB

	stopOnce sync.Once
}

// Start opens the store and starts serving.
func Start(cfg Config) (*Node, error) {
	if cfg.NodeID == 0 || len(cfg.ClusterID) == 0 || cfg.StoreDir == "" || cfg.Listener == nil || cfg.Resolve == nil {
		return nil, errors.New("server: NodeID, ClusterID, StoreDir, Listener and Resolve are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset)
	}
	eng, err := kv.Open(cfg.StoreDir, kv.Options{CacheSize: cfg.CacheSize, Logger: kv.QuietLogger{}})
	if err != nil {
		return nil, errors.Wrapf(err, "opening the store in %s", cfg.StoreDir)
	}
	if cfg.Bootstrap {
		if err := kvserver.Bootstrap(eng, &rangepb.RangeDescriptor{
			RangeId: 1, StartKey: kv.KeyMin, EndKey: kv.KeyMax, NextReplicaId: 2,
			Replicas: []*rangepb.ReplicaDescriptor{{NodeId: int32(cfg.NodeID), StoreId: int32(cfg.NodeID), ReplicaId: 1}},
		}); err != nil {
			_ = eng.Close()
			return nil, errors.Wrap(err, "bootstrapping the first range")
		}
	}
	n := &Node{cfg: cfg, stopper: stop.NewStopper(), engine: eng}
	if err := startClockBound(cfg.StoreDir, cfg.Clock, n.stopper); err != nil {
		n.Stop()
		return nil, err
	}
	n.rpcCtx = rpc.NewContext(n.stopper, rpc.Options{
		ClusterID: cfg.ClusterID, NodeID: int32(cfg.NodeID), Clock: cfg.Clock, HeartbeatInterval: time.Second,
	})
	n.transport = rpc.NewRaftTransport(n.rpcCtx, n.stopper, cfg.Resolve, rpc.RaftTransportOptions{})
	sc := cfg.Store
	sc.NodeID, sc.ClusterID, sc.Clock, sc.Transport = cfg.NodeID, cfg.ClusterID, cfg.Clock, n.transport
	nodes := cfg.Nodes
	if len(nodes) == 0 {
		nodes = []kvserver.NodeID{cfg.NodeID}
	}
	n.ranges = kvclient.NewSender(n.rpcCtx, cfg.Resolve, nodes)
	sc.MetaSender = n.ranges
	n.dist = kvclient.NewDistSender(n.ranges)
	sc.TxnSender = n.dist
	n.store = kvserver.NewStore(sc, eng, n.stopper)
	internal := rpc.NewInternalServer(n.store)
	// The node's own requests to its own store skip gRPC.
	n.ranges.SetLocal(cfg.NodeID, rpc.NewLocalServer(n.rpcCtx, internal))
	if err := n.store.Start(); err != nil {
		n.Stop()
		return nil, errors.Wrap(err, "starting the store")
	}
	s := n.rpcCtx.NewServer()
	internal.Register(s)
	if err := rpc.Serve(n.stopper, s, cfg.Listener); err != nil {
		n.Stop()
		return nil, err
	}
	n.db = txn.NewDB(n.dist, cfg.Clock, n.stopper, txn.Options{})
	if cfg.SQLListener != nil {
		clock := cfg.Clock
		ex := sql.NewExecutor(sql.NewTxnDB(n.db), func() time.Time { return time.Unix(0, clock.Now().WallTime).UTC() })
		srv, err := pgwire.NewServer(pgwire.Config{Executor: ex, Auth: cfg.SQLAuth}, n.stopper)
		if err == nil {
			err = srv.Serve(cfg.SQLListener)
		}
		if err != nil {
			n.Stop()
			return nil, errors.Wrap(err, "starting the SQL server")
		}
	}
	return n, nil
}

// DB returns the node's transactional KV client.
func (n *Node) DB() *txn.DB { return n.db }

// SQLAddr returns the address PostgreSQL clients connect to ("" if the
// node serves no SQL).
func (n *Node) SQLAddr() string {
	if n.cfg.SQLListener == nil {
		return ""
	}
	return n.cfg.SQLListener.Addr().String()
}

// Stop stops every task of the node, then closes its store. Stopping a
// stopped node does nothing.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.stopper.Stop()
		_ = n.engine.Close()
	})
}

// ID returns the node's ID.
func (n *Node) ID() kvserver.NodeID { return n.cfg.NodeID }

// Addr returns the node's gRPC address.
func (n *Node) Addr() string { return n.cfg.Listener.Addr().String() }

// Store returns the node's store.
func (n *Node) Store() *kvserver.Store { return n.store }
