package kvserver

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

var errProposalDropped = raft.ErrProposalDropped

// handleRaftReady is the one place a Ready is handled, in the order Raft
// requires: persist the snapshot, entries and HardState (synced), then send
// messages, then apply committed entries, then Advance.
func (r *Replica) handleRaftReady(ctx context.Context) error {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()

	r.mu.Lock()
	r.flushProposalsLocked()
	if r.mu.raftGroup == nil || r.mu.destroyed != nil || !r.mu.raftGroup.HasReady() {
		r.mu.Unlock()
		return nil
	}
	rd := r.mu.raftGroup.Ready()
	leader := r.mu.raftGroup.BasicStatus().RaftState == raft.StateLeader
	r.mu.Unlock()

	// A leader may send its appends before its own write is durable, so that
	// its fsync and its followers' overlap (Raft thesis §10.2.1): an entry
	// commits only once a quorum has persisted it, whichever order that
	// happens in. Everything else waits for the write.
	msgs := rd.Messages
	if leader {
		var later []raftpb.Message
		var early []raftpb.Message
		for _, m := range msgs {
			if m.Type == raftpb.MsgApp {
				early = append(early, m)
			} else {
				later = append(later, m)
			}
		}
		r.sendRaftMessages(ctx, early)
		msgs = later
	}

	// Committed entries that an earlier Ready already made durable here
	// apply before this Ready's append and its fsync: a leader's acked
	// writes need not wait for the sync of the next ones, nor a follower's
	// next ack for an apply. Entries in this Ready's append (a follower's,
	// committed by the time they arrived) wait for it, so that the applied
	// index never runs ahead of the durable log. Configuration changes and
	// snapshots keep the strict order, since they change how this Ready's
	// messages are routed.
	committed := rd.CommittedEntries
	if early := r.durableCommittedPrefix(rd); early > 0 {
		if err := r.applyCommittedEntries(ctx, committed[:early]); err != nil {
			return err
		}
		committed = committed[early:]
	}

	eng := r.store.engine
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := r.applySnapshot(ctx, rd.Snapshot); err != nil {
			return err
		}
	}

	if len(rd.Entries) > 0 || !raft.IsEmptyHardState(rd.HardState) {
		b := eng.NewWriteOnlyBatch()
		// The batch copies what it is given, so one buffer serves every
		// entry.
		var buf []byte
		for i := range rd.Entries {
			e := &rd.Entries[i]
			if n := e.Size(); cap(buf) < n {
				buf = make([]byte, n, 2*n)
			} else {
				buf = buf[:n]
			}
			if _, err := e.MarshalTo(buf); err != nil {
				b.Close()
				return errors.Wrap(err, "encoding raft entry")
			}
			if err := b.Put(kv.MVCCKey{Key: raftLogKey(r.rangeID, e.Index)}, buf); err != nil {
				b.Close()
				return err
			}
		}
		r.mu.Lock()
		prevLast := r.mu.lastIndex
		r.mu.Unlock()
		if n := len(rd.Entries); n > 0 {
			// Entries past the new tail were overwritten by a new leader:
			// delete them.
			last := rd.Entries[n-1].Index
			if prevLast > last {
				if err := b.ClearRange(raftLogKey(r.rangeID, last+1), raftLogKey(r.rangeID, prevLast+1)); err != nil {
					b.Close()
					return err
				}
			}
		}
		if !raft.IsEmptyHardState(rd.HardState) {
			data, err := rd.HardState.Marshal()
			if err != nil {
				b.Close()
				return errors.Wrap(err, "encoding HardState")
			}
			if err := b.Put(kv.MVCCKey{Key: hardStateKey(r.rangeID)}, data); err != nil {
				b.Close()
				return err
			}
		}
		if err := b.Commit(rd.MustSync); err != nil {
			return errors.Wrapf(err, "r%d: persisting raft state", r.rangeID)
		}
		if n := len(rd.Entries); n > 0 {
			r.mu.Lock()
			r.mu.lastIndex = rd.Entries[n-1].Index
			r.mu.lastTerm = rd.Entries[n-1].Term
			r.mu.entryCache.add(rd.Entries)
			r.mu.Unlock()
		}
	}

	r.sendRaftMessages(ctx, msgs)

	if len(committed) > 0 {
		if err := r.applyCommittedEntries(ctx, committed); err != nil {
			return err
		}
	}

	r.mu.Lock()
	r.mu.raftGroup.Advance(rd)
	more := r.mu.raftGroup.HasReady()
	r.mu.Unlock()
	if more {
		r.store.scheduler.EnqueueReady(r.rangeID)
	}
	return nil
}

