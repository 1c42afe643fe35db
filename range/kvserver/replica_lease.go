package kvserver

import (
	"context"
	"fmt"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3"
)

// Leases, expiration-based: a lease is valid from Start to Expiration on
// the holder's clock. The holder serves only before Expiration − MaxOffset
// (the stasis period), and another replica takes over only after
// Expiration on its own clock; clocks within MaxOffset of each other make
// the two intervals disjoint in real time, so two replicas never both
// serve. Every lease change is a Raft command checked at apply time against
// the lease it replaces (checkCommand), so all replicas agree on one lease
// sequence.

// NotLeaseHolderError is returned by a replica that cannot serve a request
// because it does not hold a valid lease. Lease, when known, names the
// replica to try instead.
type NotLeaseHolderError struct {
	RangeID RangeID
	Lease   *rangepb.Lease
	Reason  string
}

func (e *NotLeaseHolderError) Error() string {
	s := fmt.Sprintf("r%d: not the leaseholder: %s", e.RangeID, e.Reason)
	if e.Lease != nil && e.Lease.Replica != nil {
		s += fmt.Sprintf("; try replica %d on node %d", e.Lease.Replica.ReplicaId, e.Lease.Replica.NodeId)
	}
	return s
}

// installLeaseLocked makes l the current lease in memory once applied.
func (r *Replica) installLeaseLocked(l *rangepb.Lease) {
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
			return nil, &NotLeaseHolderError{RangeID: r.rangeID, Reason: "lease transfer in progress"}
		}
		if l != nil && l.Replica.GetReplicaId() == me {
			exp := tsFromProto(l.Expiration)
			stasis := exp.Add(-int64(r.store.clock.MaxOffset()), 0)
			if now.Less(stasis) {
				// Valid. Extend ahead of time, without making anyone wait.
				renewAt := exp.Add(-int64(r.store.cfg.LeaseDuration)/2, 0)
				if !now.Less(renewAt) && r.mu.pendingLease == nil {
					_ = r.requestLeaseLocked(now)
				}
				r.mu.Unlock()
				return l, nil
			}
		} else if l != nil && now.LessEq(tsFromProto(l.Expiration)) {
			r.mu.Unlock()
			return nil, &NotLeaseHolderError{RangeID: r.rangeID, Lease: l, Reason: "another replica holds the lease"}
		}
		// No usable lease. Only the Raft leader asks for it, so that the
		// leaseholder is where proposals commit fastest.
		if r.mu.raftGroup == nil {
			r.mu.Unlock()
			return nil, &NotLeaseHolderError{RangeID: r.rangeID, Reason: "replica not initialized"}
		}
		r.unquiesceLocked()
		st := r.mu.raftGroup.BasicStatus()
		if st.RaftState != raft.StateLeader {
			var hint *rangepb.Lease
			if st.Lead != 0 {
				if rd := replicaByID(r.mu.desc, int32(st.Lead)); rd != nil {
					hint = &rangepb.Lease{Replica: rd}
				}
			}
			r.mu.Unlock()
			return nil, &NotLeaseHolderError{RangeID: r.rangeID, Lease: hint, Reason: "no valid lease, and this replica is not the raft leader"}
		}
		p := r.mu.pendingLease
		if p == nil {
			if err := r.requestLeaseLocked(now); err != nil {
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
				return nil, &NotLeaseHolderError{RangeID: r.rangeID, Reason: "lease request failed: " + err.Error()}
			}
		case <-ctx.Done():
			return nil, errors.Wrap(ctx.Err(), "waiting for the lease")
		}
	}
}

// requestLeaseLocked proposes a lease for this replica: an extension
// (same sequence) if it holds the current one, a new lease otherwise.
func (r *Replica) requestLeaseLocked(now hlc.Timestamp) error {
	cur := r.mu.lease
	me := r.replicaDescLocked(r.mu.replicaID)
	nl := &rangepb.Lease{
		Start:      tsToProto(now),
		Expiration: tsToProto(now.Add(int64(r.store.cfg.LeaseDuration), 0)),
		Replica:    me,
		ProposedTs: tsToProto(now),
		Sequence:   1,
	}
	var prevSeq int64
	if cur != nil {
		prevSeq = cur.Sequence
		if cur.Replica.GetReplicaId() == me.ReplicaId {
			nl.Start, nl.Sequence = cur.Start, cur.Sequence
		} else {
			nl.Sequence = cur.Sequence + 1
		}
	}
	p := newProposal(&rangepb.RaftCommand{
		IsLeaseRequest: true,
		Result:         &rangepb.ReplicatedResult{NewLease: nl, PrevLeaseSequence: prevSeq},
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
	nl := &rangepb.Lease{
		Start:      tsToProto(now),
		Expiration: tsToProto(now.Add(int64(r.store.cfg.LeaseDuration), 0)),
		Replica:    rd,
		ProposedTs: tsToProto(now),
		Sequence:   l.Sequence + 1,
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
