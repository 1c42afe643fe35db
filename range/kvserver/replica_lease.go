package kvserver

import (
	"context"
	"fmt"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3"
)

// Leases come in two kinds.
//
// Expiration-based: a lease is valid from Start to Expiration on the
// holder's clock. The holder serves only before Expiration − MaxOffset (the
// stasis period), and another replica takes over only after Expiration on
// its own clock; clocks within MaxOffset of each other make the two
// intervals disjoint in real time, so two replicas never both serve. The
// holder extends the lease ahead of its expiration while it is in use.
//
// Epoch-based (StoreConfig.NodeLiveness set): a lease carries the epoch of
// its holder's node liveness record and no expiration. The holder serves
// while its own record still has that epoch and has not entered the
// stasis period of its expiration (Expiration − MaxOffset); the node's
// heartbeats extend the record, so idle epoch leases cost nothing. Another
// replica takes over only in two steps, as in CockroachDB: first it
// increments the holder's epoch in the liveness range, a conditional put on
// the exact record it saw, which it attempts only once that record's
// expiration has passed on its own clock; then it proposes its lease,
// carrying the holder's record at the higher epoch.
//
// Why two epoch leases never overlap. The holder H of a lease at epoch E
// serves only while a record (H, E, X) it wrote or read is before X −
// MaxOffset on its clock. Records at epoch E are written only by H's own
// heartbeats, each a conditional put on the previous record, so the last
// one, (H, E, Xlast), bounds every X that H can know of. The increment is a
// conditional put on that last record, made after Xlast on the incrementer's
// clock: by then H's clock is past Xlast − MaxOffset, so H has stopped
// serving, and H's later heartbeats fail their condition, so H never
// extends epoch E again; epochs only grow, so H never again finds E current.
// The new lease applies only if the log still names the lease it replaces
// (PrevLeaseSequence) and the command shows the holder's record past E; both
// are checked identically on every replica (checkCommand). A restarted node
// increments its own epoch in its first heartbeat, before it serves
// anything, so the leases of its previous incarnation stay dead.
//
// Either way, every lease change is a Raft command checked at apply time
// against the lease it replaces (checkCommand), so all replicas agree on one
// lease sequence. Transfers create a lease of the range's kind for the
// target, proposed under the current lease, which stops serving at once.

// NodeLiveness is what epoch-based leases need of node liveness; package
// liveness implements it. Records it returns are never modified.
type NodeLiveness interface {
	// GetLiveness returns the newest liveness record of node this node
	// knows of; for itself, the newest one it wrote or read.
	GetLiveness(node NodeID) (*rangepb.Liveness, bool)
	// IncrementEpoch ends rec's epoch: it succeeds only if the stored
	// record is still rec's epoch and has expired on this node's clock,
	// and also (returning nil) if the epoch has already moved past rec's.
	// On success GetLiveness returns the record at the higher epoch.
	IncrementEpoch(ctx context.Context, rec *rangepb.Liveness) error
}

// leaseState is what a lease allows at one moment, as one replica sees it.
type leaseState int

const (
	// leaseValid: the holder may serve.
	leaseValid leaseState = iota
	// leaseStasis: no replica may serve or take over: the lease is within
	// MaxOffset of its end, or this replica does not know enough of the
	// holder's liveness to tell.
	leaseStasis
	// leaseExpired: another replica may take over.
	leaseExpired
	// leaseHolderNotLive: an epoch lease whose holder's liveness record
	// expired at the lease's epoch: another replica may take over once it
	// has incremented the holder's epoch.
	leaseHolderNotLive
)

// leaseStatus is a lease's state, with the holder's liveness record for an
// epoch-based lease.
type leaseStatus struct {
	state    leaseState
	liveness *rangepb.Liveness
}

// isEpochLease reports whether l is epoch-based.
func isEpochLease(l *rangepb.Lease) bool { return l.GetEpoch() > 0 }

// useEpochLeases reports whether this range's new leases are epoch-based.
func (r *Replica) useEpochLeases() bool {
	if r.store.cfg.NodeLiveness == nil {
		return false
	}
	for _, id := range r.store.cfg.ExpirationLeaseRanges {
		if id == r.rangeID {
			return false
		}
	}
	return true
}

