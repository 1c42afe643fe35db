package kvserver

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// appliedEffect is what must happen in memory once an applied command's
// batch is committed: waking its proposer, installing a new lease or
// descriptor, telling Raft of a configuration change.
type appliedEffect struct {
	id         cmdID
	err        error // the command was rejected with this error
	confChange *raftpb.ConfChangeV2
	newLease   *rangepb.Lease
	newDesc    *rangepb.RangeDescriptor
	truncated  *rangepb.RaftTruncatedState
	checksumID string
	checksum   []byte
	// checksumIndex is the check's own entry: the index every replica
	// hashed at (not the last of the batch it was applied in, which
	// differs between replicas).
	checksumIndex uint64
	reproposal    bool // rejected only for its lease index: propose again
	// mli is the rejected entry's lease index: only a rejection of the
	// proposal's latest copy makes it propose again.
	mli uint64
}

// applyCommittedEntries applies entries in log order, deterministically,
// in one engine batch together with the new applied state, then installs
// the in-memory effects. Every replica does exactly the same, so their
// data stays identical byte for byte.
func (r *Replica) applyCommittedEntries(ctx context.Context, ents []raftpb.Entry) error {
	r.store.metrics.RaftApplied.Add(int64(len(ents)))
	for len(ents) > 0 {
		rest, err := r.applyEntriesThroughSplit(ctx, ents)
		if err != nil {
			return err
		}
		ents = rest
	}
	return nil
}

