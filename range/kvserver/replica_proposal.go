package kvserver

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// cmdID identifies a proposed command, so the proposer recognises it when
// it applies.
type cmdID uint64

// entryEncodingVersion leads every entry payload we write.
const entryEncodingVersion = 1

// encodeCommand lays out an entry payload: version byte, command ID, then
// the RaftCommand.
func encodeCommand(id cmdID, cmd *rangepb.RaftCommand) ([]byte, error) {
	body, err := proto.Marshal(cmd)
	if err != nil {
		return nil, errors.Wrap(err, "encoding raft command")
	}
	b := make([]byte, 0, 9+len(body))
	b = append(b, entryEncodingVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	return append(b, body...), nil
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
	if !p.cmd.IsLeaseRequest && p.cmd.MaxLeaseIndex == 0 {
		r.mu.nextLeaseIndex = max(r.mu.nextLeaseIndex, r.mu.state.LeaseAppliedIndex) + 1
		p.cmd.MaxLeaseIndex = r.mu.nextLeaseIndex
	}
	data, err := encodeCommand(p.id, p.cmd)
	if err != nil {
		return err
	}
	r.mu.proposals[p.id] = p
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

// failProposalsLocked ends every pending proposal with err.
func (r *Replica) failProposalsLocked(err error) {
	for id, p := range r.mu.proposals {
		p.finish(err)
		delete(r.mu.proposals, id)
	}
}
