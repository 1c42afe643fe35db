// Package server assembles one Meridian node: its store (a Pebble engine
// holding replicas), the gRPC server other nodes, joining nodes and the
// operator's commands call, the Raft transport to its peers, node liveness,
// the node directory by which it finds its peers, the replicate queue, and
// (when asked) the PostgreSQL server whose SQL runs in the cluster's
// transactions and the HTTP server for health checks and metrics, started
// and stopped in order under one stopper.
//
// A node starts in one of three ways (see Start): its store already
// belongs to a cluster (a restart: it finds its peers through its join
// addresses and the descriptors stored in the cluster); its store is new
// and it bootstraps a new cluster (Config.Bootstrap, or `meridian init`
// sent to it while it waits); or its store is new and it joins through one
// of its join addresses, which allocates it a node ID in the cluster's KV
// store. Files: node.go (start and stop), config.go, ident.go (the store's
// identity), directory.go (node descriptors, address resolution),
// admin.go (the Admin service: init, join, node status, drain,
// decommission), replicate_queue.go (applies allocator.go's decisions
// to the ranges the node leads), store_pool.go (what the allocator knows
// of the stores), zones.go (the zone configurations and cluster settings
// as the node applies them), drain.go, http.go, metrics.go.
package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/rpc/storerpc"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/advisory"
	"github.com/meridiandb/meridian/sql/lease"
	"github.com/meridiandb/meridian/sql/mon"
	"github.com/meridiandb/meridian/sql/notify"
	"github.com/meridiandb/meridian/sql/txnkv"
	"github.com/meridiandb/meridian/stop"
	"github.com/meridiandb/meridian/txn"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// BuildVersion is the version nodes report in their descriptors.
var BuildVersion = "v0.1.0-dev"

// The ranges a new cluster starts with: the meta and system keys below
// the liveness records, the liveness records (a range of their own, with
// expiration-based leases: the epoch-based leases of every other range
// rest on them), and everything above (tables).
const (
	metaRangeID     kvserver.RangeID = 1
	LivenessRangeID kvserver.RangeID = 2
	userRangeID     kvserver.RangeID = 3
)

func bootstrapDescs(node kvserver.NodeID) []*rangepb.RangeDescriptor {
	livStart, livEnd := liveness.Span()
	desc := func(id kvserver.RangeID, start, end []byte) *rangepb.RangeDescriptor {
		return &rangepb.RangeDescriptor{
			RangeId: int64(id), StartKey: start, EndKey: end, NextReplicaId: 2,
			Replicas: []*rangepb.ReplicaDescriptor{{NodeId: int32(node), StoreId: int32(node), ReplicaId: 1}},
		}
	}
	return []*rangepb.RangeDescriptor{
		desc(metaRangeID, kv.KeyMin, livStart),
		desc(LivenessRangeID, livStart, livEnd),
		desc(userRangeID, livEnd, kv.KeyMax),
	}
}

