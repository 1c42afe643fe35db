// Package kvtest runs an in-process cluster of stores for tests: N nodes in
// one process, each with its own Pebble store on disk, connected by a
// MemTransport that can partition, drop, delay, duplicate and reorder
// messages, and sharing a manual physical clock so that tests decide when
// leases expire. Nodes can be killed and restarted on their stores.
package kvtest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
)

// ClusterID is the cluster ID every test cluster uses.
var ClusterID = []byte("meridian-test-cluster")

// Options tune a test cluster. Zero fields take defaults.
type Options struct {
	// Nodes is the number of nodes. Default 3.
	Nodes int
	// Seed seeds the transport's faults.
	Seed uint64
	// StoreConfig is the template for every store (NodeID, ClusterID,
	// Clock and Transport are filled in).
	StoreConfig kvserver.StoreConfig
	// InMemory keeps stores in memory (no restarts possible).
	InMemory bool
	// Engine tunes every store's engine. Default: small caches (8 MiB block
	// cache, 4 MiB memtables) so that many nodes fit in a test.
	Engine kv.Options
	// EpochLeases sets up node liveness: a liveness range (LivenessRangeID,
	// over liveness.Span, replicated on every node, with expiration-based
	// leases), a heartbeat loop on every node, and epoch-based leases for
	// every other range. NewCluster's range 1 then starts after the
	// liveness span.
	EpochLeases bool
	// Liveness is the template of every node's liveness configuration
	// (NodeID, Clock, Sender and RangeID are filled in); with EpochLeases
	// only. TickInterval defaults to 5ms, HeartbeatTimeout to 500ms.
	Liveness liveness.Config
}

// LivenessRangeID is the liveness range of a cluster with EpochLeases.
const LivenessRangeID kvserver.RangeID = 1_000_000

// Cluster is an in-process test cluster.
type Cluster struct {
	t         testing.TB
	opts      Options
	Stopper   *stop.Stopper
	Transport *kvserver.MemTransport
	// Manual is the physical clock every node's HLC reads.
	Manual *hlc.ManualClock
	Nodes  []*Node
	// metaRange: range 1 spans every key, meta2 included, so ranges can
	// split (NewCluster without EpochLeases).
	metaRange bool
}

// Node is one node of a test cluster.
type Node struct {
	ID      kvserver.NodeID
	Dir     string
	Clock   *hlc.Clock
	Engine  kv.Engine
	Store   *kvserver.Store
	Stopper *stop.Stopper
	// Liveness is the node's liveness, with EpochLeases; a new one (a new
	// epoch) after each restart.
	Liveness *liveness.NodeLiveness
	alive    atomic.Bool
}

// Alive reports whether the node is running.
func (n *Node) Alive() bool { return n.alive.Load() }

// NewCluster creates the nodes' stores, bootstraps range 1 (all keys) on
// node 1 alone, and starts every node. It stops the cluster at the end of
// the test.
func NewCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	return newCluster(t, opts, func(c *Cluster) {
		start := kv.KeyMin
		if c.opts.EpochLeases {
			_, start = liveness.Span()
		}
		c.metaRange = !c.opts.EpochLeases
		bootstrapRange(c, &rangepb.RangeDescriptor{
			RangeId: 1, StartKey: start, EndKey: kv.KeyMax, NextReplicaId: 2,
			Replicas: []*rangepb.ReplicaDescriptor{{NodeId: 1, StoreId: 1, ReplicaId: 1}},
		})
	})
}

// NewClusterWithRanges starts a cluster with ranges 2..ranges+1, each over
// its own key prefix (see RangeKey) and replicated on every node from the
// start.
func NewClusterWithRanges(t testing.TB, opts Options, ranges int) *Cluster {
	t.Helper()
	return newCluster(t, opts, func(c *Cluster) {
		for i := range ranges {
			id := int64(i + 2)
			bootstrapRange(c, c.everyNodeDesc(kvserver.RangeID(id), []byte(fmt.Sprintf("r%06d", id)), []byte(fmt.Sprintf("r%06d", id+1))))
		}
	})
}

// everyNodeDesc describes a range over [start, end) with a voter on every
// node.
func (c *Cluster) everyNodeDesc(id kvserver.RangeID, start, end []byte) *rangepb.RangeDescriptor {
	desc := &rangepb.RangeDescriptor{
		RangeId: int64(id), StartKey: start, EndKey: end, NextReplicaId: int32(len(c.Nodes) + 1),
	}
	for _, n := range c.Nodes {
		desc.Replicas = append(desc.Replicas, &rangepb.ReplicaDescriptor{NodeId: int32(n.ID), StoreId: int32(n.ID), ReplicaId: int32(n.ID)})
	}
	return desc
}