// durableCommittedPrefix returns how many of rd's committed entries may be
// applied before rd is persisted: those already in the durable log and
// below any entry rd rewrites, up to the first configuration change; none
// when rd carries a snapshot.
func (r *Replica) durableCommittedPrefix(rd raft.Ready) int {
	if len(rd.CommittedEntries) == 0 || !raft.IsEmptySnap(rd.Snapshot) {
		return 0
	}
	r.mu.Lock()
	durable := r.mu.lastIndex
	r.mu.Unlock()
	if len(rd.Entries) > 0 {
		durable = min(durable, rd.Entries[0].Index-1)
	}
	n := 0
	for _, e := range rd.CommittedEntries {
		if e.Index > durable || e.Type != raftpb.EntryNormal {
			break
		}
		n++
	}
	return n
}

// sendRaftMessages hands outgoing messages to the transport, grouped by
// destination node. A snapshot message starts a snapshot stream instead.
func (r *Replica) sendRaftMessages(ctx context.Context, msgs []raftpb.Message) {
	if len(msgs) == 0 {
		return
	}
	r.mu.Lock()
	desc := r.mu.desc
	from := r.replicaDescLocked(r.mu.replicaID)
	peers := r.mu.peers
	r.mu.Unlock()
	byNode := map[NodeID]*rangepb.RaftMessageBatch{}
	for i := range msgs {
		m := msgs[i]
		to := replicaByID(desc, int32(m.To))
		if to == nil {
			r.mu.Lock()
			to = peers[int32(m.To)]
			r.mu.Unlock()
		}
		if to == nil {
			continue // the replica left the range
		}
		if m.Type == raftpb.MsgSnap {
			r.sendSnapshotAsync(m, to)
			continue
		}
		data, err := m.Marshal()
		if err != nil {
			continue
		}
		rm := &rangepb.RaftMessage{RangeId: int64(r.rangeID), FromReplica: from, ToReplica: to, Message: data}
		if m.Type == raftpb.MsgHeartbeat || m.Type == raftpb.MsgHeartbeatResp {
			// Heartbeats of every range to a node travel together, once
			// per tick (see Store.flushHeartbeats).
			r.store.queueHeartbeat(NodeID(to.NodeId), rm)
			continue
		}
		b := byNode[NodeID(to.NodeId)]
		if b == nil {
			b = r.store.newBatchHeader(NodeID(to.NodeId))
			byNode[NodeID(to.NodeId)] = b
		}
		b.Messages = append(b.Messages, rm)
	}
	for node, b := range byNode {
		r.store.transport.Send(node, b)
	}
}

func (r *Replica) replicaDescLocked(id int32) *rangepb.ReplicaDescriptor {
	if rd := replicaByID(r.mu.desc, id); rd != nil {
		return rd
	}
	return &rangepb.ReplicaDescriptor{NodeId: int32(r.store.nodeID), StoreId: int32(r.store.nodeID), ReplicaId: id}
}

func replicaByID(desc *rangepb.RangeDescriptor, id int32) *rangepb.ReplicaDescriptor {
	if desc == nil {
		return nil
	}
	for _, rd := range desc.Replicas {
		if rd.ReplicaId == id {
			return rd
		}
	}
	return nil
}

func replicaByNode(desc *rangepb.RangeDescriptor, node NodeID) *rangepb.ReplicaDescriptor {
	if desc == nil {
		return nil
	}
	for _, rd := range desc.Replicas {
		if NodeID(rd.NodeId) == node {
			return rd
		}
	}
	return nil
}

// enqueueRaftMessage queues an incoming message for the scheduler.
func (r *Replica) enqueueRaftMessage(m *rangepb.RaftMessage) {
	r.mu.Lock()
	r.mu.incoming = append(r.mu.incoming, m)
	r.mu.Unlock()
	r.store.scheduler.EnqueueRequest(r.rangeID)
}