// Node is a running node.
type Node struct {
	cfg     Config
	stopper *stop.Stopper
	rpcCtx  *rpc.Context
	dir     *directory
	// local serves the Internal service from the store once it runs.
	local lateStore
	// internal is the Internal service (KV batches, Raft messages,
	// snapshots) on the node's gRPC server, also called in process.
	internal *storerpc.InternalServer

	// Set once the node has an identity and its store runs.
	clusterID []byte
	nodeID    kvserver.NodeID
	desc      *serverpb.NodeDescriptor
	engine    kv.Engine
	store     *kvserver.Store
	transport *storerpc.RaftTransport
	liveness  *liveness.NodeLiveness
	// dist routes the node's own KV requests (transactions, pushes and
	// intent resolution, SQL) to the ranges that hold their keys.
	dist *kvclient.DistSender
	// ranges sends to a range by ID (admin requests, liveness).
	ranges *kvclient.Sender
	db     *txn.DB
	sqlSrv atomic.Pointer[pgwire.Server]
	// sqlExec is the node's SQL executor, once SQL is served (its
	// sessions answer the Admin service's ListSessions).
	sqlExec atomic.Pointer[sql.Executor]
	// leases are the node's table descriptor leases (nil without SQL).
	leases atomic.Pointer[lease.Manager]
	// metrics is the node's Prometheus registry and collectors.
	metrics *metrics
	// sqlMem is the node's SQL memory budget (Config.MaxSQLMemory).
	sqlMem *mon.BytesMonitor
	// zoneCache holds the zone configurations the replicate queue
	// applies; rebalancing switches its count-balancing moves.
	zoneCache   zoneCache
	rebalancing atomic.Bool
	// loadBasedLeases: rebalancing balances leases by load (the cluster
	// setting kv.allocator.load_based_lease_rebalancing.enabled).
	loadBasedLeases atomic.Bool
	// loadBasedReplicas: it moves replicas by load too (the cluster
	// setting kv.allocator.load_based_replica_rebalancing.enabled; only
	// with loadBasedLeases, which the lease follows by).
	loadBasedReplicas atomic.Bool
	// lastLoadMove is when the replicate queue last moved a lease or a
	// replica by load (its loop's own).
	lastLoadMove time.Time
	// timeUntilStoreDead is Config.TimeUntilStoreDead, or the cluster
	// setting server.time_until_store_dead, in nanoseconds.
	timeUntilStoreDead atomic.Int64
	// baseQueues are the split and merge queues' settings before the
	// cluster settings change them.
	baseQueues kvserver.QueueSettings

	// started is closed once the store runs and the node serves; ready is
	// set once its descriptor is published (and cleared by a drain).
	started  chan struct{}
	ready    atomic.Bool
	draining atomic.Bool

	// pendingInit is the Init call this node bootstraps for, answered
	// once the new cluster serves.
	pendingInit chan error
	initMu      struct {
		sync.Mutex
		// phase: waiting for init or a join, or decided.
		decided bool
		// requests carries an Init call to the waiting node; the channel
		// sent is answered once the new cluster serves.
		requests chan chan error
	}
	stopOnce sync.Once
}

// Start starts a node on cfg. A node whose store is new waits here until
// it has joined a cluster or bootstrapped one (see the package comment);
// Start returns once the node serves.
func Start(cfg Config) (*Node, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, stopper: stop.NewStopper(), dir: newDirectory(), started: make(chan struct{}),
		sqlMem: mon.NewMonitor("--max-sql-memory", cfg.MaxSQLMemory)}
	n.initMu.requests = make(chan chan error, 1)
	n.rebalancing.Store(!cfg.DisableRebalancing)
	n.loadBasedLeases.Store(true)
	n.loadBasedReplicas.Store(true)
	n.timeUntilStoreDead.Store(int64(cfg.TimeUntilStoreDead))
	var ident *serverpb.StoreIdent
	empty, err := storeIsEmpty(cfg.StoreDir)
	if err != nil {
		return nil, err
	}
	if !empty {
		if err := n.openEngine(); err != nil {
			return nil, err
		}
		if ident, err = readIdent(n.engine); err != nil {
			n.Stop()
			return nil, err
		}
	}
	rpcOpts := rpc.Options{Clock: cfg.Clock, HeartbeatInterval: time.Second, ServerTLS: cfg.RPCServerTLS, ClientTLS: cfg.RPCClientTLS}
	if ident != nil {
		rpcOpts.ClusterID, rpcOpts.NodeID = ident.ClusterId, ident.NodeId
	}
	n.rpcCtx = rpc.NewContext(n.stopper, rpcOpts)
	n.metrics = newMetrics(n)
	s := n.rpcCtx.NewServer()
	n.internal = storerpc.NewInternalServer(&n.local)
	n.internal.Register(s)
	serverpb.RegisterAdminServer(s, &adminServer{n: n})
	if err := rpc.Serve(n.stopper, s, cfg.Listener); err != nil {
		n.Stop()
		return nil, err
	}
	if cfg.HTTPListener != nil {
		if err := n.serveHTTP(cfg.HTTPListener); err != nil {
			n.Stop()
			return nil, err
		}
	}
	bootstrap := false
	if ident == nil {
		if ident, bootstrap, err = n.joinOrBootstrap(); err != nil {
			n.Stop()
			return nil, err
		}
		if n.engine == nil {
			if err := n.openEngine(); err != nil {
				n.Stop()
				return nil, err
			}
		}
		if err := writeIdent(n.engine, ident); err != nil {
			n.Stop()
			return nil, err
		}
		if bootstrap {
			if err := kvserver.BootstrapRanges(n.engine, bootstrapDescs(kvserver.NodeID(ident.NodeId))...); err != nil {
				n.Stop()
				return nil, errors.Wrap(err, "bootstrapping the first ranges")
			}
		}
		if err := n.rpcCtx.SetIdentity(ident.ClusterId, ident.NodeId); err != nil {
			n.Stop()
			return nil, err
		}
	} else {
		n.decide()
		if err := n.checkRejoin(ident); err != nil {
			n.Stop()
			return nil, err
		}
	}
	err = n.startStore(ident, bootstrap)
	if n.pendingInit != nil {
		n.pendingInit <- err
	}
	if err != nil {
		n.Stop()
		return nil, err
	}
	return n, nil
}

