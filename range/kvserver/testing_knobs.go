package kvserver

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
)

// Hooks for tests that drive the Raft machinery step by step (the
// datadriven interaction tests): with a tick interval too long to fire and
// a transport that holds messages until told to deliver them, a test
// decides when every tick, campaign and delivery happens, and waits for
// the scheduler to finish the work each step caused.

// SchedulerIdle reports whether the store's Raft scheduler has no range
// queued or being processed.
func (s *Store) SchedulerIdle() bool {
	s.scheduler.mu.Lock()
	defer s.scheduler.mu.Unlock()
	return len(s.scheduler.mu.queue) == 0 && len(s.scheduler.mu.state) == 0
}

// TickRange ticks one range's replica once, through the scheduler.
func (s *Store) TickRange(id RangeID) { s.scheduler.EnqueueTick(id) }

// Campaign makes the replica start an election now.
func (r *Replica) Campaign() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.raftGroup != nil {
		r.unquiesceLocked()
		_ = r.mu.raftGroup.Campaign()
	}
	r.store.scheduler.EnqueueReady(r.rangeID)
}

// PendingProposals returns the number of this replica's commands in flight.
func (r *Replica) PendingProposals() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.mu.proposals)
}

// FlushHeartbeats sends the coalesced heartbeats now, as the ticker does
// after each tick.
func (s *Store) FlushHeartbeats() { s.flushHeartbeats() }

// StatsAndRecompute returns the replica's MVCC stats and the stats
// recomputed from its data (user keys, lock records and range-local keys),
// read together (no command applies between).
func (r *Replica) StatsAndRecompute() (got, want kv.MVCCStats, err error) {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	r.mu.Lock()
	desc := r.mu.desc
	got = statsFromProto(r.mu.state.Stats)
	r.mu.Unlock()
	if desc == nil {
		return got, want, errors.Newf("r%d is not initialized", r.rangeID)
	}
	start := desc.StartKey
	if bytes.Compare(start, kv.LocalMax) < 0 {
		start = kv.LocalMax
	}
	want, err = kv.ComputeStats(r.store.engine, start, descEndKey(desc), got.LastUpdateNanos)
	if err != nil {
		return got, want, err
	}
	rl := rangeLocalSpan(start, descEndKey(desc))
	local, err := kv.ComputeStats(r.store.engine, rl.Key, rl.EndKey, got.LastUpdateNanos)
	want.Add(local)
	return got, want, err
}

// SnapshotsApplied returns how many snapshots the store's replicas applied.
func (s *Store) SnapshotsApplied() int64 { return s.snapshotsApplied.Load() }

// SetMeta2UpdatesDisabled stops (or resumes) the meta2 writes that follow
// splits and lease acquisitions, so that a test can hold meta2 stale.
func (s *Store) SetMeta2UpdatesDisabled(disabled bool) { s.meta2UpdatesDisabled.Store(disabled) }

// DebugState describes the replica for test failures.
func (r *Replica) DebugState() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := fmt.Sprintf("r%d/%d desc=%v lease=%v applied=%d destroyed=%v pendingLease=%v transferring=%v quiescent=%v",
		r.rangeID, r.mu.replicaID, r.mu.desc, r.mu.lease, r.mu.state.GetRaftAppliedIndex(), r.mu.destroyed,
		r.mu.pendingLease != nil, r.mu.transferring, r.mu.quiescent)
	if r.mu.raftGroup != nil {
		st := r.mu.raftGroup.Status()
		s += fmt.Sprintf(" raft=%s term=%d lead=%d commit=%d applied=%d progress=%v", st.RaftState, st.Term, st.Lead, st.Commit, st.Applied, st.Progress)
	}
	return s
}

// ErrAbandonMerge, returned by a merge hook, makes the merge stop without
// rolling back its transaction, as if its coordinator had died.
var ErrAbandonMerge = errors.New("merge abandoned by a test")

// SetMergeHook sets a function a merge calls once the right-hand range
// (right) is frozen, before it commits; an error fails the merge (nil
// hook: none).
func (s *Store) SetMergeHook(hook func(right RangeID) error) {
	if hook == nil {
		s.mergeHook.Store(nil)
		return
	}
	s.mergeHook.Store(&hook)
}
