package kvserver

import (
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Replica is one copy of a range on a store: a Raft group member driven by
// the store's scheduler. The leaseholder replica evaluates requests into
// write batches and proposes them; every replica applies committed
// commands in log order.
//
// Locking: raftMu serialises the handling of Ready (persisting, sending,
// applying) and is taken before mu. mu guards the RawNode and the in-memory
// state; it is held briefly, never across I/O except reads of the log by
// the RawNode through raft.Storage.
type Replica struct {
	store   *Store
	rangeID RangeID
	latches spanlatch.Manager

	raftMu sync.Mutex

	// propBuf holds writes waiting for the Raft worker to propose them.
	propBuf proposalBuffer
	// txn is the transaction state: the timestamp cache.
	txn replicaTxnState
	// conc sequences requests: latches, lock table, txn wait queue.
	conc replicaConcurrency
	// load samples the requests served, for the load-based split queue;
	// qps is the rate it measured over the last period (float64 bits).
	load loadSampler
	qps  atomic.Uint64
	// mergeWatching is set while watchMerge runs.
	mergeWatching atomic.Bool
	// changeMu serialises the replica changes this leaseholder makes: each
	// is several Raft commands (learner, snapshot, promotion, removal), and
	// two interleaved would each act on the other's half-made membership.
	changeMu sync.Mutex
	// hotLocks picks the keys whose resolved locks stay as markers.
	hotLocks hotLocks

	mu struct {
		sync.Mutex
		replicaID int32
		raftGroup *raft.RawNode
		desc      *rangepb.RangeDescriptor
		lease     *rangepb.Lease
		state     *rangepb.RangeAppliedState
		truncated *rangepb.RaftTruncatedState
		lastIndex uint64
		lastTerm  uint64
		// entryCache holds the tail of the log (see entryCache).
		entryCache entryCache

		// proposals are this replica's commands in flight, by command ID.
		proposals map[cmdID]*proposal
		// nextLeaseIndex is the max_lease_index of the next proposal.
		nextLeaseIndex uint64
		// pendingLease is the lease request in flight, if any.
		pendingLease *proposal
		// transferring is set while a lease transfer is in flight: no more
		// requests are served under the current lease.
		transferring bool

		quiescent bool
		// ticks counts ticks, for re-proposal and quiescence decisions.
		ticks int
		// leadershipTransferTick is when this replica last asked for Raft
		// leadership (see requestRaftLeadershipLocked).
		leadershipTransferTick int
		// incoming are Raft messages waiting for the scheduler.
		incoming []*rangepb.RaftMessage
		// checksums are the results of consistency checks, by ID.
		checksums map[string]replicaChecksum
		// peers caches the descriptors of replicas that sent us messages,
		// so an uninitialized replica (no range descriptor yet) can answer.
		peers map[int32]*rangepb.ReplicaDescriptor
		// pendingSnapshot is a received snapshot waiting for Raft to ask
		// for it to be applied.
		pendingSnapshot *Snapshot
		destroyed       error
		// mergeFreeze is set while a merge holds the range frozen (see
		// replica_merge.go).
		mergeFreeze *rangepb.MergeFreeze
		// lastGC is when the GC queue last collected the range here (wall
		// nanoseconds; gc_queue.go).
		lastGC int64
	}
}

type replicaChecksum struct {
	checksum     []byte
	appliedIndex uint64
}

// ReplicaID returns this replica's ID within its range.
func (r *Replica) ReplicaID() int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.replicaID
}

// RangeID returns the range's ID.
func (r *Replica) RangeID() RangeID { return r.rangeID }

// Desc returns the range descriptor as this replica last applied it.
func (r *Replica) Desc() *rangepb.RangeDescriptor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.desc
}

// Lease returns the lease as this replica last applied it.
func (r *Replica) Lease() *rangepb.Lease {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.lease
}

// AppliedIndex returns the Raft index of the last applied entry.
func (r *Replica) AppliedIndex() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.state.RaftAppliedIndex
}

// TruncatedIndex returns the index of the last entry truncated from the
// replica's Raft log (a follower behind it catches up by a snapshot).
func (r *Replica) TruncatedIndex() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.truncated.Index
}

// IsQuiescent reports whether the replica has stopped ticking.
func (r *Replica) IsQuiescent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.quiescent
}

// RaftStatus returns the Raft status, or nil if the group is not set up.
func (r *Replica) RaftStatus() *raft.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.raftGroup == nil {
		return nil
	}
	s := r.mu.raftGroup.Status()
	return &s
}

// ErrReplicaDestroyed marks requests to a replica removed from its range.
var ErrReplicaDestroyed = errors.New("replica destroyed")

// initRaftGroupLocked creates the RawNode once the replica ID is known.
func (r *Replica) initRaftGroupLocked() error {
	if r.mu.raftGroup != nil || r.mu.replicaID == 0 {
		return nil
	}
	cfg := &raft.Config{
		ID:                          uint64(r.mu.replicaID),
		ElectionTick:                r.store.cfg.RaftElectionTicks,
		HeartbeatTick:               r.store.cfg.RaftHeartbeatTicks,
		Storage:                     (*replicaRaftStorage)(r),
		Applied:                     r.mu.state.RaftAppliedIndex,
		MaxSizePerMsg:               1 << 20,
		MaxCommittedSizePerReady:    64 << 20,
		MaxInflightMsgs:             128,
		CheckQuorum:                 true,
		PreVote:                     true,
		Logger:                      raftLogger{},
		DisableConfChangeValidation: false,
	}
	rn, err := raft.NewRawNode(cfg)
	if err != nil {
		return errors.Wrapf(err, "r%d: creating raft group", r.rangeID)
	}
	r.mu.raftGroup = rn
	return nil
}

// stepLocked hands one message to Raft, waking the replica if quiescent.
func (r *Replica) stepLocked(msg raftpb.Message) error {
	if r.mu.raftGroup == nil {
		return nil
	}
	return r.mu.raftGroup.Step(msg)
}

// raftLogger discards Raft's chatter; errors surface through our own
// return values.
type raftLogger struct{}

func (raftLogger) Debug(...interface{})            {}
func (raftLogger) Debugf(string, ...interface{})   {}
func (raftLogger) Error(...interface{})            {}
func (raftLogger) Errorf(string, ...interface{})   {}
func (raftLogger) Info(...interface{})             {}
func (raftLogger) Infof(string, ...interface{})    {}
func (raftLogger) Warning(...interface{})          {}
func (raftLogger) Warningf(string, ...interface{}) {}
func (raftLogger) Fatal(v ...interface{})          { panic(errors.AssertionFailedf("raft: %v", v)) }
func (raftLogger) Fatalf(f string, v ...interface{}) {
	panic(errors.AssertionFailedf("raft: "+f, v...))
}
func (raftLogger) Panic(v ...interface{}) { panic(errors.AssertionFailedf("raft: %v", v)) }
func (raftLogger) Panicf(f string, v ...interface{}) {
	panic(errors.AssertionFailedf("raft: "+f, v...))
}

// campaignIfSoleVoter starts an election at once in a range whose only
// voter is this replica, instead of waiting out an election timeout.
func (r *Replica) campaignIfSoleVoter() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.raftGroup == nil || r.mu.desc == nil {
		return
	}
	cs := confStateFromDesc(r.mu.desc)
	if len(cs.Voters) == 1 && cs.Voters[0] == uint64(r.mu.replicaID) && len(cs.VotersOutgoing) == 0 {
		_ = r.mu.raftGroup.Campaign()
		r.store.scheduler.EnqueueReady(r.rangeID)
	}
}