func (n *Node) openEngine() error {
	eng, err := kv.Open(n.cfg.StoreDir, kv.Options{CacheSize: n.cfg.CacheSize, Logger: kv.QuietLogger{}})
	if err != nil {
		return errors.Wrapf(err, "opening the store in %s", n.cfg.StoreDir)
	}
	n.engine = eng
	return nil
}

// descriptor returns this node's descriptor for this start.
func (n *Node) descriptor(id kvserver.NodeID) *serverpb.NodeDescriptor {
	d := &serverpb.NodeDescriptor{
		NodeId: int32(id), StoreId: int32(id), Address: n.cfg.AdvertiseAddr,
		Locality: n.cfg.Locality, BuildVersion: BuildVersion, StartedAt: n.cfg.Clock.PhysicalNow(),
	}
	if n.cfg.SQLListener != nil {
		d.SqlAddress = reachableAddr(n.cfg.SQLListener.Addr())
	}
	if n.cfg.HTTPListener != nil {
		d.HttpAddress = reachableAddr(n.cfg.HTTPListener.Addr())
	}
	return d
}

// startStore starts the store and everything that serves from it, once
// the node knows its identity.
func (n *Node) startStore(ident *serverpb.StoreIdent, bootstrap bool) error {
	cfg := n.cfg
	n.clusterID, n.nodeID = ident.ClusterId, kvserver.NodeID(ident.NodeId)
	if err := startClockBound(cfg.StoreDir, cfg.Clock, n.stopper); err != nil {
		return err
	}
	n.desc = n.descriptor(n.nodeID)
	n.dir.update(n.desc)
	n.transport = storerpc.NewRaftTransport(n.rpcCtx, n.stopper, n.dir.resolve, storerpc.RaftTransportOptions{})
	n.ranges = kvclient.NewDynamicSender(n.rpcCtx, n.dir.resolve, n.dir.nodeIDs)
	// The node's own requests to its own store skip gRPC.
	n.ranges.SetLocal(n.nodeID, rpc.NewLocalServer(n.rpcCtx, n.internal))
	n.dist = kvclient.NewDistSender(n.ranges)
	lc := cfg.Liveness
	lc.NodeID, lc.Clock, lc.Sender, lc.RangeID = n.nodeID, cfg.Clock, n.ranges, LivenessRangeID
	nl, err := liveness.New(lc)
	if err != nil {
		return err
	}
	n.liveness = nl
	sc := cfg.Store
	sc.NodeID, sc.ClusterID, sc.Clock, sc.Transport = n.nodeID, n.clusterID, cfg.Clock, n.transport
	sc.MetaSender, sc.TxnSender = n.ranges, n.dist
	sc.NodeLiveness = nl
	sc.SpanConfigs = nodeSpanConfigs{n}
	if sc.Queues == nil {
		// Ranges split when they grow past their zone's range_max_bytes.
		// Load-based splits and merges are off until the cluster settings
		// kv.range_split.by_load_enabled and kv.range_merge.queue.enabled
		// turn them on (applyClusterSettings). Old versions are collected
		// once older than their zone's gc.ttlseconds.
		sc.Queues = &kvserver.QueueSettings{EnableSplits: true, LoadSplitQPS: -1, EnableGC: true}
	}
	n.baseQueues = *sc.Queues
	sc.ExpirationLeaseRanges = append(append([]kvserver.RangeID{}, sc.ExpirationLeaseRanges...), LivenessRangeID)
	n.store = kvserver.NewStore(sc, n.engine, n.stopper)
	if err := n.store.Start(); err != nil {
		return errors.Wrap(err, "starting the store")
	}
	n.local.store.Store(n.store)
	n.db = txn.NewDB(n.dist, cfg.Clock, n.stopper, txn.Options{})
	if err := nl.Start(n.stopper); err != nil {
		return err
	}
	if cfg.SQLListener != nil {
		clock := cfg.Clock
		ex := sql.NewExecutor(txnkv.NewDB(n.db), func() time.Time { return time.Unix(0, clock.Now().WallTime).UTC() })
		leases := lease.NewManager(lease.Config{DB: txnkv.NewDB(n.db), NodeID: int32(n.nodeID), Clock: clock, Revoke: n.revokeLeasesOn,
			Duration: cfg.DescriptorLeaseDuration})
		n.leases.Store(leases)
		ex.UseLeases(leases)
		ex.UseMemoryMonitor(n.sqlMem)
		tempDir, err := sqlTempDir(cfg.StoreDir)
		if err != nil {
			return err
		}
		ex.UseTempStorage(tempDir)
		ex.UseClusterAdmin(sqlAdmin{n})
		ex.UseAdvisoryLocks(advisory.NewManager(txnkv.NewDB(n.db), advisoryLiveness{nl, clock}), int32(n.nodeID), selfEpoch(nl))
		hub := notify.NewHub(notifySource{db: n.db, clock: clock})
		if err := n.stopper.RunAsyncTask("notify-hub", hub.Run); err != nil {
			return err
		}
		ex.UseNotifications(hub)
		ex.UseClusterSessions(clusterSessions{n})
		if err := ex.StartAutoStats(n.stopper, cfg.AutoStatsAsOf); err != nil {
			return err
		}
		n.sqlExec.Store(ex)
		if err := n.stopper.RunAsyncTask("temp-schema-cleanup", n.tempSchemaCleanupLoop); err != nil {
			return err
		}
		var auth pgwire.Authenticator
		if cfg.SQLAuthenticate {
			auth = sql.NewRoleAuthenticator(txnkv.NewDB(n.db))
		}
		srv, err := pgwire.NewServer(pgwire.Config{Executor: ex, Auth: auth, TLS: cfg.SQLTLS, RequireTLS: cfg.SQLRequireTLS, Observer: n.metrics,
			NodeID: int32(n.nodeID), ForwardCancel: n.forwardCancel}, n.stopper)
		if err == nil {
			err = srv.Serve(cfg.SQLListener)
		}
		if err != nil {
			return errors.Wrap(err, "starting the SQL server")
		}
		n.sqlSrv.Store(srv)
	}
	close(n.started)
	if err := n.stopper.RunAsyncTask("announce", func(ctx context.Context) { n.announce(ctx, bootstrap) }); err != nil {
		return err
	}
	if err := n.stopper.RunAsyncTask("directory-refresh", n.refreshDirectoryLoop); err != nil {
		return err
	}
	return n.stopper.RunAsyncTask("replicate-queue", n.replicateQueueLoop)
}

