package kvserver

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// adminCommand serves an admin method (rangepb.IsAdmin): a request that
// comes alone in its batch and runs its own protocol (leases, replica
// changes, splits, merges, consistency checks) rather than being evaluated
// under latches.
type adminCommand func(r *Replica, ctx context.Context, req rangepb.Request) (*rangepb.ResponseUnion, error)

var adminCommands [rangepb.NumMethods]adminCommand

func registerAdminCommand(m rangepb.Method, c adminCommand) {
	if commands[m] != nil || adminCommands[m] != nil {
		panic(errors.AssertionFailedf("method %s registered twice", m))
	}
	adminCommands[m] = c
}

func init() {
	registerAdminCommand(rangepb.RequestLease, func(r *Replica, ctx context.Context, _ rangepb.Request) (*rangepb.ResponseUnion, error) {
		l, err := r.redirectOrAcquireLease(ctx)
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_RequestLease{RequestLease: &rangepb.RequestLeaseResponse{Lease: l}}}, err
	})
	registerAdminCommand(rangepb.TransferLease, func(r *Replica, ctx context.Context, req rangepb.Request) (*rangepb.ResponseUnion, error) {
		err := r.transferLease(ctx, req.(*rangepb.TransferLeaseRequest).Target)
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_TransferLease{TransferLease: &rangepb.TransferLeaseResponse{}}}, err
	})
	registerAdminCommand(rangepb.ChangeReplicas, func(r *Replica, ctx context.Context, req rangepb.Request) (*rangepb.ResponseUnion, error) {
		desc, err := r.changeReplicas(ctx, req.(*rangepb.ChangeReplicasRequest))
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_ChangeReplicas{ChangeReplicas: &rangepb.ChangeReplicasResponse{Desc: desc}}}, err
	})
	registerAdminCommand(rangepb.ComputeChecksum, func(r *Replica, ctx context.Context, _ rangepb.Request) (*rangepb.ResponseUnion, error) {
		cr, err := r.computeChecksum(ctx)
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_ComputeChecksum{ComputeChecksum: cr}}, err
	})
	registerAdminCommand(rangepb.CollectChecksum, func(r *Replica, ctx context.Context, req rangepb.Request) (*rangepb.ResponseUnion, error) {
		cr, err := r.collectChecksum(ctx, req.(*rangepb.CollectChecksumRequest))
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_CollectChecksum{CollectChecksum: cr}}, err
	})
	registerAdminCommand(rangepb.AdminSplit, func(r *Replica, ctx context.Context, req rangepb.Request) (*rangepb.ResponseUnion, error) {
		sr, err := r.adminSplit(ctx, req.(*rangepb.AdminSplitRequest))
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_AdminSplit{AdminSplit: sr}}, err
	})
	registerAdminCommand(rangepb.AdminMerge, func(r *Replica, ctx context.Context, _ rangepb.Request) (*rangepb.ResponseUnion, error) {
		mr, err := r.adminMerge(ctx)
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_AdminMerge{AdminMerge: mr}}, err
	})
	registerAdminCommand(rangepb.Subsume, func(r *Replica, ctx context.Context, req rangepb.Request) (*rangepb.ResponseUnion, error) {
		sr, err := r.subsume(ctx, req.(*rangepb.SubsumeRequest))
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Subsume{Subsume: sr}}, err
	})
	registerAdminCommand(rangepb.WaitApplied, func(r *Replica, ctx context.Context, req rangepb.Request) (*rangepb.ResponseUnion, error) {
		err := r.waitApplied(ctx, req.(*rangepb.WaitAppliedRequest).AppliedIndex)
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_WaitApplied{WaitApplied: &rangepb.WaitAppliedResponse{}}}, err
	})
}

