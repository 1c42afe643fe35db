// Package kvserver is the replica side of the range layer: a Store holds the
// replicas of many ranges in one engine, drives their Raft groups with a
// shared scheduler, and serves KV batches through each range's
// leaseholder.
//
// Files: store.go (the store, its replicas, incoming messages),
// scheduler.go (Raft work queue), replica.go (state), replica_raft.go
// (Ready handling, ticks, quiescence), replica_raftstorage.go (raft.Storage
// over the engine), replica_proposal.go, replica_apply.go (deterministic
// apply), replica_lease.go, replica_send.go (evaluation), replica_admin.go
// (replica changes, lease transfers, consistency checks),
// replica_snapshot.go, replica_split.go (splits, the split trigger,
// meta2 records), transport.go and transport_mem.go.
package kvserver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/concurrency"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
	"go.etcd.io/raft/v3/raftpb"
)

// StoreConfig configures a Store. Zero fields take the documented defaults.
type StoreConfig struct {
	// NodeID is this store's node. Required.
	NodeID NodeID
	// ClusterID is checked on every incoming message batch. Required.
	ClusterID []byte
	// Clock is the node's clock. Required.
	Clock *hlc.Clock
	// Transport sends to other stores. Required.
	Transport Transport
	// RaftTickInterval is the real time between Raft ticks. Default 100ms.
	RaftTickInterval time.Duration
	// RaftElectionTicks is the election timeout in ticks. Default 10.
	RaftElectionTicks int
	// RaftHeartbeatTicks is the heartbeat interval in ticks. Default 2.
	RaftHeartbeatTicks int
	// LeaseDuration is the length of an expiration-based lease, in HLC
	// time. Default 6s.
	LeaseDuration time.Duration
	// SchedulerWorkers is the size of the Raft worker pool. Default 8.
	SchedulerWorkers int
	// RaftLogTruncationThreshold is the log length past which the
	// leaseholder truncates it. Default 1000 entries.
	RaftLogTruncationThreshold uint64
	// DisableQuiescence keeps idle ranges ticking and heartbeating, for
	// tests and benchmarks of an active range's steady state.
	DisableQuiescence bool
	// NodeLiveness, when set, makes this store's ranges take epoch-based
	// leases tied to the nodes' liveness records (see replica_lease.go),
	// except the ranges in ExpirationLeaseRanges. Nil (the default): every
	// lease is expiration-based.
	NodeLiveness NodeLiveness
	// ExpirationLeaseRanges keep expiration-based leases even when
	// NodeLiveness is set. The liveness range must be among them: an epoch
	// lease on it would be valid only while the records it serves say so,
	// and no record could be written without a valid lease.
	ExpirationLeaseRanges []RangeID
	// MetaSender reaches range 1, which holds the meta2 records and the
	// range ID generator: splits of other ranges allocate their new range's
	// ID and update meta2 through it (see replica_split.go). Nil: only
	// range 1 can split.
	MetaSender RangeSender
	// TxnSender reaches other ranges for transactions: pushes of the
	// transactions whose intents a request runs into, and resolution of
	// intents. Nil: a request that runs into an intent fails with the
	// kv.LockConflictError (see replica_send_txn.go).
	TxnSender KeySender
	// TxnLivenessThreshold is how long a transaction may go without a
	// heartbeat before a push aborts it. Default
	// DefaultTxnLivenessThreshold.
	TxnLivenessThreshold time.Duration
	// TxnWoundAfter is how long a request waits for a live lock holder of
	// the same priority before the wound-wait order (older first) lets it
	// abort the holder. Below it, waiters queue; the store's deadlock
	// detection breaks the cycles among this store's ranges at once, and
	// the edges published at the records those through other nodes after
	// concurrency.DefaultDeadlockProbeDelay. The wound bounds the waits
	// whose cycle a walk missed (a lease moved meanwhile). Default
	// DefaultTxnWoundAfter.
	TxnWoundAfter time.Duration
	// Queues are the split and merge queues' initial settings (see
	// split_merge_queue.go); Store.SetQueueSettings changes them. Nil:
	// both queues off.
	Queues *QueueSettings
	// SpanConfigs, when set, gives each range its own size bounds (its
	// zone's range_min_bytes and range_max_bytes, over the Queues' ones)
	// and keeps the merge queue from merging ranges of different zones.
	SpanConfigs SpanConfigs
}