// announce makes this node known: it tells the nodes it joins through
// (which answer with the members they know), hands out node ID 1 as used
// when it bootstrapped the cluster, and publishes its descriptor in the
// cluster; then the node is ready.
func (n *Node) announce(ctx context.Context, bootstrap bool) {
	retry := func(what string, fn func(context.Context) error) bool {
		backoff := 50 * time.Millisecond
		for {
			actx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := fn(actx)
			cancel()
			if err == nil {
				return true
			}
			if ctx.Err() != nil {
				return false
			}
			n.cfg.Logger.Warn(what+" failed; retrying", "node", n.nodeID, "err", err.Error())
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}
	if !bootstrap && len(n.cfg.Join) > 0 {
		// Find the peers: a restarted node knows none until someone answers.
		if n.stopper.RunAsyncTask("rejoin", func(ctx context.Context) {
			retry("finding peers through the join addresses", n.rejoin)
		}) != nil {
			return
		}
	}
	if bootstrap {
		if !retry("allocating node ID 1", func(ctx context.Context) error {
			return n.db.Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
				id, err := t.Inc(ctx, kv.NodeIDGeneratorKey, 1)
				if err == nil && id != int64(n.nodeID) {
					err = errors.AssertionFailedf("a new cluster's node ID generator gave %d, want %d", id, n.nodeID)
				}
				return err
			})
		}) {
			return
		}
	}
	if retry("publishing the node descriptor", n.publishDescriptor) {
		n.ready.Store(!n.draining.Load())
		n.decide()
	}
}

