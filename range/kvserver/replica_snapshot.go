package kvserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"math"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// replicatedSpans are the spans of a range's replicated data, in key order
// (a snapshot's SST is written in it): its replicated range-ID keys, then
// the range-local keys anchored at its keys (transaction records), its user
// keys' lock records and its user keys. A snapshot carries exactly these; a
// consistency check hashes them; a split hands all but the first over to
// the right-hand range.
func replicatedSpans(desc *rangepb.RangeDescriptor) []kv.Span {
	start := desc.StartKey
	if bytes.Compare(start, kv.LocalMax) < 0 {
		start = kv.LocalMax
	}
	end := desc.EndKey
	if len(end) == 0 {
		end = kv.KeyMax
	}
	return []kv.Span{
		replicatedSpan(RangeID(desc.RangeId)),
		rangeLocalSpan(start, end),
		{Key: kv.LockTableKey(start), EndKey: kv.LockTableKey(end)},
		{Key: start, EndKey: end},
	}
}

// rangeLocalSpan is the span of the range-local keys anchored in [start,
// end): the anchor encoding preserves order and no anchor's encoding is a
// prefix of another's, so they sort between the encodings of the bounds.
func rangeLocalSpan(start, end []byte) kv.Span {
	return kv.Span{
		Key:    encoding.EncodeBytesAscending(append([]byte(nil), kv.LocalRangePrefix...), start),
		EndKey: encoding.EncodeBytesAscending(append([]byte(nil), kv.LocalRangePrefix...), end),
	}
}

func decodeEntry(b []byte) (raftpb.Entry, error) {
	var e raftpb.Entry
	return e, errors.Wrap(e.Unmarshal(b), "decoding raft log entry")
}

// sendSnapshotAsync streams a snapshot to a replica Raft found too far
// behind. The snapshot is read from a consistent view of the engine, and
// the Raft metadata is set to the applied state that view holds, which may
// be newer than the index Raft asked for: the receiver then just has less
// log to catch up.
func (r *Replica) sendSnapshotAsync(m raftpb.Message, to *rangepb.ReplicaDescriptor) {
	err := r.store.stopper.RunAsyncTask("send-snapshot", func(ctx context.Context) {
		err := r.sendSnapshot(ctx, m, to)
		status := raft.SnapshotFinish
		if err != nil {
			status = raft.SnapshotFailure
		}
		r.mu.Lock()
		if r.mu.raftGroup != nil {
			r.mu.raftGroup.ReportSnapshot(m.To, status)
		}
		r.mu.Unlock()
	})
	if err != nil {
		r.mu.Lock()
		if r.mu.raftGroup != nil {
			r.mu.raftGroup.ReportSnapshot(m.To, raft.SnapshotFailure)
		}
		r.mu.Unlock()
	}
}

func (r *Replica) sendSnapshot(ctx context.Context, m raftpb.Message, to *rangepb.ReplicaDescriptor) error {
	snap := r.store.engine.NewSnapshot()
	defer snap.Close()
	desc := &rangepb.RangeDescriptor{}
	if found, err := loadProto(snap, descKey(r.rangeID), desc); err != nil || !found {
		return errors.Newf("r%d: no descriptor to snapshot", r.rangeID)
	}
	state := &rangepb.RangeAppliedState{}
	if _, err := loadProto(snap, appliedStateKey(r.rangeID), state); err != nil {
		return err
	}
	sst, err := kv.ExportSST(snap, replicatedSpans(desc)...)
	if err != nil {
		return err
	}
	m.Snapshot = &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
		Index: state.RaftAppliedIndex, Term: state.RaftAppliedTerm, ConfState: confStateFromDesc(desc),
	}}
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	r.mu.Lock()
	from := r.replicaDescLocked(r.mu.replicaID)
	r.mu.Unlock()
	header := r.store.newBatchHeader(NodeID(to.NodeId))
	header.Messages = []*rangepb.RaftMessage{{
		RangeId: int64(r.rangeID), FromReplica: from, ToReplica: to, Message: data,
	}}
	return r.store.transport.SendSnapshot(ctx, NodeID(to.NodeId), &Snapshot{
		Header: header, Desc: desc, SST: sst, Checksum: crc32.Checksum(sst, crcTable),
	})
}

// HandleSnapshot receives a snapshot: it checks where it comes from and
// that it arrived intact, then hands its Raft message to the replica,
// keeping the data until Raft asks for it to be applied. Nothing is
// applied from a refused snapshot.
func (s *Store) HandleSnapshot(ctx context.Context, snap *Snapshot) error {
	return s.stopper.RunTask(ctx, "store-snapshot", func(ctx context.Context) error {
		return s.handleSnapshot(ctx, snap)
	})
}