// DefaultTxnWoundAfter is StoreConfig.TxnWoundAfter's default: well above
// a lock holder's usual life (a few round trips), well below a client's
// patience.
const DefaultTxnWoundAfter = 250 * time.Millisecond

func (c *StoreConfig) setDefaults() {
	if c.RaftTickInterval == 0 {
		c.RaftTickInterval = 100 * time.Millisecond
	}
	if c.RaftElectionTicks == 0 {
		c.RaftElectionTicks = 10
	}
	if c.RaftHeartbeatTicks == 0 {
		c.RaftHeartbeatTicks = 2
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 6 * time.Second
	}
	if c.SchedulerWorkers == 0 {
		c.SchedulerWorkers = 8
	}
	if c.RaftLogTruncationThreshold == 0 {
		c.RaftLogTruncationThreshold = 1000
	}
	if c.TxnWoundAfter == 0 {
		c.TxnWoundAfter = DefaultTxnWoundAfter
	}
}

// Store is one node's store: an engine holding the replicas of many ranges.
// It is safe for concurrent use.
type Store struct {
	cfg       StoreConfig
	nodeID    NodeID
	engine    kv.Engine
	clock     *hlc.Clock
	transport Transport
	stopper   *stop.Stopper
	scheduler *raftScheduler
	// waitQueue is the txn wait queue of all the replicas' concurrency
	// managers: one wait-for graph for the store's deadlock detection.
	waitQueue *concurrency.TxnWaitQueue
	// publishedWaits are the wait-for graph's edges published at the
	// records of the ranges this store leads (cmd_waits_for.go).
	publishedWaits *concurrency.PublishedWaits

	// Lock order: Replica.raftMu, then Replica.mu, then Store.mu, then
	// Store.activeMu. Never take a replica's lock while holding mu. A
	// replica's proposal buffer lock is a leaf.
	mu struct {
		sync.RWMutex
		replicas map[RangeID]*Replica
	}
	hbMu struct {
		sync.Mutex
		// queued are heartbeats waiting for the next flush, by node.
		queued map[NodeID][]*rangepb.RaftMessage
	}
	// mergeFloor: reads here have local uncertainty limits at or above
	// the last merge's freeze (replica_uncertainty.go).
	mergeFloor mergeFloor
	// snapshotsApplied counts the snapshots this store's replicas applied.
	snapshotsApplied atomic.Int64
	metrics          StoreMetrics
	// meta2UpdatesDisabled stops the follow-up meta2 writes of replica
	// changes and new leaseholders (tests that splits do without them).
	meta2UpdatesDisabled atomic.Bool
	// queueSettings and queueStats are the split and merge queues'.
	queueSettings atomic.Pointer[QueueSettings]
	queueStats    QueueStats
	gcMu          struct {
		sync.Mutex
		stats GCStats
	}
	// mergeHook is a test's (SetMergeHook).
	mergeHook atomic.Pointer[func(RangeID) error]
	activeMu  struct {
		sync.Mutex
		// active are the ranges that need ticks (not quiescent).
		active map[RangeID]struct{}
	}
}

// NewStore returns a store over engine. Call Start to load its replicas.
func NewStore(cfg StoreConfig, engine kv.Engine, stopper *stop.Stopper) *Store {
	cfg.setDefaults()
	s := &Store{
		cfg: cfg, nodeID: cfg.NodeID, engine: engine, clock: cfg.Clock,
		transport: cfg.Transport, stopper: stopper,
		waitQueue: concurrency.NewTxnWaitQueue(), publishedWaits: concurrency.NewPublishedWaits(),
	}
	s.mu.replicas = map[RangeID]*Replica{}
	s.activeMu.active = map[RangeID]struct{}{}
	s.hbMu.queued = map[NodeID][]*rangepb.RaftMessage{}
	s.scheduler = newRaftScheduler(storeSchedHandler{s}, cfg.SchedulerWorkers)
	return s
}