// publishDescriptor writes this node's descriptor into the cluster,
// keeping the membership stored there (a decommissioning node that
// restarts is still decommissioning).
func (n *Node) publishDescriptor(ctx context.Context) error {
	desc := proto.Clone(n.desc).(*serverpb.NodeDescriptor)
	err := n.db.Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
		raw, found, err := t.Get(ctx, NodeDescKey(n.nodeID))
		if err != nil {
			return err
		}
		if found {
			prev := &serverpb.NodeDescriptor{}
			if err := proto.Unmarshal(raw, prev); err != nil {
				return errors.Wrap(err, "decoding this node's stored descriptor")
			}
			desc.Membership = prev.Membership
		}
		if raw, err = marshal(desc); err != nil {
			return err
		}
		return t.Put(ctx, NodeDescKey(n.nodeID), raw)
	})
	if err == nil {
		n.dir.update(desc)
	}
	return err
}

// checkRejoin asks each join address once, briefly, whether this
// restarted node belongs to its cluster: a store of another cluster must
// not start. Addresses that do not answer are asked again later (see
// rejoin): after a whole cluster stopped, nodes come back in any order.
func (n *Node) checkRejoin(ident *serverpb.StoreIdent) error {
	for _, addr := range n.cfg.Join {
		if addr == n.cfg.AdvertiseAddr {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := callJoin(ctx, addr, n.cfg.RPCClientTLS, &serverpb.JoinRequest{ClusterId: ident.ClusterId, Node: n.descriptor(kvserver.NodeID(ident.NodeId)), BuildVersion: BuildVersion})
		cancel()
		if status.Code(err) == codeWrongCluster {
			return errors.Wrapf(err, "joining through %s", addr)
		}
		if err == nil {
			for _, d := range resp.Nodes {
				n.dir.update(d)
			}
		}
	}
	return nil
}

// rejoin asks the join addresses, until one answers, for the members they
// know, announcing this node's new descriptor to them.
func (n *Node) rejoin(ctx context.Context) error {
	var errs error
	for _, addr := range n.cfg.Join {
		if addr == n.cfg.AdvertiseAddr {
			continue
		}
		resp, err := callJoin(ctx, addr, n.cfg.RPCClientTLS, &serverpb.JoinRequest{ClusterId: n.clusterID, Node: n.desc, BuildVersion: BuildVersion})
		if err != nil {
			errs = errors.CombineErrors(errs, errors.Wrapf(err, "join address %s", addr))
			continue
		}
		for _, d := range resp.Nodes {
			n.dir.update(d)
		}
		return nil
	}
	if errs == nil {
		return nil // no other address to ask
	}
	return errs
}

// refreshDirectoryLoop re-reads the node descriptors periodically, and
// soon after a lookup missed.
func (n *Node) refreshDirectoryLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.DirectoryRefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.dir.missed:
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = n.dir.refresh(actx, dbScanner{n.db})
		cancel()
	}
}

// dbScanner reads the latest committed values of a span in a read-only
// transaction.
type dbScanner struct{ db *txn.DB }