// maybeAdmin serves an admin request (which must come alone in a batch);
// handled is false for any other.
func (r *Replica) maybeAdmin(ctx context.Context, ru *rangepb.RequestUnion) (_ *rangepb.BatchResponse, handled bool, _ error) {
	req := ru.Inner()
	if req == nil || !req.Method().Flags().Has(rangepb.IsAdmin) {
		return nil, false, nil
	}
	res, err := adminCommands[req.Method()](r, ctx, req)
	if err != nil {
		return nil, true, err
	}
	return &rangepb.BatchResponse{Responses: []*rangepb.ResponseUnion{res}}, true, nil
}

// proposeAdmin proposes a command under the current lease and waits.
func (r *Replica) proposeAdmin(ctx context.Context, res *rangepb.ReplicatedResult, cc *raftpb.ConfChangeV2) error {
	l, err := r.redirectOrAcquireLease(ctx)
	if err != nil {
		return err
	}
	p := newProposal(&rangepb.RaftCommand{ProposerLeaseSequence: l.Sequence, Result: res}, &rangepb.BatchResponse{})
	p.confChange = cc
	// No latches held: an outcome still pending concerns nobody here.
	_, _, err = r.proposeAndWait(ctx, p)
	return err
}

// changeReplicas applies changes one at a time, each through joint
// consensus: an added replica joins as a learner, gets a snapshot,
// catches up, then is promoted in a joint configuration; a removed one is
// demoted to a learner in a joint configuration, then removed. Raft leaves
// each joint configuration by itself once it commits.
//
// One request's changes are made together: another request for the same
// range waits for them (changeMu), and one that carries exp_generation is
// refused if they changed the range.
func (r *Replica) changeReplicas(ctx context.Context, req *rangepb.ChangeReplicasRequest) (*rangepb.RangeDescriptor, error) {
	// The leaseholder changes replicas: a replica that lost the lease
	// redirects the request (before judging it by its own place in the
	// range: "the leaseholder cannot be removed" is about the leaseholder).
	if _, err := r.redirectOrAcquireLease(ctx); err != nil {
		return nil, err
	}
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	if exp := req.ExpGeneration; exp != 0 {
		if g := r.Desc().GetGeneration(); g != exp {
			return nil, errors.Newf("r%d changed since the replica change was decided (generation %d, decided at %d): decide again", r.rangeID, g, exp)
		}
	}
	for _, c := range req.Changes {
		var err error
		switch c.Type {
		case rangepb.ChangeType_ADD_VOTER:
			err = r.addVoter(ctx, NodeID(c.NodeId), c.StoreId)
		case rangepb.ChangeType_REMOVE_VOTER:
			err = r.removeVoter(ctx, NodeID(c.NodeId))
		default:
			err = errors.Newf("unknown replica change %v", c.Type)
		}
		if err != nil {
			return nil, err
		}
	}
	return r.Desc(), nil
}

func (r *Replica) addVoter(ctx context.Context, node NodeID, storeID int32) error {
	desc, err := r.waitNotJoint(ctx)
	if err != nil {
		return err
	}
	if rd := replicaByNode(desc, node); rd != nil {
		if rd.Type == rangepb.ReplicaType_VOTER_FULL {
			return errors.Newf("r%d already has a voter on node %d", r.rangeID, node)
		}
	} else {
		// 1. Add a learner.
		nd := proto.Clone(desc).(*rangepb.RangeDescriptor)
		if nd.NextReplicaId == 0 {
			nd.NextReplicaId = maxReplicaID(nd) + 1
		}
		if storeID == 0 {
			storeID = int32(node)
		}
		nd.Replicas = append(nd.Replicas, &rangepb.ReplicaDescriptor{
			NodeId: int32(node), StoreId: storeID, ReplicaId: nd.NextReplicaId, Type: rangepb.ReplicaType_LEARNER,
		})
		nd.NextReplicaId++
		nd.Generation++
		id := nd.Replicas[len(nd.Replicas)-1].ReplicaId
		cc := &raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode, NodeID: uint64(id)}}}
		if err := r.proposeAdmin(ctx, &rangepb.ReplicatedResult{ChangeReplicasDesc: nd}, cc); err != nil {
			return errors.Wrapf(err, "adding a learner on node %d", node)
		}
	}
	// 2. Wait for it to catch up (from a snapshot, or the log).
	rd := replicaByNode(r.Desc(), node)
	if rd == nil {
		return errors.Newf("r%d: learner on node %d vanished", r.rangeID, node)
	}
	if err := r.waitCaughtUp(ctx, rd.ReplicaId); err != nil {
		return err
	}
	// 3. Promote it, through a joint configuration.
	if err := r.changeInJointConfig(ctx, r.Desc(), rd.ReplicaId,
		rangepb.ReplicaType_VOTER_INCOMING, raftpb.ConfChangeAddNode); err != nil {
		return errors.Wrapf(err, "promoting the learner on node %d", node)
	}
	_, err = r.waitNotJoint(ctx)
	return err
}