// NodeID returns the store's node.
func (s *Store) NodeID() NodeID { return s.nodeID }

// StoreMetrics count a store's Raft work.
type StoreMetrics struct {
	// RaftProposals counts commands proposed by this store's replicas;
	// RaftApplied counts log entries applied by them; RaftReproposals the
	// commands proposed again because their lease index was used up
	// (each an extra round of consensus).
	RaftProposals, RaftApplied, RaftReproposals atomic.Int64
	// Deadlocks counts the deadlocks the replicas' concurrency managers
	// broke.
	Deadlocks concurrency.DeadlockCounts
}

// Metrics returns the store's counters.
func (s *Store) Metrics() *StoreMetrics { return &s.metrics }

// Engine returns the store's engine.
func (s *Store) Engine() kv.Engine { return s.engine }

// Bootstrap writes the initial state of a range's replica into an engine:
// its descriptor and an empty, applied log. A new cluster's first range is
// bootstrapped on one store; tests bootstrap many ranges with several
// replicas by running it on each member's engine.
func Bootstrap(eng kv.Engine, desc *rangepb.RangeDescriptor) error {
	return BootstrapRanges(eng, desc)
}

// BootstrapRanges writes the initial state of several ranges' replicas into
// an engine in one synced batch: a new cluster's first ranges, which must
// not overlap. The range holding meta2 gets the meta2 record of every one
// of them, and the range ID generator (when it holds it) starts at the
// highest of their IDs.
func BootstrapRanges(eng kv.Engine, descs ...*rangepb.RangeDescriptor) error {
	b := eng.NewBatch()
	defer b.Close()
	var maxID int64
	for _, desc := range descs {
		maxID = max(maxID, desc.RangeId)
	}
	for _, desc := range descs {
		if err := bootstrapRange(b, desc, descs, maxID); err != nil {
			return err
		}
	}
	return b.Commit(true)
}

func bootstrapRange(b kv.Batch, desc *rangepb.RangeDescriptor, all []*rangepb.RangeDescriptor, maxID int64) error {
	id := RangeID(desc.RangeId)
	if err := putProto(b, descKey(id), desc); err != nil {
		return err
	}
	var ms kv.MVCCStats
	if descContains(desc, kv.Meta2Prefix) {
		// The first range holds the meta2 records, its own first, and the
		// range ID generator, which starts at the highest ID bootstrapped.
		// The bootstrap writes are the oldest versions there are.
		ts := hlc.Timestamp{WallTime: 1}
		for _, d := range all {
			if err := putMeta2(b, &ms, ts, d); err != nil {
				return err
			}
		}
		if descContains(desc, kv.RangeIDGeneratorKey) {
			if _, err := kv.MVCCIncrement(b, &ms, kv.RangeIDGeneratorKey, ts, maxID, kv.MVCCWriteOptions{}); err != nil {
				return err
			}
		}
	}
	if err := putProto(b, appliedStateKey(id), &rangepb.RangeAppliedState{
		RaftAppliedIndex: raftInitialIndex, RaftAppliedTerm: raftInitialTerm, Stats: statsToProto(ms),
	}); err != nil {
		return err
	}
	if err := putProto(b, truncatedKey(id), &rangepb.RaftTruncatedState{Index: raftInitialIndex, Term: raftInitialTerm}); err != nil {
		return err
	}
	// The HardState must agree with the log's initial term, or a first
	// election would start below it.
	hs := raftpb.HardState{Term: raftInitialTerm, Commit: raftInitialIndex}
	data, err := hs.Marshal()
	if err != nil {
		return err
	}
	return b.Put(kv.MVCCKey{Key: hardStateKey(id)}, data)
}

// A range starts with a log truncated at this index and term, as if its
// initial state were a snapshot; new replicas receive a real snapshot.
const (
	raftInitialIndex = 10
	raftInitialTerm  = 5
)

