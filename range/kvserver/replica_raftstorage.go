package kvserver

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// replicaRaftStorage implements raft.Storage over the store's engine. Raft
// calls it with Replica.mu held, from the goroutine that holds the raft
// mutex or from a proposer, so it reads the cached indexes under mu.
type replicaRaftStorage Replica

var _ raft.Storage = (*replicaRaftStorage)(nil)

func (rs *replicaRaftStorage) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	r := (*Replica)(rs)
	hs, err := loadHardState(r.store.engine, r.rangeID)
	if err != nil {
		return raftpb.HardState{}, raftpb.ConfState{}, err
	}
	if r.mu.desc == nil {
		return hs, raftpb.ConfState{}, nil
	}
	return hs, confStateFromDesc(r.mu.desc), nil
}

func (rs *replicaRaftStorage) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	r := (*Replica)(rs)
	if lo <= r.mu.truncated.Index {
		return nil, raft.ErrCompacted
	}
	if hi > r.mu.lastIndex+1 {
		return nil, errors.AssertionFailedf("r%d: entries [%d,%d) beyond last index %d", r.rangeID, lo, hi, r.mu.lastIndex)
	}
	if ents, ok := r.mu.entryCache.get(lo, hi, maxSize); ok {
		return ents, nil
	}
	return loadEntries(r.store.engine, r.rangeID, lo, hi, maxSize)
}

func (rs *replicaRaftStorage) Term(i uint64) (uint64, error) {
	r := (*Replica)(rs)
	switch {
	case i == r.mu.truncated.Index:
		return r.mu.truncated.Term, nil
	case i < r.mu.truncated.Index:
		return 0, raft.ErrCompacted
	case i > r.mu.lastIndex:
		return 0, raft.ErrUnavailable
	case i == r.mu.lastIndex:
		return r.mu.lastTerm, nil
	}
	if t, ok := r.mu.entryCache.term(i); ok {
		return t, nil
	}
	ents, err := loadEntries(r.store.engine, r.rangeID, i, i+1, 0)
	if err != nil {
		return 0, err
	}
	if len(ents) != 1 {
		return 0, errors.AssertionFailedf("r%d: log entry %d missing", r.rangeID, i)
	}
	return ents[0].Term, nil
}

func (rs *replicaRaftStorage) LastIndex() (uint64, error) { return rs.mu.lastIndex, nil }

func (rs *replicaRaftStorage) FirstIndex() (uint64, error) { return rs.mu.truncated.Index + 1, nil }

// Snapshot returns the metadata of a snapshot at the applied index. The
// data is read when the snapshot is sent (see sendSnapshot), which also
// corrects the metadata to the state actually read.
func (rs *replicaRaftStorage) Snapshot() (raftpb.Snapshot, error) {
	r := (*Replica)(rs)
	if r.mu.desc == nil {
		return raftpb.Snapshot{}, raft.ErrSnapshotTemporarilyUnavailable
	}
	return raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
		Index:     r.mu.state.RaftAppliedIndex,
		Term:      r.mu.state.RaftAppliedTerm,
		ConfState: confStateFromDesc(r.mu.desc),
	}}, nil
}

func loadEntries(rd kv.Reader, id RangeID, lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	it, err := rd.NewIterator(kv.IterOptions{LowerBound: raftLogKey(id, lo), UpperBound: raftLogKey(id, hi)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var ents []raftpb.Entry
	var size uint64
	next := lo
	for it.SeekGE(kv.MVCCKey{Key: raftLogKey(id, lo)}); ; it.Next() {
		ok, err := it.Valid()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		v, err := it.UnsafeValue()
		if err != nil {
			return nil, err
		}
		var e raftpb.Entry
		if err := e.Unmarshal(v); err != nil {
			return nil, errors.Wrapf(err, "r%d: decoding raft log entry", id)
		}
		if e.Index != next {
			return nil, errors.AssertionFailedf("r%d: raft log has entry %d where %d belongs", id, e.Index, next)
		}
		next++
		size += uint64(e.Size())
		if maxSize > 0 && size > maxSize && len(ents) > 0 {
			break
		}
		ents = append(ents, e)
	}
	if len(ents) == 0 && lo < hi {
		return nil, errors.AssertionFailedf("r%d: raft log entries [%d,%d) missing", id, lo, hi)
	}
	return ents, nil
}

func loadHardState(rd kv.Reader, id RangeID) (raftpb.HardState, error) {
	var hs raftpb.HardState
	b, err := rd.Get(kv.MVCCKey{Key: hardStateKey(id)})
	if err != nil || b == nil {
		return hs, err
	}
	return hs, errors.Wrapf(hs.Unmarshal(b), "r%d: decoding HardState", id)
}

// loadProto reads the proto at an unversioned key; found is false if absent.
func loadProto(rd kv.Reader, key []byte, m proto.Message) (found bool, err error) {
	b, err := rd.Get(kv.MVCCKey{Key: key})
	if err != nil || b == nil {
		return false, err
	}
	return true, errors.Wrapf(proto.Unmarshal(b, m), "decoding %T", m)
}

func putProto(w kv.Writer, key []byte, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return errors.Wrapf(err, "encoding %T", m)
	}
	return w.Put(kv.MVCCKey{Key: key}, b)
}

// confStateFromDesc derives Raft's configuration from the descriptor, the
// source of truth for membership.
func confStateFromDesc(desc *rangepb.RangeDescriptor) raftpb.ConfState {
	var cs raftpb.ConfState
	joint := false
	for _, rd := range desc.Replicas {
		switch rd.Type {
		case rangepb.ReplicaType_VOTER_OUTGOING, rangepb.ReplicaType_VOTER_DEMOTING_LEARNER, rangepb.ReplicaType_VOTER_INCOMING:
			joint = true
		}
	}
	for _, rd := range desc.Replicas {
		id := uint64(rd.ReplicaId)
		switch rd.Type {
		case rangepb.ReplicaType_VOTER_FULL:
			cs.Voters = append(cs.Voters, id)
			if joint {
				cs.VotersOutgoing = append(cs.VotersOutgoing, id)
			}
		case rangepb.ReplicaType_VOTER_INCOMING:
			cs.Voters = append(cs.Voters, id)
		case rangepb.ReplicaType_VOTER_OUTGOING:
			cs.VotersOutgoing = append(cs.VotersOutgoing, id)
		case rangepb.ReplicaType_VOTER_DEMOTING_LEARNER:
			cs.VotersOutgoing = append(cs.VotersOutgoing, id)
			cs.LearnersNext = append(cs.LearnersNext, id)
		case rangepb.ReplicaType_LEARNER:
			cs.Learners = append(cs.Learners, id)
		}
	}
	cs.AutoLeave = joint
	return cs
}