// leaseStatusAt classifies l at now.
func (r *Replica) leaseStatusAt(l *rangepb.Lease, now hlc.Timestamp) leaseStatus {
	maxOffset := int64(r.store.clock.MaxOffset())
	classify := func(exp hlc.Timestamp) leaseState {
		switch {
		case now.Less(exp.Add(-maxOffset, 0)):
			return leaseValid
		case now.LessEq(exp):
			return leaseStasis
		default:
			return leaseExpired
		}
	}
	if l == nil {
		return leaseStatus{state: leaseExpired}
	}
	if !isEpochLease(l) {
		return leaseStatus{state: classify(tsFromProto(l.Expiration))}
	}
	nl := r.store.cfg.NodeLiveness
	if nl == nil {
		// An epoch lease on a store configured without liveness: nothing
		// here can tell when it ends, so nothing here may serve or take
		// over. Only a misconfiguration leads here.
		return leaseStatus{state: leaseStasis}
	}
	rec, ok := nl.GetLiveness(NodeID(l.Replica.GetNodeId()))
	switch {
	case !ok || rec.Epoch < l.Epoch:
		// The lease is newer than what we know of its holder's liveness:
		// wait for the liveness cache to catch up.
		return leaseStatus{state: leaseStasis}
	case rec.Epoch > l.Epoch:
		return leaseStatus{state: leaseExpired, liveness: rec}
	}
	st := leaseStatus{state: classify(tsFromProto(rec.Expiration)), liveness: rec}
	if st.state == leaseExpired {
		st.state = leaseHolderNotLive
	}
	return st
}

// NotLeaseHolderError is returned by a replica that cannot serve a request
// because it does not hold a valid lease. Lease, when known, names the
// replica to try instead.
type NotLeaseHolderError = rangepb.NotLeaseHolderError

// installLeaseLocked makes l the current lease in memory once applied.
func (r *Replica) installLeaseLocked(l *rangepb.Lease) {
	if r.mu.lease.GetSequence() != l.GetSequence() {
		// The lock table is the leaseholder's: what it knew under another
		// lease may be stale, and a replica that lost the lease must send
		// its waiters on (to find the new leaseholder).
		r.concurrency().ReleaseAll()
	}
	r.mu.lease = l
	r.mu.transferring = false
	if l.Replica.GetReplicaId() == r.mu.replicaID {
		// Our clock must not be behind the lease start: writes under the
		// lease happen after it.
		_, _ = r.store.clock.Update(tsFromProto(l.Start))
	}
}

// redirectOrAcquireLease returns nil once this replica holds a lease valid
// for serving now, requesting or extending it when needed; otherwise a
// NotLeaseHolderError.
func (r *Replica) redirectOrAcquireLease(ctx context.Context) (*rangepb.Lease, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, errors.Wrap(err, "waiting for the lease")
		}
		r.mu.Lock()
		if r.mu.destroyed != nil {
			err := r.mu.destroyed
			r.mu.Unlock()
			return nil, err
		}
		now := r.store.clock.Now()
		l := r.mu.lease
		me := r.mu.replicaID
		if r.mu.transferring {
			r.mu.Unlock()
			return nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Reason: "lease transfer in progress"}
		}
		st := r.leaseStatusAt(l, now)
		mine := l != nil && l.Replica.GetReplicaId() == me
		if mine && st.state == leaseValid {
			// An epoch lease lives on its node's heartbeats. An
			// expiration-based one is extended ahead of time, without
			// making anyone wait; one of the kind the range no longer uses
			// (liveness switched on or off) is replaced the same way.
			if r.mu.pendingLease == nil {
				switch {
				case isEpochLease(l) != r.useEpochLeases():
					_ = r.requestLeaseLocked(now, st)
				case !isEpochLease(l):
					renewAt := tsFromProto(l.Expiration).Add(-int64(r.store.cfg.LeaseDuration)/2, 0)
					if !now.Less(renewAt) {
						_ = r.requestLeaseLocked(now, st)
					}
				}
			}
			r.mu.Unlock()
			return l, nil
		}
		if !mine && l != nil && (st.state == leaseValid || st.state == leaseStasis) {
			r.mu.Unlock()
			return nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Lease: l, Reason: "another replica holds the lease"}
		}
		// No usable lease. Only the Raft leader asks for it, so that the
		// leaseholder is where proposals commit fastest, or the replica
		// whose own lease ended: it may be the only one that knows (its
		// epoch moved on while the others' liveness caches still show the
		// old epoch live, and point here).
		if r.mu.raftGroup == nil {
			r.mu.Unlock()
			return nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Reason: "replica not initialized"}
		}
		r.unquiesceLocked()
		rs := r.mu.raftGroup.BasicStatus()
		if rs.RaftState != raft.StateLeader && !mine {
			var hint *rangepb.Lease
			if rs.Lead != 0 {
				if rd := replicaByID(r.mu.desc, int32(rs.Lead)); rd != nil {
					hint = &rangepb.Lease{Replica: rd}
				}
			}
			r.mu.Unlock()
			return nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Lease: hint, Reason: "no valid lease, and this replica is not the raft leader"}
		}
		if !mine && st.state == leaseHolderNotLive {
			// The holder's liveness expired at the lease's epoch: end that
			// epoch first, so the holder can never serve under it again.
			r.mu.Unlock()
			if err := r.store.cfg.NodeLiveness.IncrementEpoch(ctx, st.liveness); err != nil {
				return nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Lease: l,
					Reason: fmt.Sprintf("the leaseholder's liveness expired but its epoch could not be incremented: %v", err)}
			}
			continue
		}
		p := r.mu.pendingLease
		if p == nil {
			if err := r.requestLeaseLocked(now, st); err != nil {
				r.mu.Unlock()
				return nil, err
			}
			p = r.mu.pendingLease
		}
		r.mu.Unlock()
		select {
		case err := <-p.done:
			p.finish(err) // leave the outcome for other waiters
			if err != nil {
				return nil, &NotLeaseHolderError{RangeId: int64(r.rangeID), Reason: "lease request failed: " + err.Error()}
			}
		case <-ctx.Done():
			return nil, errors.Wrap(ctx.Err(), "waiting for the lease")
		}
	}
}