// Start loads every replica whose descriptor the engine holds, then starts
// the scheduler and the ticker.
func (s *Store) Start() error {
	it, err := s.engine.NewIterator(kv.IterOptions{LowerBound: kv.LocalRangeIDPrefix, UpperBound: kv.LocalRangePrefix})
	if err != nil {
		return err
	}
	var ids []RangeID
	for it.SeekGE(kv.MVCCKey{Key: kv.LocalRangeIDPrefix}); ; it.Next() {
		ok, err := it.Valid()
		if err != nil {
			it.Close()
			return err
		}
		if !ok {
			break
		}
		if id, ok := descKeyRangeID(it.UnsafeKey().Key); ok {
			ids = append(ids, id)
		}
	}
	it.Close()
	for _, id := range ids {
		r, err := s.loadReplica(id)
		if err != nil {
			return err
		}
		if r != nil {
			r.campaignIfSoleVoter()
		}
	}
	if err := s.scheduler.Start(s.stopper); err != nil {
		return err
	}
	if s.cfg.Queues != nil {
		s.SetQueueSettings(*s.cfg.Queues)
	}
	if err := s.stopper.RunAsyncTask("split-merge-queue", s.queueLoop); err != nil {
		return err
	}
	return s.stopper.RunAsyncTask("store-ticker", s.tickLoop)
}

// loadReplica creates the in-memory replica of a range from the engine.
func (s *Store) loadReplica(id RangeID) (*Replica, error) {
	r := newReplica(s, id)
	r.mu.Lock()
	err := r.loadFromEngineLocked()
	desc := r.mu.desc
	if err == nil && desc != nil && replicaByNode(desc, s.nodeID) == nil {
		r.mu.Unlock()
		// Removed from the range before a restart, while its data was not
		// yet deleted: finish the job.
		return nil, clearReplicaData(s.engine, id, desc, desc.NextReplicaId)
	}
	if err == nil {
		err = r.initRaftGroupLocked()
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.mu.replicas[id] = r
	s.mu.Unlock()
	s.markActive(id)
	if f, _ := r.frozen(); f {
		// Frozen by a merge before the restart: find out how it ended.
		r.ensureMergeWatcher()
	}
	return r, nil
}

// loadFromEngineLocked reads the replica's state from the engine: its
// descriptor (and so its replica ID), applied state, truncated state,
// lease and last log index.
func (r *Replica) loadFromEngineLocked() error {
	eng, id := r.store.engine, r.rangeID
	desc := &rangepb.RangeDescriptor{}
	found, err := loadProto(eng, descKey(id), desc)
	if err != nil {
		return err
	}
	if found {
		r.mu.desc = desc
		if rd := replicaByNode(desc, r.store.nodeID); rd != nil {
			r.mu.replicaID = rd.ReplicaId
		}
	}
	r.mu.state = &rangepb.RangeAppliedState{Stats: &rangepb.MVCCStats{}}
	if _, err := loadProto(eng, appliedStateKey(id), r.mu.state); err != nil {
		return err
	}
	r.mu.truncated = &rangepb.RaftTruncatedState{}
	if _, err := loadProto(eng, truncatedKey(id), r.mu.truncated); err != nil {
		return err
	}
	r.mu.mergeFreeze = nil
	fr := &rangepb.MergeFreeze{}
	if found, err := loadProto(eng, mergeFreezeKey(id), fr); err != nil {
		return err
	} else if found {
		r.mu.mergeFreeze = fr
	}
	lease := &rangepb.Lease{}
	if found, err := loadProto(eng, leaseKey(id), lease); err != nil {
		return err
	} else if found {
		r.mu.lease = lease
	}
	return r.loadLastIndexLocked()
}

func newReplica(s *Store, id RangeID) *Replica {
	r := &Replica{store: s, rangeID: id}
	r.mu.proposals = map[cmdID]*proposal{}
	r.mu.checksums = map[string]replicaChecksum{}
	r.mu.peers = map[int32]*rangepb.ReplicaDescriptor{}
	r.mu.state = &rangepb.RangeAppliedState{Stats: &rangepb.MVCCStats{}}
	r.mu.truncated = &rangepb.RaftTruncatedState{}
	return r
}

// loadLastIndexLocked finds the last log entry (or the truncated state).
func (r *Replica) loadLastIndexLocked() error {
	r.mu.lastIndex, r.mu.lastTerm = r.mu.truncated.Index, r.mu.truncated.Term
	it, err := r.store.engine.NewIterator(kv.IterOptions{
		LowerBound: raftLogPrefix(r.rangeID), UpperBound: raftLogKey(r.rangeID, 1<<63),
	})
	if err != nil {
		return err
	}
	defer it.Close()
	it.SeekLT(kv.MVCCKey{Key: raftLogKey(r.rangeID, 1<<63)})
	ok, err := it.Valid()
	if err != nil || !ok {
		return err
	}
	v, err := it.UnsafeValue()
	if err != nil {
		return err
	}
	ents, err := decodeEntry(v)
	if err != nil {
		return err
	}
	if ents.Index > r.mu.lastIndex {
		r.mu.lastIndex, r.mu.lastTerm = ents.Index, ents.Term
	}
	return nil
}

// GetReplica returns the store's replica of a range.
func (s *Store) GetReplica(id RangeID) (*Replica, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.mu.replicas[id]
	if !ok {
		return nil, &RangeNotFoundError{RangeId: int64(id), NodeId: int32(s.nodeID)}
	}
	return r, nil
}

// Replicas returns the store's replicas.
func (s *Store) Replicas() []*Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Replica, 0, len(s.mu.replicas))
	for _, r := range s.mu.replicas {
		out = append(out, r)
	}
	return out
}