func newCluster(t testing.TB, opts Options, bootstrap func(*Cluster)) *Cluster {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.StoreConfig.RaftTickInterval == 0 {
		opts.StoreConfig.RaftTickInterval = 10 * time.Millisecond
	}
	if opts.EpochLeases {
		if opts.Liveness.TickInterval == 0 {
			opts.Liveness.TickInterval = 5 * time.Millisecond
		}
		if opts.Liveness.HeartbeatTimeout == 0 {
			opts.Liveness.HeartbeatTimeout = 500 * time.Millisecond
		}
		opts.StoreConfig.ExpirationLeaseRanges = append(opts.StoreConfig.ExpirationLeaseRanges, LivenessRangeID)
	}
	c := &Cluster{
		t: t, opts: opts, Stopper: stop.NewStopper(),
		Manual: hlc.NewManualClock(1_000_000 * int64(time.Second)),
	}
	c.Transport = kvserver.NewMemTransport(c.Stopper, opts.Seed)
	for i := range opts.Nodes {
		n := &Node{ID: kvserver.NodeID(i + 1), Dir: filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1))}
		n.Clock = hlc.NewClock(c.Manual.UnixNano, 0)
		c.Nodes = append(c.Nodes, n)
	}
	t.Cleanup(c.Stop)
	for _, n := range c.Nodes {
		c.openEngine(n)
	}
	bootstrap(c)
	if opts.EpochLeases {
		start, end := liveness.Span()
		bootstrapRange(c, c.everyNodeDesc(LivenessRangeID, start, end))
	}
	for _, n := range c.Nodes {
		c.startNode(n)
	}
	return c
}

// bootstrapRange writes the initial state of a range on each member's
// store, before the stores start.
func bootstrapRange(c *Cluster, desc *rangepb.RangeDescriptor) {
	for _, rd := range desc.Replicas {
		if err := kvserver.Bootstrap(c.Nodes[rd.NodeId-1].Engine, desc); err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c *Cluster) openEngine(n *Node) {
	c.t.Helper()
	eo := c.opts.Engine
	if eo.CacheSize == 0 {
		eo.CacheSize, eo.MemTableSize = 8<<20, 4<<20
	}
	eo.InMemory, eo.Logger = c.opts.InMemory, kv.QuietLogger{}
	eng, err := kv.Open(n.Dir, eo)
	if err != nil {
		c.t.Fatal(err)
	}
	n.Engine = eng
}

func (c *Cluster) startNode(n *Node) {
	c.t.Helper()
	cfg := c.opts.StoreConfig
	if cfg.TxnWoundAfter == 0 {
		// Test clusters move leases every few milliseconds, so a
		// deadlock's waits are often published at a record whose lease
		// has just moved, and the walks miss it: it ends at the wound. A
		// short wound keeps the contended tests (TestBank) quick on a
		// loaded machine.
		cfg.TxnWoundAfter = 50 * time.Millisecond
	}
	cfg.NodeID, cfg.ClusterID, cfg.Clock = n.ID, ClusterID, n.Clock
	cfg.Transport = c.Transport.For(n.ID)
	n.Stopper = stop.NewStopper()
	n.Liveness = nil
	if c.opts.EpochLeases {
		lc := c.opts.Liveness
		lc.NodeID, lc.Clock, lc.RangeID = n.ID, n.Clock, LivenessRangeID
		lc.Sender = nodeSender{c: c, from: n.ID}
		nl, err := liveness.New(lc)
		if err != nil {
			c.t.Fatal(err)
		}
		n.Liveness = nl
		cfg.NodeLiveness = nl
	}
	if c.metaRange {
		// Range 1 holds meta2 and the range ID generator: splits of
		// other ranges reach it from this node.
		cfg.MetaSender = nodeSender{c: c, from: n.ID}
	}
	if cfg.TxnSender == nil {
		// Pushes and intent resolution reach other ranges from this node.
		cfg.TxnSender = &KeySender{c: c, from: n.ID}
	}
	n.Store = kvserver.NewStore(cfg, n.Engine, n.Stopper)
	if err := n.Store.Start(); err != nil {
		c.t.Fatal(err)
	}
	if err := c.Transport.Listen(n.ID, n.Store); err != nil {
		c.t.Fatal(err)
	}
	n.alive.Store(true)
	if n.Liveness != nil {
		if err := n.Liveness.Start(n.Stopper); err != nil {
			c.t.Fatal(err)
		}
	}
}

// nodeSender sends a node's requests (its liveness heartbeats) to the
// nodes it can reach, so that a partition cuts them off too.
type nodeSender struct {
	c    *Cluster
	from kvserver.NodeID
}

func (s nodeSender) Send(ctx context.Context, id kvserver.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return s.c.send(ctx, s.from, id, reqs...)
}

// RangeKey returns a key inside range id of a NewClusterWithRanges cluster.
func RangeKey(id kvserver.RangeID, suffix string) []byte {
	return []byte(fmt.Sprintf("r%06d/%s", id, suffix))
}

// FollowRealTime advances the manual clock as real time passes, every
// millisecond, until the cluster stops: for tests whose timing matters
// across nodes (transactions' heartbeats, GC TTLs).
func (c *Cluster) FollowRealTime() {
	if err := c.Stopper.RunAsyncTask("manual-clock", func(ctx context.Context) {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		last := hlc.PhysicalNow()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now := hlc.PhysicalNow()
			c.Manual.Increment(int64(now.Sub(last)))
			last = now
		}
	}); err != nil {
		c.t.Fatal(err)
	}
}