func (s *Store) handleSnapshot(ctx context.Context, snap *Snapshot) error {
	h := snap.Header
	if h == nil || len(h.Messages) != 1 || snap.Desc == nil {
		return errors.New("malformed snapshot: missing header or descriptor")
	}
	if string(h.ClusterId) != string(s.cfg.ClusterID) {
		return errors.Newf("node %d refuses a snapshot from node %d: cluster ID mismatch", s.nodeID, h.FromNodeId)
	}
	if got := crc32.Checksum(snap.SST, crcTable); got != snap.Checksum {
		return errors.Newf("node %d refuses a corrupt snapshot of r%d: checksum %08x, expected %08x",
			s.nodeID, h.Messages[0].RangeId, got, snap.Checksum)
	}
	if err := kv.VerifySST(snap.SST, replicatedSpans(snap.Desc)...); err != nil {
		return errors.Wrapf(err, "node %d refuses the snapshot of r%d", s.nodeID, h.Messages[0].RangeId)
	}
	m := h.Messages[0]
	var msg raftpb.Message
	if err := msg.Unmarshal(m.Message); err != nil || msg.Type != raftpb.MsgSnap || msg.Snapshot == nil {
		return errors.New("malformed snapshot: bad raft message")
	}
	if RangeID(snap.Desc.RangeId) != RangeID(m.RangeId) {
		return errors.Newf("malformed snapshot: descriptor of r%d in a snapshot of r%d", snap.Desc.RangeId, m.RangeId)
	}
	for o := s.overlappingReplica(RangeID(m.RangeId), snap.Desc); o != nil; o = s.overlappingReplica(RangeID(m.RangeId), snap.Desc) {
		od := o.Desc()
		if descContainsSpan(snap.Desc, od) && snap.Desc.Generation > od.GetGeneration() {
			// A range merged into the snapshot's since this store's
			// replica of the left applied anything: the snapshot holds
			// its data now, and the range is gone for good (see
			// replica_merge.go).
			if err := s.removeReplica(o, math.MaxInt32); err != nil {
				return err
			}
			continue
		}
		// Typically the right-hand side of a split that this store's left
		// replica has not applied yet: the split trigger will initialize it
		// (see replica_split.go), or a later snapshot will fit.
		return errors.Newf("node %d refuses the snapshot of r%d [%q, %q): it overlaps r%d [%q, %q) here",
			s.nodeID, m.RangeId, snap.Desc.StartKey, snap.Desc.EndKey, od.GetRangeId(), od.GetStartKey(), od.GetEndKey())
	}
	r, err := s.getOrCreateReplica(RangeID(m.RangeId), m.ToReplica.GetReplicaId())
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.mu.destroyed != nil {
		err := r.mu.destroyed
		r.mu.Unlock()
		return err
	}
	r.mu.pendingSnapshot = snap
	r.unquiesceLocked()
	err = r.stepLocked(msg)
	r.mu.Unlock()
	r.store.scheduler.EnqueueReady(r.rangeID)
	return err
}

// descContainsSpan reports whether d's span lies within outer's.
func descContainsSpan(outer, d *rangepb.RangeDescriptor) bool {
	return d != nil && bytes.Compare(outer.StartKey, d.StartKey) <= 0 && bytes.Compare(descEndKey(d), descEndKey(outer)) <= 0
}