// RangeNotFoundError: the store has no replica of the range.
type RangeNotFoundError = rangepb.RangeNotFoundError

// Send routes a batch to the replica it names. It runs as a stopper task,
// so a stopping store waits for it (and cancels it) before closing.
func (s *Store) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	var resp *rangepb.BatchResponse
	err := s.stopper.RunTask(ctx, "store-send", func(ctx context.Context) error {
		r, err := s.GetReplica(RangeID(ba.Header.GetRangeId()))
		if err != nil {
			return err
		}
		resp, err = r.Send(ctx, ba)
		var rkm *RangeKeyMismatchError
		if errors.As(err, &rkm) && rkm.Ranges == nil {
			rkm.Ranges = s.descsContaining(rkm.Key, r.rangeID)
		}
		return err
	})
	if errors.Is(err, stop.ErrStopping) {
		return nil, &NodeUnavailableError{NodeID: s.nodeID}
	}
	if err != nil && stoppedShort(s.stopper, ba, err) {
		// The request ended because this store is stopping (its context
		// was canceled, a push it made was cut off), not because of what
		// it asked: the client tries another replica instead of failing.
		return nil, &NodeUnavailableError{NodeID: s.nodeID}
	}
	return resp, err
}

// stoppedShort reports whether err, from a batch on a store whose stopper
// is quiescing, may be taken for "the node is going away": any error of a
// batch that only reads (an ambiguous one came from its pushes or lease
// requests, which a retry redoes), and any unambiguous error of one that
// writes (an ambiguous write stays ambiguous: it may have applied).
func stoppedShort(st *stop.Stopper, ba *rangepb.BatchRequest, err error) bool {
	select {
	case <-st.ShouldQuiesce():
	default:
		return false
	}
	var amb *AmbiguousResultError
	if !errors.As(err, &amb) {
		return true
	}
	for _, ru := range ba.Requests {
		if !ru.Flags().Has(rangepb.IsReadOnly) {
			return false
		}
	}
	return true
}

// NodeUnavailableError: the node is shutting down.
type NodeUnavailableError struct{ NodeID NodeID }

func (e *NodeUnavailableError) Error() string {
	return errors.Newf("node %d is stopping", e.NodeID).Error()
}

func (s *Store) newBatchHeader(to NodeID) *rangepb.RaftMessageBatch {
	return &rangepb.RaftMessageBatch{ClusterId: s.cfg.ClusterID, FromNodeId: int32(s.nodeID), ToNodeId: int32(to)}
}