// applyEntriesThroughSplit applies ents up to and including the first
// split, and returns the entries after it: a split ends its batch, so that
// the right-hand replica is set up before anything after it applies.
func (r *Replica) applyEntriesThroughSplit(ctx context.Context, ents []raftpb.Entry) (rest []raftpb.Entry, _ error) {
	r.mu.Lock()
	// A copy, modified below; its Stats are replaced, never modified.
	cur := r.mu.state
	state := &rangepb.RangeAppliedState{
		RaftAppliedIndex: cur.RaftAppliedIndex, RaftAppliedTerm: cur.RaftAppliedTerm,
		LeaseAppliedIndex: cur.LeaseAppliedIndex, Stats: cur.Stats, GcThreshold: cur.GcThreshold,
	}
	lease := r.mu.lease
	desc := r.mu.desc
	freeze := r.mu.mergeFreeze
	truncated := r.mu.truncated
	prevLease := lease
	r.mu.Unlock()

	stats := statsFromProto(state.Stats)
	b := r.store.engine.NewBatch()
	defer b.Close()
	effects := make([]appliedEffect, 0, len(ents))
	// replicasChanged: an entry changed the range's replicas (meta2 lists them).
	replicasChanged := false
	// rhs is the right-hand replica of a split in this batch, whose raftMu
	// is held until it is set up (or the batch failed).
	var rhs *splitRHS
	// merged is the right-hand replica of a merge in this batch, whose
	// raftMu is held likewise.
	var merged *mergedRHS
	defer func() {
		if rhs != nil {
			rhs.abort()
		}
		if merged != nil {
			merged.abort()
		}
	}()
	// A freeze (or thaw) is synced: a merge relies on every replica of the
	// range it froze holding everything before the freeze, also after a
	// crash (the applied state is otherwise written without a sync).
	freezeChanged, syncBatch := false, false
	for i := range ents {
		e := &ents[i]
		if e.Index <= state.RaftAppliedIndex {
			continue // already applied (replayed after a restart)
		}
		var data []byte
		var cc *raftpb.ConfChangeV2
		switch e.Type {
		case raftpb.EntryNormal:
			data = e.Data
		case raftpb.EntryConfChange:
			var c1 raftpb.ConfChange
			if err := c1.Unmarshal(e.Data); err != nil {
				return nil, errors.Wrapf(err, "r%d: decoding conf change at %d", r.rangeID, e.Index)
			}
			v2 := c1.AsV2()
			cc, data = &v2, c1.Context
		case raftpb.EntryConfChangeV2:
			var v2 raftpb.ConfChangeV2
			if err := v2.Unmarshal(e.Data); err != nil {
				return nil, errors.Wrapf(err, "r%d: decoding conf change at %d", r.rangeID, e.Index)
			}
			cc, data = &v2, v2.Context
		}
		id, cmd, ok := r.localCommand(data)
		if !ok {
			var err error
			if id, cmd, err = decodeCommand(data); err != nil {
				return nil, errors.Wrapf(err, "r%d: entry %d", r.rangeID, e.Index)
			}
		}
		state.RaftAppliedIndex, state.RaftAppliedTerm = e.Index, e.Term
		eff := appliedEffect{id: id}
		if cmd == nil {
			// Raft's own entry; a conf change without a command is the
			// automatic leave of a joint configuration.
			if cc != nil {
				eff.confChange = cc
				if len(cc.Changes) == 0 && desc != nil {
					desc = leaveJoint(desc)
					eff.newDesc = desc
					replicasChanged = true
					if err := putProto(b, descKey(r.rangeID), desc); err != nil {
						return nil, err
					}
				}
				effects = append(effects, eff)
			}
			continue
		}
		rejErr, reprop := checkCommand(cmd, lease, state)
		if rejErr == nil && cmd.Result.GetSplit() != nil {
			rejErr = checkSplit(desc, cmd.Result.Split)
		}
		if rejErr == nil && cmd.Result.GetMerge() != nil {
			rejErr = checkMerge(desc, cmd.Result.Merge)
		}
		if rejErr == nil && cmd.Result.GetChangeReplicasDesc() != nil {
			rejErr = checkDescChange(desc, cmd.Result.ChangeReplicasDesc)
		}
		if rejErr != nil {
			eff.err, eff.reproposal, eff.mli = rejErr, reprop, cmd.MaxLeaseIndex
			if cc != nil {
				// Raft must still hear of every conf change entry: a change
				// of node 0 is Raft's "not applied" (an empty ConfChangeV2
				// would mean "leave the joint configuration").
				noop := raftpb.ConfChange{}.AsV2()
				eff.confChange = &noop
			}
			effects = append(effects, eff)
			continue
		}
		if !cmd.IsLeaseRequest {
			state.LeaseAppliedIndex = cmd.MaxLeaseIndex
		}
		if err := kv.AppendBatchRepr(b, cmd.WriteBatch); err != nil {
			return nil, errors.Wrapf(err, "r%d: applying entry %d", r.rangeID, e.Index)
		}
		res := cmd.Result
		if res != nil {
			if res.StatsDelta != nil {
				stats.Add(statsFromProto(res.StatsDelta))
			}
			if tsFromProto(state.GcThreshold).Less(tsFromProto(res.GcThreshold)) {
				state.GcThreshold = res.GcThreshold
			}
			if res.NewLease != nil {
				lease = res.NewLease
				eff.newLease = lease
				if err := putProto(b, leaseKey(r.rangeID), lease); err != nil {
					return nil, err
				}
			}
			if res.ChangeReplicasDesc != nil {
				desc = res.ChangeReplicasDesc
				eff.newDesc = desc
				replicasChanged = true
				eff.confChange = cc
				if err := putProto(b, descKey(r.rangeID), desc); err != nil {
					return nil, err
				}
			}
			if sp := res.Split; sp != nil {
				// The left keeps the stats of what the right does not take.
				stats.Subtract(statsFromProto(sp.RightStats))
				desc = sp.LeftDesc
				eff.newDesc = desc
				if err := putProto(b, descKey(r.rangeID), desc); err != nil {
					return nil, err
				}
				var err error
				if rhs, err = r.store.prepareSplitRHS(b, sp, lease, state.GcThreshold); err != nil {
					return nil, err
				}
				rhs.leftReads, _ = r.tsCache().GetMax(sp.RightDesc.StartKey, descEndKey(sp.RightDesc))
				rest = ents[i+1:]
			}
			if fr := res.Freeze; fr != nil {
				nf, changed, err := applyFreeze(b, r.rangeID, freeze, fr)
				if err != nil {
					return nil, err
				}
				if changed {
					freeze, freezeChanged, syncBatch = nf, true, true
				}
			}
			if mt := res.Merge; mt != nil {
				// The left takes the right's data, its stats, and its GC
				// threshold if higher (the right's old versions may be gone).
				stats.Add(statsFromProto(mt.RightStats))
				if tsFromProto(state.GcThreshold).Less(tsFromProto(mt.RightGcThreshold)) {
					state.GcThreshold = mt.RightGcThreshold
				}
				desc = mt.LeftDesc
				eff.newDesc = desc
				if err := putProto(b, descKey(r.rangeID), desc); err != nil {
					return nil, err
				}
				var err error
				if merged, err = r.store.prepareMergeRHS(b, mt); err != nil {
					return nil, err
				}
				rest = ents[i+1:]
			}
			if res.TruncateIndex > truncated.Index && res.TruncateIndex <= state.RaftAppliedIndex {
				// Each replica drops its own log entries: unreplicated keys.
				if err := b.ClearRange(raftLogKey(r.rangeID, 0), raftLogKey(r.rangeID, res.TruncateIndex+1)); err != nil {
					return nil, err
				}
				truncated = &rangepb.RaftTruncatedState{Index: res.TruncateIndex, Term: res.TruncateTerm}
				eff.truncated = truncated
				if err := putProto(b, truncatedKey(r.rangeID), truncated); err != nil {
					return nil, err
				}
			}
			if len(res.ChecksumId) > 0 {
				// The checksum covers the state with this command applied,
				// which is what the batch holds now.
				sum, err := rangeChecksum(b, desc, statsToProto(stats))
				if err != nil {
					return nil, err
				}
				eff.checksumID, eff.checksum, eff.checksumIndex = string(res.ChecksumId), sum, e.Index
			}
		}
		if cc != nil && eff.confChange == nil {
			eff.confChange = cc
		}
		effects = append(effects, eff)
		if rest != nil {
			break
		}
	}
	state.Stats = statsToProto(stats)
	if err := putProto(b, appliedStateKey(r.rangeID), state); err != nil {
		return nil, err
	}
	// Not synced: the log is durable, so a crash replays from the last
	// applied state that made it to disk.
	if err := b.Commit(syncBatch); err != nil {
		return nil, errors.Wrapf(err, "r%d: committing applied entries", r.rangeID)
	}
	if rhs != nil {
		x := rhs
		rhs = nil
		if err := x.finish(); err != nil {
			return nil, err
		}
	}
	if merged != nil {
		x := merged
		merged = nil
		x.finish(r)
	}
	if lease != prevLease && lease.GetReplica().GetNodeId() == int32(r.store.nodeID) &&
		prevLease.GetReplica().GetNodeId() != lease.GetReplica().GetNodeId() && desc != nil &&
		!descContains(desc, kv.Meta2Prefix) {
		// A new leaseholder makes sure meta2 knows its range: the one that
		// split it may have died before it updated the record.
		r.store.updateMeta2Async(desc)
	} else if replicasChanged && lease.GetReplica().GetNodeId() == int32(r.store.nodeID) {
		// Meta2 lists the range's replicas too: the leaseholder, which
		// made the change, brings its record up to date. Generations rise
		// with every change, so a late update never undoes a newer one.
		r.store.updateMeta2Async(desc)
	}

	if freezeChanged && freeze != nil {
		defer r.ensureMergeWatcher()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.state = state
	if freezeChanged {
		r.mu.mergeFreeze = freeze
	}
	for _, eff := range effects {
		if eff.newLease != nil {
			r.installLeaseLocked(eff.newLease)
		}
		if eff.newDesc != nil {
			r.mu.desc = eff.newDesc
		}
		if eff.truncated != nil {
			r.mu.truncated = eff.truncated
			r.mu.entryCache.truncate(eff.truncated.Index)
		}
		if eff.confChange != nil && r.mu.raftGroup != nil {
			r.mu.raftGroup.ApplyConfChange(*eff.confChange)
		}
		if eff.checksumID != "" {
			r.mu.checksums[eff.checksumID] = replicaChecksum{checksum: eff.checksum, appliedIndex: eff.checksumIndex}
		}
		p, ok := r.mu.proposals[eff.id]
		if !ok {
			continue
		}
		if eff.reproposal && r.mu.raftGroup != nil {
			if eff.mli != p.cmd.MaxLeaseIndex {
				// An older copy of a command proposed again since (by a
				// refresh or an earlier reproposal): its latest copy
				// decides, or two copies with fresh lease indexes could
				// both apply.
				continue
			}
			// Still valid under our lease (its latches are held), but its
			// lease index is used up: propose it again with a new one.
			r.store.metrics.RaftReproposals.Add(1)
			p.cmd.MaxLeaseIndex = 0
			if p.confChange != nil {
				// Raft drops a configuration change proposed before this
				// Ready is advanced (the one just applied still counts as
				// pending): the next tick proposes it, with a new index.
				p.proposedAtTick = r.mu.ticks - r.store.cfg.RaftElectionTicks
				continue
			}
			delete(r.mu.proposals, eff.id)
			if err := r.proposeLocked(p); err != nil {
				p.finish(err)
			}
			continue
		}
		delete(r.mu.proposals, eff.id)
		if eff.err != nil && !p.cmd.IsLeaseRequest && p.cmd.GetResult().GetNewLease() != nil {
			r.mu.transferring = false // a rejected transfer: serve again
		}
		if p == r.mu.pendingLease {
			r.mu.pendingLease = nil
		}
		p.finish(eff.err)
	}
	if r.mu.desc != nil && replicaByID(r.mu.desc, r.mu.replicaID) == nil && r.mu.replicaID != 0 {
		// This replica was removed from the range.
		r.mu.destroyed = errors.Mark(errors.Newf("r%d: replica %d was removed from the range", r.rangeID, r.mu.replicaID), ErrReplicaDestroyed)
		r.failProposalsLocked(r.mu.destroyed)
		r.store.scheduleRemoval(r, r.mu.replicaID+1)
	}
	return rest, nil
}

// checkCommand decides, identically on every replica, whether a command
// may apply. A command proposed under a lease applies only under that same
// lease and only once (its lease index must be unused); a lease request
// only if the lease it replaces is still current and the new lease does not
// overlap the old one's time under another holder: after its expiration,
// or, for an epoch lease, with its holder's epoch shown to have moved on.
func checkCommand(cmd *rangepb.RaftCommand, lease *rangepb.Lease, state *rangepb.RangeAppliedState) (err error, repropose bool) {
	curSeq := int64(0)
	if lease != nil {
		curSeq = lease.Sequence
	}
	if cmd.IsLeaseRequest {
		res := cmd.Result
		if res == nil || res.NewLease == nil {
			return errors.New("lease request without a lease"), false
		}
		if res.PrevLeaseSequence != curSeq {
			return &leaseRejectedError{reason: "the lease changed while the request was in flight"}, false
		}
		nl := res.NewLease
		if lease == nil || lease.Replica.GetReplicaId() == nl.Replica.GetReplicaId() {
			return nil, false
		}
		if isEpochLease(lease) {
			// Another node's epoch lease ends only with its epoch: the
			// request must show the holder's record past it.
			lv := res.PrevHolderLiveness
			if lv == nil || lv.NodeId != lease.Replica.GetNodeId() || lv.Epoch <= lease.Epoch {
				return &leaseRejectedError{reason: "the current epoch-based lease's holder is not shown to have left its epoch"}, false
			}
			return nil, false
		}
		if !tsFromProto(lease.Expiration).Less(tsFromProto(nl.Start)) {
			return &leaseRejectedError{reason: "the new lease would overlap the current one"}, false
		}
		return nil, false
	}
	if cmd.ProposerLeaseSequence != curSeq {
		return &leaseRejectedError{reason: "proposed under a lease that is no longer current"}, false
	}
	if cmd.MaxLeaseIndex <= state.LeaseAppliedIndex {
		return &leaseRejectedError{reason: "lease index already used"}, true
	}
	if cmd.Result != nil && cmd.Result.NewLease != nil {
		// A lease transfer by the current holder.
		if cmd.Result.PrevLeaseSequence != curSeq {
			return &leaseRejectedError{reason: "the lease changed while the transfer was in flight"}, false
		}
	}
	return nil, false
}

// leaseRejectedError: a command did not apply because of the lease; it
// certainly never will, so retrying elsewhere is safe.
type leaseRejectedError struct{ reason string }

func (e *leaseRejectedError) Error() string { return "command rejected: " + e.reason }

// leaveJoint returns desc with its joint configuration resolved: incoming
// voters become full voters, outgoing ones leave, demoting ones become
// learners.
func leaveJoint(desc *rangepb.RangeDescriptor) *rangepb.RangeDescriptor {
	nd := proto.Clone(desc).(*rangepb.RangeDescriptor)
	nd.Replicas = nd.Replicas[:0]
	for _, rd := range desc.Replicas {
		rd = proto.Clone(rd).(*rangepb.ReplicaDescriptor)
		switch rd.Type {
		case rangepb.ReplicaType_VOTER_INCOMING:
			rd.Type = rangepb.ReplicaType_VOTER_FULL
		case rangepb.ReplicaType_VOTER_OUTGOING:
			continue
		case rangepb.ReplicaType_VOTER_DEMOTING_LEARNER:
			rd.Type = rangepb.ReplicaType_LEARNER
		}
		nd.Replicas = append(nd.Replicas, rd)
	}
	nd.Generation++
	return nd
}