// processIncoming steps the queued messages into Raft.
func (r *Replica) processIncoming() {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := r.mu.incoming
	r.mu.incoming = nil
	for _, m := range msgs {
		if r.mu.destroyed != nil {
			return
		}
		var msg raftpb.Message
		if err := msg.Unmarshal(m.Message); err != nil {
			continue // a corrupt message is dropped; Raft recovers
		}
		if r.mu.replicaID == 0 && m.ToReplica != nil {
			// A new replica learns its ID from the first message to it.
			r.mu.replicaID = m.ToReplica.ReplicaId
			if err := r.initRaftGroupLocked(); err != nil {
				continue
			}
		}
		if m.ToReplica != nil && m.ToReplica.ReplicaId != r.mu.replicaID {
			continue // meant for an earlier or later incarnation
		}
		if m.FromReplica != nil {
			r.mu.peers[m.FromReplica.ReplicaId] = m.FromReplica
		}
		if m.Quiesce && msg.Type == raftpb.MsgHeartbeat {
			_ = r.stepLocked(msg)
			// Proposals of ours in flight (a follower's, which Raft may
			// have dropped for want of a known leader) keep us ticking,
			// since only ticks propose them again.
			if r.mu.lastIndex == msg.Commit && len(r.mu.proposals) == 0 {
				r.mu.quiescent = true
			}
			continue
		}
		// A heartbeat response is the echo of a quiesce heartbeat: it must
		// not wake the range it put to sleep.
		if msg.Type != raftpb.MsgHeartbeatResp {
			r.unquiesceLocked()
		}
		_ = r.stepLocked(msg)
	}
}

// tick advances Raft's logical clock; it returns false once the replica has
// quiesced and needs no more ticks.
func (r *Replica) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.raftGroup == nil || r.mu.quiescent || r.mu.destroyed != nil {
		return
	}
	r.mu.ticks++
	// Quiesce instead of ticking: a tick would queue ordinary heartbeats
	// behind the quiesce heartbeat, and they would wake the followers.
	if r.maybeQuiesceLocked() {
		return
	}
	r.mu.raftGroup.Tick()
	r.refreshProposalsLocked()
}

// maybeQuiesceLocked puts an idle range to sleep: when this replica leads,
// nothing is in flight, and every follower has the whole log, it tells the
// followers to stop ticking (a heartbeat marked quiesce) and stops itself.
// Any proposal or non-quiesce message wakes the range again.
func (r *Replica) maybeQuiesceLocked() bool {
	if r.store.cfg.DisableQuiescence || r.mu.ticks%r.store.cfg.RaftHeartbeatTicks != 0 ||
		len(r.mu.proposals) > 0 || r.mu.pendingLease != nil {
		return false
	}
	// Messages still to go out (say, the append that tells followers the
	// new commit index) could reach a follower after the quiesce heartbeat
	// and wake it again, with no leader left awake to put it back to sleep.
	if r.mu.raftGroup.HasReady() {
		return false
	}
	st := r.mu.raftGroup.Status()
	if st.RaftState != raft.StateLeader || st.LeadTransferee != 0 {
		return false
	}
	last := r.mu.lastIndex
	if st.Commit != last || st.Applied != last || r.mu.state.RaftAppliedIndex != last {
		return false
	}
	for id, pr := range st.Progress {
		if id == uint64(r.mu.replicaID) {
			continue
		}
		if pr.Match != last || pr.State != tracker.StateReplicate {
			return false
		}
	}
	r.mu.quiescent = true
	desc := r.mu.desc
	from := r.replicaDescLocked(r.mu.replicaID)
	for id := range st.Progress {
		if id == uint64(r.mu.replicaID) {
			continue
		}
		to := replicaByID(desc, int32(id))
		if to == nil {
			continue
		}
		hb := raftpb.Message{
			Type: raftpb.MsgHeartbeat, From: uint64(r.mu.replicaID), To: id,
			Term: st.Term, Commit: last,
		}
		data, err := hb.Marshal()
		if err != nil {
			continue
		}
		// Queued behind the range's last ordinary heartbeat, so that the
		// follower sees that one first and stays asleep.
		r.store.queueHeartbeat(NodeID(to.NodeId), &rangepb.RaftMessage{
			RangeId: int64(r.rangeID), FromReplica: from, ToReplica: to, Message: data, Quiesce: true,
		})
	}
	return true
}

func (r *Replica) unquiesceLocked() {
	if r.mu.quiescent {
		r.mu.quiescent = false
		r.store.markActive(r.rangeID)
	}
}

// dropIfQuiescent takes a quiescent replica off the ticker's list and
// reports whether it did. Checking and dropping under r.mu means a
// concurrent wake-up (which adds it back under r.mu) is never lost.
func (r *Replica) dropIfQuiescent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.mu.quiescent && r.mu.destroyed == nil {
		return false
	}
	r.store.activeMu.Lock()
	delete(r.store.activeMu.active, r.rangeID)
	r.store.activeMu.Unlock()
	return true
}