// HandleRaftBatch queues incoming Raft messages for their replicas,
// creating a replica (uninitialized, waiting for a snapshot) for a range
// this store has not seen. A batch from another cluster is refused whole.
func (s *Store) HandleRaftBatch(ctx context.Context, b *rangepb.RaftMessageBatch) error {
	return s.stopper.RunTask(ctx, "store-raft-batch", func(ctx context.Context) error {
		return s.handleRaftBatch(ctx, b)
	})
}

func (s *Store) handleRaftBatch(ctx context.Context, b *rangepb.RaftMessageBatch) error {
	if string(b.ClusterId) != string(s.cfg.ClusterID) {
		return errors.Newf("node %d refuses raft messages from node %d: cluster ID mismatch", s.nodeID, b.FromNodeId)
	}
	if NodeID(b.ToNodeId) != s.nodeID {
		return errors.Newf("raft messages for node %d reached node %d", b.ToNodeId, s.nodeID)
	}
	for _, m := range b.Messages {
		r, err := s.getOrCreateReplica(RangeID(m.RangeId), m.ToReplica.GetReplicaId())
		if err != nil {
			continue
		}
		r.enqueueRaftMessage(m)
	}
	return nil
}

// getOrCreateReplica returns the replica of a range that a message for
// replicaID should go to, creating an uninitialized one (no descriptor
// yet, to be filled by a snapshot) if the store has none. A replica here
// that is an older incarnation (a lower replica ID, or removed) is
// destroyed first; a message for an incarnation older than ours, or than
// the range's tombstone, is refused.
func (s *Store) getOrCreateReplica(id RangeID, replicaID int32) (*Replica, error) {
	for {
		s.mu.RLock()
		r, ok := s.mu.replicas[id]
		s.mu.RUnlock()
		if !ok {
			break
		}
		r.mu.Lock()
		rid, destroyed := r.mu.replicaID, r.mu.destroyed != nil
		r.mu.Unlock()
		switch {
		case replicaID == 0 || rid == 0 || (replicaID == rid && !destroyed):
			return r, nil
		case replicaID <= rid:
			return nil, errors.Newf("r%d: message for replica %d, which is older than replica %d here", id, replicaID, rid)
		}
		if err := s.removeReplica(r, replicaID); err != nil {
			return nil, err
		}
	}
	if replicaID == 0 {
		return nil, &RangeNotFoundError{RangeId: int64(id), NodeId: int32(s.nodeID)}
	}
	if next, err := loadTombstone(s.engine, id); err != nil {
		return nil, err
	} else if replicaID < next {
		return nil, errors.Newf("r%d: replica %d was removed from this store", id, replicaID)
	}
	r := newReplica(s, id)
	r.mu.replicaID = replicaID
	// Registered before its Raft group reads the engine, and holding its
	// raftMu meanwhile: a split applying here (replica_split.go) either
	// finds this replica and initializes it, or has registered its own
	// first, so no split's state for the range is written under a replica
	// that would not know it.
	r.raftMu.Lock()
	s.mu.Lock()
	if existing, ok := s.mu.replicas[id]; ok {
		s.mu.Unlock()
		r.raftMu.Unlock()
		return existing, nil
	}
	s.mu.replicas[id] = r
	s.mu.Unlock()
	r.mu.Lock()
	err := r.initRaftGroupLocked()
	r.mu.Unlock()
	r.raftMu.Unlock()
	if err != nil {
		s.mu.Lock()
		if s.mu.replicas[id] == r {
			delete(s.mu.replicas, id)
		}
		s.mu.Unlock()
		return nil, err
	}
	s.markActive(id)
	return r, nil
}

// removeReplica destroys r: it fails its proposals, drops it from the
// store, deletes its data and leaves a tombstone so that no replica of the
// range with an ID below nextReplicaID is created here again.
func (s *Store) removeReplica(r *Replica, nextReplicaID int32) error {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	r.mu.Lock()
	if r.mu.destroyed == nil {
		r.mu.destroyed = errors.Mark(errors.Newf("r%d: replica %d was removed", r.rangeID, r.mu.replicaID), ErrReplicaDestroyed)
	}
	r.failProposalsLocked(r.mu.destroyed)
	desc := r.mu.desc
	r.mu.Unlock()
	// The data and the tombstone go before the replica leaves the map:
	// while it is there, a message for it is refused (it is destroyed);
	// once it is gone, getOrCreateReplica consults the tombstone and
	// reads the range's HardState from the engine. In the other order a
	// message arriving in between built a replica on the old HardState
	// and no log (raft panics: "state.commit N is out of range [0, 0]").
	if err := clearReplicaData(s.engine, r.rangeID, desc, nextReplicaID); err != nil {
		return err
	}
	s.mu.Lock()
	if s.mu.replicas[r.rangeID] == r {
		delete(s.mu.replicas, r.rangeID)
	}
	s.mu.Unlock()
	return nil
}