func (s dbScanner) scan(ctx context.Context, start, end []byte) ([][]byte, error) {
	var out [][]byte
	err := s.db.Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
		kvs, err := t.Scan(ctx, start, end, 0)
		out = out[:0]
		for _, kv := range kvs {
			out = append(out, kv.Value)
		}
		return err
	})
	return out, err
}

// lateStore is the store the Internal service serves from, which exists
// only once the node has an identity; until then calls fail as they would
// on a node that is not up.
type lateStore struct {
	store atomic.Pointer[kvserver.Store]
}

var _ storerpc.Node = (*lateStore)(nil)

func (l *lateStore) get() (*kvserver.Store, error) {
	if s := l.store.Load(); s != nil {
		return s, nil
	}
	return nil, &kvserver.NodeUnavailableError{}
}

func (l *lateStore) HandleRaftBatch(ctx context.Context, b *rangepb.RaftMessageBatch) error {
	s, err := l.get()
	if err != nil {
		return err
	}
	return s.HandleRaftBatch(ctx, b)
}

func (l *lateStore) HandleSnapshot(ctx context.Context, snap *kvserver.Snapshot) error {
	s, err := l.get()
	if err != nil {
		return err
	}
	return s.HandleSnapshot(ctx, snap)
}

func (l *lateStore) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	s, err := l.get()
	if err != nil {
		return nil, err
	}
	return s.Send(ctx, ba)
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

// HTTPAddr returns the address of the node's HTTP server ("" if none).
func (n *Node) HTTPAddr() string {
	if n.cfg.HTTPListener == nil {
		return ""
	}
	return n.cfg.HTTPListener.Addr().String()
}

// Stop stops every task of the node, then closes its store. Stopping a
// stopped node does nothing.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.stopper.Stop()
		if n.engine != nil {
			_ = n.engine.Close()
		}
	})
}

// ID returns the node's ID.
func (n *Node) ID() kvserver.NodeID { return n.nodeID }

// ClusterID returns the cluster's ID.
func (n *Node) ClusterID() []byte { return n.clusterID }

// Addr returns the node's gRPC address.
func (n *Node) Addr() string { return n.cfg.AdvertiseAddr }

// Store returns the node's store.
func (n *Node) Store() *kvserver.Store { return n.store }

// Ready reports whether the node serves and has published its descriptor
// (and is not draining).
func (n *Node) Ready() bool { return n.ready.Load() }

// Listen is net.Listen on TCP, wrapped with the address in its error.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	return ln, errors.Wrapf(err, "listening on %s", addr)
}

// adminClient dials node id's Admin service.
func (n *Node) adminClient(id kvserver.NodeID) (serverpb.AdminClient, error) {
	addr, err := n.dir.resolve(id)
	if err != nil {
		return nil, err
	}
	conn, err := n.rpcCtx.Dial(addr, int32(id))
	if err != nil {
		return nil, err
	}
	return serverpb.NewAdminClient(conn.ClientConn), nil
}

// revokeLeasesOn asks node to revoke its leases on table descriptors ids
// (lease.RevokeFunc).
func (n *Node) revokeLeasesOn(ctx context.Context, node int32, ids []uint32, now hlc.Timestamp) (hlc.Timestamp, error) {
	admin, err := n.adminClient(kvserver.NodeID(node))
	if err != nil {
		return hlc.Timestamp{}, err
	}
	resp, err := admin.RevokeDescriptorLeases(ctx, &serverpb.RevokeDescriptorLeasesRequest{
		DescriptorIds: ids, NowWall: now.WallTime, NowLogical: now.Logical})
	if err != nil {
		return hlc.Timestamp{}, err
	}
	return hlc.Timestamp{WallTime: resp.NowWall, Logical: resp.NowLogical}, nil
}

// sqlTempDir makes the directory inside the store where statements spill
// what outgrows --max-sql-memory, empty: the files of statements a crash
// cut short are removed here.
func sqlTempDir(storeDir string) (string, error) {
	dir := filepath.Join(storeDir, "sql-temp")
	if err := os.RemoveAll(dir); err != nil {
		return "", errors.Wrapf(err, "clearing the SQL temporary directory %s", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", errors.Wrapf(err, "creating the SQL temporary directory %s", dir)
	}
	return dir, nil
}