func (r *Replica) removeVoter(ctx context.Context, node NodeID) error {
	desc, err := r.waitNotJoint(ctx)
	if err != nil {
		return err
	}
	rd := replicaByNode(desc, node)
	if rd == nil {
		return errors.Newf("r%d has no replica on node %d", r.rangeID, node)
	}
	if rd.ReplicaId == r.ReplicaID() {
		return errors.Newf("r%d: cannot remove the leaseholder (node %d): transfer the lease first", r.rangeID, node)
	}
	if rd.Type == rangepb.ReplicaType_VOTER_FULL {
		// 1. Demote to a learner, through a joint configuration.
		if err := r.changeInJointConfig(ctx, desc, rd.ReplicaId,
			rangepb.ReplicaType_VOTER_DEMOTING_LEARNER, raftpb.ConfChangeAddLearnerNode); err != nil {
			return errors.Wrapf(err, "demoting the voter on node %d", node)
		}
		if desc, err = r.waitNotJoint(ctx); err != nil {
			return err
		}
	}
	// 2. Remove the learner.
	nd := proto.Clone(desc).(*rangepb.RangeDescriptor)
	nd.Replicas = nd.Replicas[:0]
	for _, x := range desc.Replicas {
		if x.ReplicaId != rd.ReplicaId {
			nd.Replicas = append(nd.Replicas, x)
		}
	}
	nd.Generation++
	cc := &raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeRemoveNode, NodeID: uint64(rd.ReplicaId)}}}
	return errors.Wrapf(r.proposeAdmin(ctx, &rangepb.ReplicatedResult{ChangeReplicasDesc: nd}, cc),
		"removing the learner on node %d", node)
}

// changeInJointConfig enters a joint configuration that changes one
// replica: it becomes typ in the descriptor and ct for Raft. Raft leaves the
// joint configuration by itself once it commits (see waitNotJoint).
func (r *Replica) changeInJointConfig(ctx context.Context, desc *rangepb.RangeDescriptor, id int32,
	typ rangepb.ReplicaType, ct raftpb.ConfChangeType) error {
	nd := proto.Clone(desc).(*rangepb.RangeDescriptor)
	for _, x := range nd.Replicas {
		if x.ReplicaId == id {
			x.Type = typ
		}
	}
	nd.Generation++
	cc := &raftpb.ConfChangeV2{
		Transition: raftpb.ConfChangeTransitionJointImplicit,
		Changes:    []raftpb.ConfChangeSingle{{Type: ct, NodeID: uint64(id)}},
	}
	return r.proposeAdmin(ctx, &rangepb.ReplicatedResult{ChangeReplicasDesc: nd}, cc)
}

func maxReplicaID(desc *rangepb.RangeDescriptor) int32 {
	m := int32(0)
	for _, rd := range desc.Replicas {
		m = max(m, rd.ReplicaId)
	}
	return m
}