// requestLeaseLocked proposes a lease for this replica, of the kind the
// range uses: an extension (same sequence) of an expiration-based lease it
// holds, a new lease otherwise. st is the current lease's status; replacing
// another node's epoch lease needs the holder's record past its epoch.
func (r *Replica) requestLeaseLocked(now hlc.Timestamp, st leaseStatus) error {
	cur := r.mu.lease
	me := r.replicaDescLocked(r.mu.replicaID)
	nl := &rangepb.Lease{
		Start:      tsToProto(now),
		Replica:    me,
		ProposedTs: tsToProto(now),
		Sequence:   1,
	}
	if r.useEpochLeases() {
		self, ok := r.store.cfg.NodeLiveness.GetLiveness(r.store.nodeID)
		if !ok || !now.Less(tsFromProto(self.Expiration).Add(-int64(r.store.clock.MaxOffset()), 0)) {
			return &NotLeaseHolderError{RangeId: int64(r.rangeID), Lease: cur, Reason: "this node's liveness record is not live, so it cannot take an epoch-based lease"}
		}
		nl.Epoch = self.Epoch
	} else {
		nl.Expiration = tsToProto(now.Add(int64(r.store.cfg.LeaseDuration), 0))
	}
	var prevSeq int64
	var proof *rangepb.Liveness
	if cur != nil {
		prevSeq = cur.Sequence
		nl.Sequence = cur.Sequence + 1
		switch {
		case cur.Replica.GetReplicaId() == me.ReplicaId:
			if isEpochLease(cur) == isEpochLease(nl) && cur.Epoch == nl.Epoch {
				// Same holder, kind and epoch: an extension.
				nl.Start, nl.Sequence = cur.Start, cur.Sequence
			}
		case isEpochLease(cur):
			if st.liveness == nil || st.liveness.NodeId != cur.Replica.GetNodeId() || st.liveness.Epoch <= cur.Epoch {
				return errors.AssertionFailedf("r%d: taking over an epoch lease without its holder's epoch having moved on", r.rangeID)
			}
			proof = st.liveness
		}
	}
	p := newProposal(&rangepb.RaftCommand{
		IsLeaseRequest: true,
		Result:         &rangepb.ReplicatedResult{NewLease: nl, PrevLeaseSequence: prevSeq, PrevHolderLiveness: proof},
	}, nil)
	if err := r.proposeLocked(p); err != nil {
		return err
	}
	r.mu.pendingLease = p
	return nil
}