// Stop stops every node and the transport.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		if n.Alive() {
			c.StopNode(int(n.ID))
		}
	}
	c.Stopper.Stop()
}

// StopNode kills node id: it stops receiving, its tasks stop, its store
// closes. Its data stays on disk for RestartNode.
func (c *Cluster) StopNode(id int) {
	n := c.Nodes[id-1]
	if !n.Alive() {
		return
	}
	n.alive.Store(false)
	c.Transport.Unlisten(n.ID)
	n.Stopper.Stop()
	if err := n.Engine.Close(); err != nil {
		c.t.Errorf("closing n%d: %v", id, err)
	}
}

// RestartNode reopens node id's store and starts it again.
func (c *Cluster) RestartNode(id int) {
	c.t.Helper()
	n := c.Nodes[id-1]
	if n.Alive() {
		c.t.Fatalf("n%d is running", id)
	}
	c.openEngine(n)
	c.startNode(n)
}

// Send sends a batch to range id, finding its leaseholder: it follows
// NotLeaseHolder hints and tries every live node, retrying until ctx ends.
// Other errors are returned as they are.
func (c *Cluster) Send(ctx context.Context, id kvserver.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return c.send(ctx, 0, id, reqs...)
}

// send is Send from node from, which reaches only the nodes the transport
// lets it reach (any node when from is 0).
func (c *Cluster) send(ctx context.Context, from kvserver.NodeID, id kvserver.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return c.sendBatch(ctx, from, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: int64(id)}, Requests: reqs})
}

// sendBatch is send of a whole batch (its header's range ID names the
// range; its other header fields, a transaction, go along).
func (c *Cluster) sendBatch(ctx context.Context, from kvserver.NodeID, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	id := kvserver.RangeID(ba.Header.GetRangeId())
	var lastErr error
	prefer := -1
	// notFound counts the attempts in a row in which every node tried
	// answered RangeNotFound: a range merged away is gone everywhere for
	// good, while a new one (split off, or getting a replica) is on some
	// node already or soon.
	notFound := 0
	for attempt := 0; ; attempt++ {
		tried, missing := 0, 0
		order := make([]int, 0, len(c.Nodes)+1)
		if prefer >= 0 {
			order = append(order, prefer)
		}
		for i := range c.Nodes {
			if i != prefer {
				order = append(order, i)
			}
		}
		prefer = -1
		for _, i := range order {
			n := c.Nodes[i]
			if !n.Alive() || (from != 0 && from != n.ID && !c.Transport.Reachable(from, n.ID)) {
				continue
			}
			resp, err := n.Store.Send(ctx, ba)
			if err == nil {
				return resp, nil
			}
			lastErr = err
			tried++
			if errors.HasType(err, (*kvserver.RangeNotFoundError)(nil)) {
				missing++
			}
			var nlhe *kvserver.NotLeaseHolderError
			var rnf *kvserver.RangeNotFoundError
			var unavail *kvserver.NodeUnavailableError
			switch {
			case errors.As(err, &nlhe):
				if h := nlhe.Lease.GetReplica(); h != nil && int(h.NodeId) != int(n.ID) {
					prefer = int(h.NodeId) - 1
				}
			case errors.As(err, &rnf), errors.Is(err, kvserver.ErrReplicaDestroyed), errors.As(err, &unavail):
			default:
				return nil, err
			}
			if prefer >= 0 {
				break
			}
		}
		if ctx.Err() != nil {
			if lastErr == nil {
				lastErr = ctx.Err()
			}
			return nil, errors.Wrapf(lastErr, "r%d: no leaseholder found in time", id)
		}
		if tried > 0 && missing == tried {
			if notFound++; notFound >= 40 {
				return nil, lastErr
			}
		} else {
			notFound = 0
		}
		if prefer < 0 {
			t := time.NewTimer(5 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// Put writes key=value in range id.
func (c *Cluster) Put(ctx context.Context, id kvserver.RangeID, key, value []byte) error {
	_, err := c.Send(ctx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: key, Value: value}}})
	return err
}

// Get reads key in range id; found is false if it has no value.
func (c *Cluster) Get(ctx context.Context, id kvserver.RangeID, key []byte) (value []byte, found bool, err error) {
	resp, err := c.Send(ctx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key}}})
	if err != nil {
		return nil, false, err
	}
	g := resp.Responses[0].GetGet()
	return g.Value, g.Found, nil
}