// applySnapshot replaces the replica's data with the snapshot's, as Raft
// asked in a Ready.
func (r *Replica) applySnapshot(ctx context.Context, rs raftpb.Snapshot) error {
	r.mu.Lock()
	snap := r.mu.pendingSnapshot
	r.mu.pendingSnapshot = nil
	oldDesc := r.mu.desc
	r.mu.Unlock()
	if snap == nil {
		return errors.AssertionFailedf("r%d: raft applies snapshot %d, but none was received", r.rangeID, rs.Metadata.Index)
	}
	var msg raftpb.Message
	if err := msg.Unmarshal(snap.Header.Messages[0].Message); err != nil || msg.Snapshot.Metadata.Index != rs.Metadata.Index {
		return errors.AssertionFailedf("r%d: snapshot %d does not match the one received", r.rangeID, rs.Metadata.Index)
	}
	eng := r.store.engine
	b := eng.NewWriteOnlyBatch()
	for _, d := range []*rangepb.RangeDescriptor{oldDesc, snap.Desc} {
		if d == nil {
			continue
		}
		for _, sp := range replicatedSpans(d) {
			if err := b.ClearRange(sp.Key, sp.EndKey); err != nil {
				b.Close()
				return err
			}
		}
	}
	if err := b.ClearRange(raftLogPrefix(r.rangeID), raftLogKey(r.rangeID, 1<<63)); err != nil {
		b.Close()
		return err
	}
	truncated := &rangepb.RaftTruncatedState{Index: rs.Metadata.Index, Term: rs.Metadata.Term}
	if err := putProto(b, truncatedKey(r.rangeID), truncated); err != nil {
		b.Close()
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	if err := eng.IngestSST(ctx, snap.SST); err != nil {
		return errors.Wrapf(err, "r%d: ingesting snapshot", r.rangeID)
	}
	state := &rangepb.RangeAppliedState{}
	if _, err := loadProto(eng, appliedStateKey(r.rangeID), state); err != nil {
		return err
	}
	lease := &rangepb.Lease{}
	hasLease, err := loadProto(eng, leaseKey(r.rangeID), lease)
	if err != nil {
		return err
	}
	r.store.snapshotsApplied.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.desc = snap.Desc
	r.mu.state = state
	if hasLease {
		r.mu.lease = lease
	}
	r.mu.truncated = truncated
	r.mu.entryCache.clear()
	r.mu.lastIndex, r.mu.lastTerm = truncated.Index, truncated.Term
	return nil
}

// clearReplicaData deletes a removed replica's data and writes the range's
// tombstone.
func clearReplicaData(eng kv.Engine, id RangeID, desc *rangepb.RangeDescriptor, nextReplicaID int32) error {
	// A tombstone never goes down (a second removal of the same replica
	// may come with a lower bound than the first, e.g. a merge's).
	if prev, err := loadTombstone(eng, id); err != nil {
		return err
	} else if prev > nextReplicaID {
		nextReplicaID = prev
	}
	b := eng.NewWriteOnlyBatch()
	defer b.Close()
	if desc != nil {
		for _, sp := range replicatedSpans(desc) {
			if err := b.ClearRange(sp.Key, sp.EndKey); err != nil {
				return err
			}
		}
	}
	sp := rangeIDSpan(id)
	if err := b.ClearRange(sp.Key, sp.EndKey); err != nil {
		return err
	}
	if err := b.Put(kv.MVCCKey{Key: tombstoneKey(id)}, binary.BigEndian.AppendUint32(nil, uint32(nextReplicaID))); err != nil {
		return err
	}
	return b.Commit(true)
}

// loadTombstone returns the lowest replica ID of the range this store may
// still host (0 if no replica of it was ever removed here).
func loadTombstone(rd kv.Reader, id RangeID) (int32, error) {
	b, err := rd.Get(kv.MVCCKey{Key: tombstoneKey(id)})
	if err != nil || b == nil {
		return 0, err
	}
	if len(b) != 4 {
		return 0, errors.Newf("r%d: corrupt replica tombstone of %d bytes", id, len(b))
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// rangeChecksum hashes a range's replicated data as rd holds it, together
// with its stats (the applied state itself is skipped: when it was last
// written differs between replicas).
func rangeChecksum(rd kv.Reader, desc *rangepb.RangeDescriptor, stats *rangepb.MVCCStats) ([]byte, error) {
	h := sha256.New()
	skip := appliedStateKey(RangeID(desc.RangeId))
	for _, sp := range replicatedSpans(desc) {
		it, err := rd.NewIterator(kv.IterOptions{LowerBound: sp.Key, UpperBound: sp.EndKey})
		if err != nil {
			return nil, err
		}
		for it.SeekGE(kv.MVCCKey{Key: sp.Key}); ; it.Next() {
			ok, err := it.Valid()
			if err != nil {
				it.Close()
				return nil, err
			}
			if !ok {
				break
			}
			k := it.UnsafeKey()
			if k.Timestamp.IsEmpty() && bytes.Equal(k.Key, skip) {
				continue
			}
			v, err := it.UnsafeValue()
			if err != nil {
				it.Close()
				return nil, err
			}
			h.Write(kv.EncodeMVCCKey(k))
			h.Write(v)
		}
		it.Close()
	}
	sb, err := proto.MarshalOptions{Deterministic: true}.Marshal(stats)
	if err != nil {
		return nil, err
	}
	h.Write(sb)
	return h.Sum(nil), nil
}