// transferLease moves the lease to target. The holder stops serving at
// once, so nothing it serves can conflict with the new holder, whose lease
// starts now.
func (r *Replica) transferLease(ctx context.Context, target *rangepb.ReplicaDescriptor) error {
	l, err := r.redirectOrAcquireLease(ctx)
	if err != nil {
		return err
	}
	release, minStart, err := r.drainForLeaseTransfer(ctx)
	if err != nil {
		return err
	}
	defer release()
	r.mu.Lock()
	rd := replicaByID(r.mu.desc, target.GetReplicaId())
	if rd == nil && target != nil {
		rd = replicaByNode(r.mu.desc, NodeID(target.NodeId))
	}
	if rd == nil || rd.Type != rangepb.ReplicaType_VOTER_FULL {
		r.mu.Unlock()
		return errors.Newf("r%d: cannot transfer the lease to %v: not a voter of the range", r.rangeID, target)
	}
	if rd.ReplicaId == r.mu.replicaID {
		r.mu.Unlock()
		return nil
	}
	now := r.store.clock.Now()
	now.Forward(minStart)
	nl := &rangepb.Lease{
		Start:      tsToProto(now),
		Replica:    rd,
		ProposedTs: tsToProto(now),
		Sequence:   l.Sequence + 1,
	}
	if r.useEpochLeases() {
		// The target serves only while its record has this epoch and is
		// live; if our cache is behind and its epoch has moved on, the
		// lease is dead at birth and any replica may replace it.
		rec, ok := r.store.cfg.NodeLiveness.GetLiveness(NodeID(rd.NodeId))
		if !ok {
			r.mu.Unlock()
			return &NotLeaseHolderError{RangeId: int64(r.rangeID), Lease: l, Reason: fmt.Sprintf("cannot transfer the lease to node %d: its liveness is unknown", rd.NodeId)}
		}
		nl.Epoch = rec.Epoch
	} else {
		nl.Expiration = tsToProto(now.Add(int64(r.store.cfg.LeaseDuration), 0))
	}
	p := newProposal(&rangepb.RaftCommand{
		ProposerLeaseSequence: l.Sequence,
		Result:                &rangepb.ReplicatedResult{NewLease: nl, PrevLeaseSequence: l.Sequence},
	}, nil)
	r.mu.transferring = true
	if err := r.proposeLocked(p); err != nil {
		r.mu.transferring = false
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The transfer may still apply; until we know, keep not serving.
		return &AmbiguousResultError{Reason: "lease transfer: " + ctx.Err().Error()}
	}
}

// requestRaftLeadershipLocked asks the Raft leader, as the leaseholder, to
// hand leadership over (etcd raft forwards a follower's MsgTransferLeader
// to the leader, which waits until this replica has the whole log), at
// most once per election timeout. Admin work that watches Raft progress,
// which only the leader sees, needs it: leadership and the lease usually
// sit together, since only the leader asks for a lease, but the right-hand
// side of a split starts with a copy of the left's lease while any of its
// replicas may win its first election. (Not done on every tick: Raft drops
// proposals during a transfer, which costs writes a refresh interval.)
func (r *Replica) requestRaftLeadershipLocked() {
	if r.mu.raftGroup == nil || r.mu.lease.GetReplica().GetReplicaId() != r.mu.replicaID ||
		r.mu.ticks-r.mu.leadershipTransferTick < r.store.cfg.RaftElectionTicks {
		return
	}
	st := r.mu.raftGroup.BasicStatus()
	if st.RaftState != raft.StateFollower || st.Lead == 0 {
		return
	}
	r.mu.leadershipTransferTick = r.mu.ticks
	r.mu.raftGroup.TransferLeader(uint64(r.mu.replicaID))
	r.store.scheduler.EnqueueReady(r.rangeID)
}

// OwnsValidLease reports whether this replica holds a lease that is valid
// now: the replica that acts for the range (its replicate queue, a drain
// moving leases away) asks this before sending admin requests.
func (r *Replica) OwnsValidLease() bool {
	l := r.Lease()
	if l == nil || NodeID(l.Replica.GetNodeId()) != r.store.nodeID || l.Replica.GetReplicaId() != r.ReplicaID() {
		return false
	}
	return r.leaseStatusAt(l, r.store.clock.Now()).state == leaseValid
}