func isJoint(desc *rangepb.RangeDescriptor) bool {
	for _, rd := range desc.Replicas {
		switch rd.Type {
		case rangepb.ReplicaType_VOTER_INCOMING, rangepb.ReplicaType_VOTER_OUTGOING, rangepb.ReplicaType_VOTER_DEMOTING_LEARNER:
			return true
		}
	}
	return false
}

// pollInterval paces the admin waits below, which watch Raft progress that
// has no notification of its own.
const pollInterval = 5 * time.Millisecond

// waitNotJoint waits until the descriptor has left any joint configuration.
func (r *Replica) waitNotJoint(ctx context.Context) (*rangepb.RangeDescriptor, error) {
	for {
		if d := r.Desc(); !isJoint(d) {
			return d, nil
		}
		if err := sleepCtx(ctx, pollInterval); err != nil {
			return nil, errors.Wrap(err, "waiting to leave the joint configuration")
		}
	}
}

// waitCaughtUp waits until replica id has everything this replica applied.
func (r *Replica) waitCaughtUp(ctx context.Context, id int32) error {
	target := r.AppliedIndex()
	notLeader := 0
	maxNotLeader := int(3 * time.Duration(r.store.cfg.RaftElectionTicks) * r.store.cfg.RaftTickInterval / pollInterval)
	for {
		st := r.RaftStatus()
		if st == nil {
			return errors.Newf("r%d: no raft group", r.rangeID)
		}
		if st.RaftState != raft.StateLeader {
			// Only the leader sees the learner's progress: ask it for
			// leadership (and wake the range, so that it ticks), and wait a
			// few election timeouts for it.
			if notLeader++; notLeader > maxNotLeader {
				return &NotLeaseHolderError{RangeId: int64(r.rangeID), Reason: "this leaseholder does not lead raft while a learner catches up"}
			}
			r.mu.Lock()
			r.unquiesceLocked()
			r.requestRaftLeadershipLocked()
			r.mu.Unlock()
		} else if pr, ok := st.Progress[uint64(id)]; ok && pr.Match >= target {
			return nil
		}
		if err := sleepCtx(ctx, pollInterval); err != nil {
			return errors.Wrapf(err, "waiting for replica %d to catch up", id)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// computeChecksum has every replica hash its data at the same applied
// index (a Raft command marks the point), collects the results from the
// other replicas and compares them. It fails, naming the replicas, if any
// differ. A replica that reached the point by a snapshot never computes it;
// then the check runs again.
func (r *Replica) computeChecksum(ctx context.Context) (*rangepb.ComputeChecksumResponse, error) {
	for attempt := 0; ; attempt++ {
		id := binary.BigEndian.AppendUint64(nil, rand.Uint64())
		if err := r.proposeAdmin(ctx, &rangepb.ReplicatedResult{ChecksumId: id}, nil); err != nil {
			return nil, err
		}
		sum, idx, _ := r.Checksum(id)
		desc := r.Desc()
		self := r.ReplicaID()
		resp := &rangepb.ComputeChecksumResponse{ChecksumId: id, Checksums: []*rangepb.ReplicaChecksum{{
			Replica: replicaByID(desc, self), Checksum: sum, AppliedIndex: idx,
		}}}
		skipped := false
		for _, rd := range desc.Replicas {
			if rd.ReplicaId == self {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			br, err := r.store.transport.SendBatch(cctx, NodeID(rd.NodeId), &rangepb.BatchRequest{
				Header: &rangepb.BatchHeader{RangeId: int64(r.rangeID), Replica: rd},
				Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_CollectChecksum{
					CollectChecksum: &rangepb.CollectChecksumRequest{ChecksumId: id, AppliedIndex: idx},
				}}},
			})
			cancel()
			if err != nil {
				return nil, errors.Wrapf(err, "r%d: collecting the checksum of replica %d on node %d", r.rangeID, rd.ReplicaId, rd.NodeId)
			}
			cr := br.Responses[0].GetCollectChecksum()
			if cr.GetSkipped() {
				skipped = true
				continue
			}
			theirs := cr.GetChecksum()
			resp.Checksums = append(resp.Checksums, theirs)
			if theirs.GetAppliedIndex() != idx || string(theirs.GetChecksum()) != string(sum) {
				return resp, errors.Newf("r%d is inconsistent: replica %d on node %d has checksum %x at applied index %d, replica %d on node %d has %x at %d",
					r.rangeID, self, r.store.nodeID, sum, idx, rd.ReplicaId, rd.NodeId, theirs.GetChecksum(), theirs.GetAppliedIndex())
			}
		}
		if !skipped || attempt >= 5 {
			if skipped {
				return nil, errors.Newf("r%d: replicas kept catching up by snapshot past the consistency check", r.rangeID)
			}
			return resp, nil
		}
	}
}

// collectChecksum returns this replica's result of consistency check id
// once it has applied the check's index.
func (r *Replica) collectChecksum(ctx context.Context, req *rangepb.CollectChecksumRequest) (*rangepb.CollectChecksumResponse, error) {
	for r.AppliedIndex() < req.AppliedIndex {
		if err := sleepCtx(ctx, pollInterval); err != nil {
			return nil, errors.Wrapf(err, "r%d: waiting to apply index %d for a consistency check", r.rangeID, req.AppliedIndex)
		}
	}
	sum, idx, ok := r.Checksum(req.ChecksumId)
	if !ok {
		return &rangepb.CollectChecksumResponse{Skipped: true}, nil
	}
	return &rangepb.CollectChecksumResponse{Checksum: &rangepb.ReplicaChecksum{
		Replica: replicaByID(r.Desc(), r.ReplicaID()), Checksum: sum, AppliedIndex: idx,
	}}, nil
}

// Checksum returns the result of the consistency check id, once this
// replica has applied it.
func (r *Replica) Checksum(id []byte) (sum []byte, appliedIndex uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.mu.checksums[string(id)]
	return c.checksum, c.appliedIndex, ok
}

// maybeTruncateLog, on the leaseholder that leads Raft, truncates the log
// once it is longer than the threshold, up to the index a quorum has and
// this replica has applied. Followers further behind get a snapshot.
func (r *Replica) maybeTruncateLog() {
	r.mu.Lock()
	if r.mu.raftGroup == nil || r.mu.lease.GetReplica().GetReplicaId() != r.mu.replicaID ||
		r.mu.lastIndex-r.mu.truncated.Index <= r.store.cfg.RaftLogTruncationThreshold {
		r.mu.Unlock()
		return
	}
	st := r.mu.raftGroup.Status()
	if st.RaftState != raft.StateLeader {
		r.mu.Unlock()
		return
	}
	var matches []uint64
	for _, pr := range st.Progress {
		if !pr.IsLearner {
			matches = append(matches, pr.Match)
		}
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i] > matches[j] })
	quorum := matches[len(matches)/2]
	index := min(quorum, r.mu.state.RaftAppliedIndex)
	if index <= r.mu.truncated.Index {
		r.mu.Unlock()
		return
	}
	term, err := (*replicaRaftStorage)(r).Term(index)
	lease := r.mu.lease
	r.mu.Unlock()
	if err != nil {
		return
	}
	p := newProposal(&rangepb.RaftCommand{
		ProposerLeaseSequence: lease.Sequence,
		Result:                &rangepb.ReplicatedResult{TruncateIndex: index, TruncateTerm: term},
	}, &rangepb.BatchResponse{})
	r.mu.Lock()
	_ = r.proposeLocked(p)
	r.mu.Unlock()
}

// ChecksumIDs lists the consistency checks this replica has results for.
func (r *Replica) ChecksumIDs() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]byte, 0, len(r.mu.checksums))
	for id := range r.mu.checksums {
		out = append(out, []byte(id))
	}
	return out
}