// markActive puts a range back on the ticker's list.
func (s *Store) markActive(id RangeID) {
	s.activeMu.Lock()
	s.activeMu.active[id] = struct{}{}
	s.activeMu.Unlock()
}

// tickLoop ticks every active range each RaftTickInterval; quiescent
// ranges drop off the list, so idle ranges cost nothing.
func (s *Store) tickLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RaftTickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.activeMu.Lock()
		ids := make([]RangeID, 0, len(s.activeMu.active))
		for id := range s.activeMu.active {
			ids = append(ids, id)
		}
		s.activeMu.Unlock()
		kept := ids[:0]
		for _, id := range ids {
			s.mu.RLock()
			r := s.mu.replicas[id]
			s.mu.RUnlock()
			if r == nil {
				s.activeMu.Lock()
				delete(s.activeMu.active, id)
				s.activeMu.Unlock()
				continue
			}
			if r.dropIfQuiescent() {
				continue
			}
			kept = append(kept, id)
		}
		ids = kept
		// The heartbeats the previous tick produced go out now, one batch
		// per node.
		s.flushHeartbeats()
		for _, id := range ids {
			s.scheduler.EnqueueTick(id)
		}
	}
}

// queueHeartbeat holds a heartbeat (or its response) for node until the
// next flush: with thousands of ranges led from one node, per-range
// heartbeats would be thousands of messages a tick; coalesced, they are one
// batch per node pair.
func (s *Store) queueHeartbeat(to NodeID, m *rangepb.RaftMessage) {
	s.hbMu.Lock()
	defer s.hbMu.Unlock()
	s.hbMu.queued[to] = append(s.hbMu.queued[to], m)
}

// flushHeartbeats sends the queued heartbeats, one batch per node.
func (s *Store) flushHeartbeats() {
	s.hbMu.Lock()
	queued := s.hbMu.queued
	s.hbMu.queued = map[NodeID][]*rangepb.RaftMessage{}
	s.hbMu.Unlock()
	for to, msgs := range queued {
		b := s.newBatchHeader(to)
		b.Messages = msgs
		s.transport.Send(to, b)
	}
}

// scheduleRemoval removes a replica that left its range, once its current
// Raft work is done.
func (s *Store) scheduleRemoval(r *Replica, nextReplicaID int32) {
	_ = s.stopper.RunAsyncTask("replica-gc", func(context.Context) {
		_ = s.removeReplica(r, nextReplicaID)
	})
}

// storeSchedHandler adapts the store to the scheduler.
type storeSchedHandler struct{ s *Store }

func (h storeSchedHandler) replica(id RangeID) *Replica {
	h.s.mu.RLock()
	defer h.s.mu.RUnlock()
	return h.s.mu.replicas[id]
}

func (h storeSchedHandler) processRequestQueue(id RangeID) {
	if r := h.replica(id); r != nil {
		r.processIncoming()
	}
}

func (h storeSchedHandler) processTick(id RangeID) {
	if r := h.replica(id); r != nil {
		r.tick()
		r.maybeTruncateLog()
	}
}

func (h storeSchedHandler) processReady(id RangeID) {
	if r := h.replica(id); r != nil {
		if err := r.handleRaftReady(h.s.stopper.Context()); err != nil {
			r.mu.Lock()
			r.mu.destroyed = errors.Wrapf(err, "r%d: raft processing failed", id)
			r.failProposalsLocked(&AmbiguousResultError{Reason: r.mu.destroyed.Error()})
			r.mu.Unlock()
		}
	}
}
