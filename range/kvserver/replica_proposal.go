package kvserver

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// cmdID identifies a proposed command, so the proposer recognises it when
// it applies.
type cmdID uint64

// entryEncodingVersion leads every entry payload we write.
const entryEncodingVersion = 1

// encodeCommand lays out an entry payload: version byte, command ID, then
// the RaftCommand. It leaves room for appendMaxLeaseIndex.
func encodeCommand(id cmdID, cmd *rangepb.RaftCommand) ([]byte, error) {
	b := make([]byte, 0, 9+proto.Size(cmd)+maxLeaseIndexFieldLen)
	b = append(b, entryEncodingVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	b, err := proto.MarshalOptions{}.MarshalAppend(b, cmd)
	if err != nil {
		return nil, errors.Wrap(err, "encoding raft command")
	}
	return b, nil
}

// maxLeaseIndexField is RaftCommand.max_lease_index's field number.
var maxLeaseIndexField = (&rangepb.RaftCommand{}).ProtoReflect().Descriptor().Fields().ByName("max_lease_index").Number()

// maxLeaseIndexFieldLen is the most appendMaxLeaseIndex adds: a one-byte
// tag and a varint.
const maxLeaseIndexFieldLen = 1 + binary.MaxVarintLen64

// appendMaxLeaseIndex sets the max_lease_index of an encoded command whose
// own is zero (so absent from it) by appending the field: a decoder takes
// the last value of a scalar field. This lets a writer encode its command
// before the Raft worker assigns the lease index, as CockroachDB's
// proposal buffer does. It appends in place when data has the room, so
// call it once per encoding.
func appendMaxLeaseIndex(data []byte, mli uint64) []byte {
	data = protowire.AppendTag(data, maxLeaseIndexField, protowire.VarintType)
	return protowire.AppendVarint(data, mli)
}

// decodeCommand is encodeCommand's inverse. An empty payload (Raft's own
// entries: a new leader's empty entry, the automatic leave of a joint
// configuration) decodes to a nil command.
func decodeCommand(data []byte) (cmdID, *rangepb.RaftCommand, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	if len(data) < 9 || data[0] != entryEncodingVersion {
		return 0, nil, errors.Newf("raft entry of %d bytes has unknown encoding %d", len(data), data[0])
	}
	cmd := &rangepb.RaftCommand{}
	if err := proto.Unmarshal(data[9:], cmd); err != nil {
		return 0, nil, errors.Wrap(err, "decoding raft command")
	}
	return cmdID(binary.BigEndian.Uint64(data[1:9])), cmd, nil
}

// localCommand returns the command an entry's payload encodes when this
// replica proposed that very payload and still waits on it, sparing the
// leaseholder the decoding of its own commands; ok is false otherwise.
// Comparing the bytes, not just the command ID, matters: a command
// proposed again carries a new lease index, and its earlier entry must be
// judged by the index it was proposed with.
func (r *Replica) localCommand(data []byte) (cmdID, *rangepb.RaftCommand, bool) {
	if len(data) < 9 || data[0] != entryEncodingVersion {
		return 0, nil, false
	}
	id := cmdID(binary.BigEndian.Uint64(data[1:9]))
	r.mu.Lock()
	p := r.mu.proposals[id]
	r.mu.Unlock()
	if p == nil || !bytes.Equal(p.proposed, data) {
		return 0, nil, false
	}
	return id, p.cmd, true
}

// proposal is a command this replica proposed and is waiting on.
type proposal struct {
	id  cmdID
	cmd *rangepb.RaftCommand
	// confChange is set for replica changes, proposed as ConfChangeV2.
	confChange *raftpb.ConfChangeV2
	// resp is the response the evaluation produced, returned on success.
	resp *rangepb.BatchResponse
	// done receives the outcome once: nil after a successful apply.
	done chan error
	// proposedAtTick is when it was last handed to Raft.
	proposedAtTick int
	// encoded is the command encoded without its lease index, for a
	// buffered proposal (see proposalBuffer).
	encoded []byte
	// proposed is the payload last handed to Raft. An entry carrying
	// exactly these bytes decodes to cmd, so this replica applies it
	// without decoding it again (see localCommand).
	proposed []byte
}

func newProposal(cmd *rangepb.RaftCommand, resp *rangepb.BatchResponse) *proposal {
	return &proposal{id: cmdID(rand.Uint64() | 1), cmd: cmd, resp: resp, done: make(chan error, 1)}
}

// finish delivers the outcome; later calls do nothing.
func (p *proposal) finish(err error) {
	select {
	case p.done <- err:
	default:
	}
}

// proposalBuffer collects the writes that requests propose, so that the
// Raft worker hands them to Raft together, one message and one Ready for
// all the writes that arrived during the previous Ready, and writers never
// take Replica.mu to propose (CockroachDB's propBuf, simplified: the worker,
// not the writer, assigns lease indexes). Its mutex is a leaf: nothing else
// is locked while it is held. Safe for concurrent use.
type proposalBuffer struct {
	mu struct {
		sync.Mutex
		props []*proposal
		// closed fails every later insert: the replica is destroyed.
		closed error
	}
	// scheduled is set from the first insert after a flush until the next
	// flush, so that only that insert wakes the scheduler.
	scheduled atomic.Bool
}

// proposeBuffered queues p, a write without a configuration change, for
// the Raft worker, which proposes it with its lease index. Its outcome
// arrives on p.done, as for proposeLocked.
func (r *Replica) proposeBuffered(p *proposal) error {
	if p.confChange != nil || p.cmd.IsLeaseRequest || p.cmd.MaxLeaseIndex != 0 {
		return errors.AssertionFailedf("r%d: proposal cannot be buffered", r.rangeID)
	}
	data, err := encodeCommand(p.id, p.cmd)
	if err != nil {
		return err
	}
	p.encoded = data
	r.store.metrics.RaftProposals.Add(1)
	b := &r.propBuf
	b.mu.Lock()
	if err := b.mu.closed; err != nil {
		b.mu.Unlock()
		return err
	}
	b.mu.props = append(b.mu.props, p)
	b.mu.Unlock()
	if !b.scheduled.Swap(true) {
		r.store.scheduler.EnqueueReady(r.rangeID)
	}
	return nil
}

// takeBuffered empties the buffer.
func (b *proposalBuffer) take() []*proposal {
	b.scheduled.Store(false)
	b.mu.Lock()
	defer b.mu.Unlock()
	props := b.mu.props
	b.mu.props = nil
	return props
}

// flushProposalsLocked hands the buffered proposals to Raft, in the order
// they arrived, as one proposal message.
func (r *Replica) flushProposalsLocked() {
	props := r.propBuf.take()
	if len(props) == 0 {
		return
	}
	fail := func(err error) {
		for _, p := range props {
			delete(r.mu.proposals, p.id)
			p.finish(err)
		}
	}
	if r.mu.destroyed != nil {
		fail(r.mu.destroyed)
		return
	}
	if r.mu.raftGroup == nil {
		fail(errors.Newf("r%d: replica has no raft group yet", r.rangeID))
		return
	}
	ents := make([]raftpb.Entry, len(props))
	for i, p := range props {
		r.mu.nextLeaseIndex = max(r.mu.nextLeaseIndex, r.mu.state.LeaseAppliedIndex) + 1
		p.cmd.MaxLeaseIndex = r.mu.nextLeaseIndex
		ents[i].Data = appendMaxLeaseIndex(p.encoded, p.cmd.MaxLeaseIndex)
		p.encoded = nil
		p.proposed = ents[i].Data
		p.proposedAtTick = r.mu.ticks
		r.mu.proposals[p.id] = p
	}
	r.unquiesceLocked()
	err := r.mu.raftGroup.Step(raftpb.Message{Type: raftpb.MsgProp, From: uint64(r.mu.replicaID), Entries: ents})
	// Dropped proposals (no leader yet) stay registered and are proposed
	// again on a later tick, as in proposeLocked.
	if err != nil && !errors.Is(err, errProposalDropped) {
		fail(errors.Wrapf(err, "r%d: proposing", r.rangeID))
	}
}

// proposeLocked hands p to Raft. Commands bound to a lease get the next
// lease index, so that of all the copies a re-proposal may leave in the
// log, at most one applies.
func (r *Replica) proposeLocked(p *proposal) error {
	if r.mu.destroyed != nil {
		return r.mu.destroyed
	}
	if r.mu.raftGroup == nil {
		return errors.Newf("r%d: replica has no raft group yet", r.rangeID)
	}
	// Buffered writes go first, keeping the order commands were proposed in.
	r.flushProposalsLocked()
	if !p.cmd.IsLeaseRequest && p.cmd.MaxLeaseIndex == 0 {
		r.mu.nextLeaseIndex = max(r.mu.nextLeaseIndex, r.mu.state.LeaseAppliedIndex) + 1
		p.cmd.MaxLeaseIndex = r.mu.nextLeaseIndex
	}
	data, err := encodeCommand(p.id, p.cmd)
	if err != nil {
		return err
	}
	r.mu.proposals[p.id] = p
	p.proposed = data
	r.unquiesceLocked()
	p.proposedAtTick = r.mu.ticks
	if p.confChange != nil {
		cc := *p.confChange
		cc.Context = data
		err = r.mu.raftGroup.ProposeConfChange(cc)
	} else {
		err = r.mu.raftGroup.Propose(data)
	}
	// A dropped proposal (no leader yet) stays registered and is proposed
	// again on a later tick.
	if err != nil && !errors.Is(err, errProposalDropped) {
		delete(r.mu.proposals, p.id)
		return errors.Wrapf(err, "r%d: proposing", r.rangeID)
	}
	r.store.scheduler.EnqueueReady(r.rangeID)
	return nil
}

// refreshProposalsLocked re-proposes commands that have not applied after
// a few ticks: a leader change may have lost them. Re-proposing is safe:
// the lease index lets at most one copy apply.
func (r *Replica) refreshProposalsLocked() {
	for _, p := range r.mu.proposals {
		if r.mu.ticks-p.proposedAtTick < r.store.cfg.RaftElectionTicks {
			continue
		}
		p.proposedAtTick = r.mu.ticks
		if !p.cmd.IsLeaseRequest && p.cmd.MaxLeaseIndex == 0 {
			// A configuration change whose lease index was used up (see
			// applyEntriesThroughSplit) gets a new one.
			r.mu.nextLeaseIndex = max(r.mu.nextLeaseIndex, r.mu.state.LeaseAppliedIndex) + 1
			p.cmd.MaxLeaseIndex = r.mu.nextLeaseIndex
		}
		data, err := encodeCommand(p.id, p.cmd)
		if err != nil {
			continue
		}
		if p.confChange != nil {
			cc := *p.confChange
			cc.Context = data
			_ = r.mu.raftGroup.ProposeConfChange(cc)
		} else {
			_ = r.mu.raftGroup.Propose(data)
		}
	}
}

// failProposalsLocked ends every pending proposal with err. Buffered
// proposals never reached Raft: a destroyed replica fails them, and every
// later one, with its own error.
func (r *Replica) failProposalsLocked(err error) {
	for id, p := range r.mu.proposals {
		p.finish(err)
		delete(r.mu.proposals, id)
	}
	b := &r.propBuf
	b.mu.Lock()
	props := b.mu.props
	b.mu.props = nil
	if r.mu.destroyed != nil {
		b.mu.closed = r.mu.destroyed
	}
	b.mu.Unlock()
	for _, p := range props {
		if r.mu.destroyed != nil {
			p.finish(r.mu.destroyed)
		} else {
			p.finish(err)
		}
	}
}