// ChangeReplicas adds or removes voters of range id.
func (c *Cluster) ChangeReplicas(ctx context.Context, id kvserver.RangeID, changes ...*rangepb.ReplicaChange) (*rangepb.RangeDescriptor, error) {
	resp, err := c.Send(ctx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{
		ChangeReplicas: &rangepb.ChangeReplicasRequest{Changes: changes},
	}})
	if err != nil {
		return nil, err
	}
	return resp.Responses[0].GetChangeReplicas().Desc, nil
}

// AddVoters adds voters for range id on the given nodes.
func (c *Cluster) AddVoters(ctx context.Context, id kvserver.RangeID, nodes ...int) (*rangepb.RangeDescriptor, error) {
	var ch []*rangepb.ReplicaChange
	for _, n := range nodes {
		ch = append(ch, &rangepb.ReplicaChange{Type: rangepb.ChangeType_ADD_VOTER, NodeId: int32(n), StoreId: int32(n)})
	}
	return c.ChangeReplicas(ctx, id, ch...)
}

// RemoveVoters removes the voters of range id on the given nodes.
func (c *Cluster) RemoveVoters(ctx context.Context, id kvserver.RangeID, nodes ...int) (*rangepb.RangeDescriptor, error) {
	var ch []*rangepb.ReplicaChange
	for _, n := range nodes {
		ch = append(ch, &rangepb.ReplicaChange{Type: rangepb.ChangeType_REMOVE_VOTER, NodeId: int32(n), StoreId: int32(n)})
	}
	return c.ChangeReplicas(ctx, id, ch...)
}

// Leaseholder returns the node whose replica of range id holds the lease,
// as the replicas on live nodes know it (0 if none has one).
func (c *Cluster) Leaseholder(id kvserver.RangeID) int {
	var best *rangepb.Lease
	for _, n := range c.Nodes {
		if !n.Alive() {
			continue
		}
		r, err := n.Store.GetReplica(id)
		if err != nil {
			continue
		}
		if l := r.Lease(); l != nil && (best == nil || l.Sequence > best.Sequence) {
			best = l
		}
	}
	if best == nil {
		return 0
	}
	return int(best.Replica.NodeId)
}

// CheckConsistency runs the consistency check of range id: every replica
// hashes its data at one applied index and the leaseholder compares them.
// It returns an error naming the replicas that differ.
func (c *Cluster) CheckConsistency(ctx context.Context, id kvserver.RangeID) error {
	resp, err := c.Send(ctx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ComputeChecksum{ComputeChecksum: &rangepb.ComputeChecksumRequest{}}})
	if err != nil {
		return err
	}
	if n := len(resp.Responses[0].GetComputeChecksum().Checksums); n != len(c.nodeReplicaDesc(id).Replicas) {
		return errors.Newf("r%d: consistency check compared %d replicas of %d", id, n, len(c.nodeReplicaDesc(id).Replicas))
	}
	return nil
}

// nodeReplicaDesc returns the descriptor of range id as the leaseholder
// knows it.
func (c *Cluster) nodeReplicaDesc(id kvserver.RangeID) *rangepb.RangeDescriptor {
	if lh := c.Leaseholder(id); lh != 0 {
		if r := c.nodeReplica(lh, id); r != nil {
			return r.Desc()
		}
	}
	return &rangepb.RangeDescriptor{}
}

func (c *Cluster) nodeReplica(node int, id kvserver.RangeID) *kvserver.Replica {
	r, err := c.Nodes[node-1].Store.GetReplica(id)
	if err != nil {
		return nil
	}
	return r
}
