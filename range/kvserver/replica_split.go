package kvserver

// Range splits.
//
// AdminSplit{split_key} goes to the leaseholder of the range to split.
// The split is a transaction (replica_internal_txn.go), as in CockroachDB:
// anchored at the range's start key, it writes the meta2 records of both
// halves as intents and commits with an EndTxn evaluated on the range
// itself that carries a split trigger. The trigger latches the whole range
// (so nothing else evaluates there until the split has applied here),
// checks that the descriptor is still the one the split was planned on,
// and computes the right-hand side's MVCC stats; the record turning
// COMMITTED and the split go in ONE Raft command, whose SplitTrigger every
// replica applies identically, in one engine batch with its applied state
// (replica_apply.go): the descriptor shrinks to [start, split); the
// right-hand range's replicated range-ID state is written next to the data
// it already holds — its descriptor [split, end) under a new range ID with
// the same replicas (replica IDs reused), a copy of the left's lease (so it
// serves at once, from the same node), an applied state at
// raftInitialIndex with its share of the MVCC stats, and the initial
// truncated state and HardState of a Raft group that starts there. The
// data stays where it is: user keys, their lock records and the
// range-local keys anchored at them (transaction records) in [split, end)
// now belong to the right-hand range. Once the batch is committed the store
// registers the right-hand Replica and starts its Raft group (the
// leaseholder's replica campaigns; its timestamp cache starts at the
// split).
//
// A follower may already hold an uninitialized replica of the right-hand
// range, created by a message from the right-hand leader, which got there
// first. The split trigger initializes that replica in place (holding its
// raftMu across the batch, so that a vote it persisted survives in its
// HardState), unless a newer incarnation of it lives here, or a tombstone
// shows that our replica of it was already removed: then the right-hand
// data is simply dropped from this store. Snapshots of the right-hand range
// are refused while the left, not yet split here, still overlaps them
// (Store.overlappingReplica): the split trigger, or a snapshot of the left
// taken after the split, must shrink it first.
//
// Range IDs come from a replicated counter, kv.RangeIDGeneratorKey, which
// lives in range 1: a split of range 1 increments it in the split command
// itself; any other range increments it first with an Increment request to
// range 1 (an ID wasted by a split that then fails is harmless).
//
// Meta addressing. Meta2 records (kv.Meta2Key(end) → descriptor) and the
// range ID generator stay in range 1: no range splits below kv.NoSplitMax,
// so meta ranges are unsplittable. Meta2 changes atomically with every
// split: for range 1, whose split cannot wait on a transaction writing into
// its own latched span, the records are written by the split command
// itself; for every other range, by the split transaction, committed in
// the command that splits. A reader of meta2 never sees the records of a
// split that did not happen, nor misses those of one that did (it waits
// for the intents of a split in flight). Replica changes still update
// meta2 after they apply (updateMeta2Async, generation-guarded), and a new
// leaseholder rewrites its range's record.

import (
	"bytes"
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
	"google.golang.org/protobuf/proto"
)

// MetaRangeID is the range holding the meta2 records and the range ID
// generator: the first range, which keeps [KeyMin, kv.NoSplitMax).
const MetaRangeID = rangepb.MetaRangeID

// RangeSender sends requests to a range by ID, finding its leaseholder.
// kvclient.Sender and kvtest's node senders implement it.
type RangeSender interface {
	Send(ctx context.Context, id RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error)
}

// InvalidSplitKeyError: an AdminSplit named a key the range cannot be split
// at. Nothing changed.
type InvalidSplitKeyError = rangepb.InvalidSplitKeyError

// validateSplitKey checks that key may split desc: strictly inside it, and
// at or above kv.NoSplitMax (meta and the range ID generator stay in range
// 1). A key outside
// the range gets a RangeKeyMismatchError, which sends a DistSender to the
// right range.
func validateSplitKey(desc *rangepb.RangeDescriptor, key []byte) error {
	fail := func(reason string) error {
		return &InvalidSplitKeyError{Key: key, Reason: reason, Desc: desc}
	}
	switch {
	case len(key) == 0:
		return fail("no split key")
	case kv.IsLocal(key):
		return fail("the key is in the local keyspace")
	case bytes.Compare(key, kv.NoSplitMax) < 0:
		return fail("the meta records and the range ID generator stay in range 1")
	case bytes.Equal(key, desc.StartKey):
		return fail("the key is the range's start key")
	case !descContains(desc, key):
		// Not this range's key at all: the client's routing was stale, as
		// for any other request.
		return &RangeKeyMismatchError{Key: key, Desc: desc}
	}
	return nil
}

// descEndKey is desc's end key, KeyMax when it has none.
func descEndKey(desc *rangepb.RangeDescriptor) []byte {
	if len(desc.EndKey) == 0 {
		return kv.KeyMax
	}
	return desc.EndKey
}

// descContains reports whether key lies in desc's span.
func descContains(desc *rangepb.RangeDescriptor, key []byte) bool {
	return bytes.Compare(key, desc.StartKey) >= 0 && bytes.Compare(key, descEndKey(desc)) < 0
}

// adminSplit splits the range at req.SplitKey (or at the middle of its
// data) and returns both halves' descriptors. A split that lost a race
// (its transaction aborted by a push, the descriptor changed by a replica
// change) is tried again, against the new descriptor.
func (r *Replica) adminSplit(ctx context.Context, req *rangepb.AdminSplitRequest) (*rangepb.AdminSplitResponse, error) {
	for attempt := 0; ; attempt++ {
		res, err := r.adminSplitOnce(ctx, req)
		if err == nil || !isInternalTxnRetry(err) || attempt >= 10 || ctx.Err() != nil {
			return res, err
		}
		if err := sleepCtx(ctx, time.Duration(attempt+1)*pollInterval); err != nil {
			return nil, err
		}
	}
}

func (r *Replica) adminSplitOnce(ctx context.Context, req *rangepb.AdminSplitRequest) (*rangepb.AdminSplitResponse, error) {
	if _, err := r.redirectOrAcquireLease(ctx); err != nil {
		return nil, err
	}
	desc, err := r.waitNotJoint(ctx)
	if err != nil {
		return nil, err
	}
	key := req.SplitKey
	if len(key) == 0 {
		if key, err = r.findSplitKey(desc); err != nil {
			return nil, err
		}
	}
	if err := validateSplitKey(desc, key); err != nil {
		return nil, err
	}
	if err := checkAllVoters(desc); err != nil {
		return nil, err
	}
	if descContains(desc, kv.RangeIDGeneratorKey) {
		return r.splitMetaRange(ctx, key, req.Expiration)
	}
	rightID, err := r.store.allocateRangeID(ctx)
	if err != nil {
		return nil, err
	}
	left, right := splitDescs(desc, key, rightID, req.Expiration)
	t, err := r.beginInternalTxn(ctx, "split", desc)
	if err != nil {
		return nil, err
	}
	st := &rangepb.SplitTrigger{LeftDesc: left, RightDesc: right, ExpectedGeneration: desc.Generation}
	err = t.put(ctx, meta2Put(left), meta2Put(right))
	if err == nil {
		err = t.commit(ctx, &splitTrigger{st: st})
	}
	if err != nil {
		t.rollback(ctx)
		return nil, errors.Wrapf(err, "r%d: splitting at %q", r.rangeID, key)
	}
	return &rangepb.AdminSplitResponse{Left: left, Right: right}, nil
}

// checkAllVoters refuses to split a range with a learner or a replica in
// a joint configuration: the right-hand range starts with the same
// replicas, and a half-made change would be left on it with no owner.
func checkAllVoters(desc *rangepb.RangeDescriptor) error {
	for _, rd := range desc.Replicas {
		if rd.Type != rangepb.ReplicaType_VOTER_FULL {
			return errors.Newf("r%d has a %s replica on node %d: split once it is promoted or removed", desc.RangeId, rd.Type, rd.NodeId)
		}
	}
	return nil
}

// splitDescs are the descriptors of desc's halves split at key; sticky is
// the new boundary's sticky bit (nil: the merge queue may remove it).
func splitDescs(desc *rangepb.RangeDescriptor, key []byte, rightID RangeID, sticky *rangepb.Timestamp) (left, right *rangepb.RangeDescriptor) {
	left = proto.Clone(desc).(*rangepb.RangeDescriptor)
	left.EndKey = append([]byte(nil), key...)
	left.Generation++
	right = proto.Clone(desc).(*rangepb.RangeDescriptor)
	right.RangeId = int64(rightID)
	right.StartKey = append([]byte(nil), key...)
	right.Generation = left.Generation
	right.StickyBit = sticky
	return left, right
}

// meta2Put is the write of desc's meta2 record.
func meta2Put(desc *rangepb.RangeDescriptor) *rangepb.PutRequest {
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(desc)
	if err != nil {
		panic(errors.Wrap(err, "encoding a range descriptor")) // a descriptor always encodes
	}
	return &rangepb.PutRequest{Key: kv.Meta2Key(descEndKey(desc)), Value: data}
}

// rightHandStats computes the MVCC stats of the part of desc from key on:
// its user keys (intents and lock records with them) and the range-local
// keys anchored there (transaction records).
func rightHandStats(rd kv.Reader, desc *rangepb.RangeDescriptor, key []byte, nowNanos int64) (kv.MVCCStats, error) {
	ms, err := kv.ComputeStats(rd, key, descEndKey(desc), nowNanos)
	if err != nil {
		return ms, err
	}
	rl := rangeLocalSpan(key, descEndKey(desc))
	local, err := kv.ComputeStats(rd, rl.Key, rl.EndKey, nowNanos)
	if err != nil {
		return ms, err
	}
	ms.Add(local)
	return ms, nil
}

// splitTrigger is the commit trigger of a split transaction: evaluated
// holding latches over the whole range, it checks that the descriptor is
// still the one the split was planned on and computes the right-hand
// side's stats.
type splitTrigger struct {
	st *rangepb.SplitTrigger
}

func (t *splitTrigger) latchSpans(desc *rangepb.RangeDescriptor) []spanlatch.LatchSpan {
	return wholeRangeLatches(desc)
}

func (t *splitTrigger) eval(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, res *rangepb.ReplicatedResult) error {
	if ec.txn.GetStatus() != rangepb.TransactionStatus_COMMITTED {
		return errors.AssertionFailedf("r%d: a split trigger with an EndTxn that did not commit", ec.r.rangeID)
	}
	desc := ec.r.Desc()
	if err := checkSplit(desc, t.st); err != nil {
		return errors.Mark(err, errDescChanged)
	}
	if err := checkAllVoters(desc); err != nil {
		return errors.Mark(err, errDescChanged)
	}
	key := t.st.RightDesc.StartKey
	rightStats, err := rightHandStats(ec.r.store.engine, desc, key, ec.now.WallTime)
	if err != nil {
		return err
	}
	st := proto.Clone(t.st).(*rangepb.SplitTrigger)
	st.RightStats = statsToProto(rightStats)
	res.Split = st
	return nil
}

// splitMetaRange splits range 1, which holds meta2 and the range ID
// generator, in one command that also writes both meta2 records and
// allocates the right-hand range ID: a transaction writing meta2 would
// have to wait for latches its own split holds.
func (r *Replica) splitMetaRange(ctx context.Context, key []byte, sticky *rangepb.Timestamp) (*rangepb.AdminSplitResponse, error) {
	desc := r.Desc()
	// Latches over the whole range: every write in flight applies before
	// the split is evaluated, and every request waiting behind it sees the
	// new descriptor (Replica.Send checks its keys again).
	g, err := r.latches.Acquire(ctx, wholeRangeLatches(desc))
	if err != nil {
		return nil, err
	}
	var pending <-chan error
	defer func() { r.releaseAfter(pending, func() { r.latches.Release(g) }) }()
	lease, err := r.redirectOrAcquireLease(ctx)
	if err != nil {
		return nil, err
	}
	if desc = r.Desc(); isJoint(desc) {
		return nil, errors.Newf("r%d: a replica change started while the split waited; retry", r.rangeID)
	}
	if err := validateSplitKey(desc, key); err != nil {
		return nil, err
	}
	if err := checkAllVoters(desc); err != nil {
		return nil, err
	}

	ts := r.store.clock.Now()
	b := r.store.engine.NewBatch()
	defer b.Close()
	var ms kv.MVCCStats
	n, err := kv.MVCCIncrement(b, &ms, kv.RangeIDGeneratorKey, ts, 1, kv.MVCCWriteOptions{})
	if err != nil {
		return nil, errors.Wrap(err, "allocating a range ID")
	}
	left, right := splitDescs(desc, key, RangeID(n), sticky)
	rightStats, err := rightHandStats(r.store.engine, desc, key, ts.WallTime)
	if err != nil {
		return nil, err
	}
	for _, d := range []*rangepb.RangeDescriptor{left, right} {
		if err := putMeta2(b, &ms, ts, d); err != nil {
			return nil, err
		}
	}
	p := newProposal(&rangepb.RaftCommand{
		WriteBatch:            append([]byte(nil), b.Repr()...),
		ProposerLeaseSequence: lease.Sequence,
		Timestamp:             tsToProto(ts),
		Result: &rangepb.ReplicatedResult{StatsDelta: statsToProto(ms), Split: &rangepb.SplitTrigger{
			LeftDesc: left, RightDesc: right, RightStats: statsToProto(rightStats), ExpectedGeneration: desc.Generation,
		}},
	}, &rangepb.BatchResponse{})
	if _, pending, err = r.proposeAndWait(ctx, p); err != nil {
		return nil, errors.Wrapf(err, "r%d: splitting at %q", r.rangeID, key)
	}
	return &rangepb.AdminSplitResponse{Left: left, Right: right}, nil
}

// findSplitKey picks the key that halves the range's user data.
func (r *Replica) findSplitKey(desc *rangepb.RangeDescriptor) ([]byte, error) {
	start := desc.StartKey
	if bytes.Compare(start, kv.NoSplitMax) < 0 {
		start = kv.NoSplitMax
	}
	// The range's stats would count the meta records and the range ID
	// generator too, which never split off: measure the splittable part.
	st, err := kv.ComputeStats(r.store.engine, start, descEndKey(desc), 0)
	if err != nil {
		return nil, err
	}
	key, err := kv.FindSplitKey(r.store.engine, start, descEndKey(desc), (st.KeyBytes+st.ValBytes)/2)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, &InvalidSplitKeyError{Reason: "no key splits the range's data in two", Desc: desc}
	}
	return key, nil
}

// allocateRangeID increments the range ID generator in range 1.
func (s *Store) allocateRangeID(ctx context.Context) (RangeID, error) {
	if s.cfg.MetaSender == nil {
		return 0, errors.New("splitting a range other than range 1 needs StoreConfig.MetaSender")
	}
	resp, err := s.cfg.MetaSender.Send(ctx, MetaRangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Increment{
		Increment: &rangepb.IncrementRequest{Key: kv.RangeIDGeneratorKey, Increment: 1},
	}})
	if err != nil {
		return 0, errors.Wrap(err, "allocating a range ID")
	}
	return RangeID(resp.Responses[0].GetIncrement().GetNewValue()), nil
}

// checkSplit decides, identically on every replica, whether a split may
// apply: only to the descriptor it was evaluated against.
func checkSplit(desc *rangepb.RangeDescriptor, st *rangepb.SplitTrigger) error {
	if desc == nil || desc.Generation != st.ExpectedGeneration || desc.RangeId != st.LeftDesc.GetRangeId() ||
		!bytes.Equal(desc.StartKey, st.LeftDesc.GetStartKey()) || !bytes.Equal(descEndKey(desc), descEndKey(st.RightDesc)) {
		return errors.Newf("split rejected: the range descriptor changed while the split was in flight")
	}
	return nil
}

// checkDescChange rejects a replica change evaluated against a descriptor
// whose span a split has since changed: applied, it would widen the range
// again over its right-hand neighbour.
func checkDescChange(desc, nd *rangepb.RangeDescriptor) error {
	if desc != nil && (!bytes.Equal(desc.StartKey, nd.StartKey) || !bytes.Equal(desc.EndKey, nd.EndKey)) {
		return errors.Newf("replica change rejected: r%d was split while the change was in flight; retry", desc.RangeId)
	}
	return nil
}

// splitRHS is the right-hand replica of a split being applied here. While
// it exists, the applying goroutine holds the replica's raftMu.
type splitRHS struct {
	r *Replica
	// init: the split trigger initializes r (written in the apply batch).
	init bool
	// placeholder: r was created by the split; drop it from the store
	// unless initialized.
	placeholder bool
	// campaign: this store held the left's lease, so its right-hand
	// replica holds the copy and should lead.
	campaign bool
	// leftReads is the latest read of the right-hand keys the left's
	// timestamp cache knows of.
	leftReads hlc.Timestamp
}

// prepareSplitRHS decides what the split trigger does with the right-hand
// range on this store and writes it into b: the right-hand range's initial
// replicated and Raft state, or, if this store must not host it (a newer
// incarnation is here, or ours was removed), the deletion of its data. It
// returns with the right-hand replica's raftMu held; release it with
// finish or abort.
func (s *Store) prepareSplitRHS(b kv.Batch, st *rangepb.SplitTrigger, lease *rangepb.Lease, gcThreshold *rangepb.Timestamp) (*splitRHS, error) {
	right := st.RightDesc
	id := RangeID(right.RangeId)
	me := replicaByNode(right, s.nodeID)
	if me == nil {
		// The left's replica here was removed from the range before the
		// split (it is only catching up on its way out): it keeps no data of
		// the right-hand range.
		for _, sp := range replicatedSpans(right)[1:] {
			if err := b.ClearRange(sp.Key, sp.EndKey); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	out := &splitRHS{campaign: lease != nil && NodeID(lease.Replica.GetNodeId()) == s.nodeID}
	s.mu.Lock()
	if r, ok := s.mu.replicas[id]; ok {
		s.mu.Unlock()
		out.r = r
		r.raftMu.Lock()
	} else {
		r := newReplica(s, id)
		r.mu.replicaID = me.ReplicaId
		r.raftMu.Lock()
		s.mu.replicas[id] = r
		s.mu.Unlock()
		out.r, out.placeholder = r, true
	}
	rhs := out.r
	tomb, err := loadTombstone(s.engine, id)
	if err != nil {
		out.abort()
		return nil, err
	}
	rhs.mu.Lock()
	initialized, destroyed, rid := rhs.mu.desc != nil, rhs.mu.destroyed != nil, rhs.mu.replicaID
	rhs.mu.Unlock()
	switch {
	case initialized:
		// Cannot happen: snapshots overlapping the left are refused. Leave
		// the data to its owner.
		return out, nil
	case destroyed || me.ReplicaId < tomb || (rid != 0 && rid != me.ReplicaId):
		// Our replica of the right-hand range was removed here, or a newer
		// one waits for its snapshot: the left must let go of the data.
		for _, sp := range replicatedSpans(right)[1:] {
			if err := b.ClearRange(sp.Key, sp.EndKey); err != nil {
				out.abort()
				return nil, err
			}
		}
		return out, nil
	}
	out.init = true
	if err := writeInitialSplitState(b, s.engine, st, lease, gcThreshold); err != nil {
		out.abort()
		return nil, err
	}
	return out, nil
}

// writeInitialSplitState writes the right-hand range's state: identical
// replicated state on every replica, and a Raft state (log truncated at
// raftInitialIndex) that keeps any vote its uninitialized replica already
// cast. It starts with the left's GC threshold.
func writeInitialSplitState(b kv.Batch, rd kv.Reader, st *rangepb.SplitTrigger, lease *rangepb.Lease, gcThreshold *rangepb.Timestamp) error {
	id := RangeID(st.RightDesc.RangeId)
	if err := putProto(b, descKey(id), st.RightDesc); err != nil {
		return err
	}
	if lease != nil {
		if err := putProto(b, leaseKey(id), lease); err != nil {
			return err
		}
	}
	if err := putProto(b, appliedStateKey(id), &rangepb.RangeAppliedState{
		RaftAppliedIndex: raftInitialIndex, RaftAppliedTerm: raftInitialTerm, Stats: st.RightStats, GcThreshold: gcThreshold,
	}); err != nil {
		return err
	}
	// An aborted transaction may have had intents on both halves: the
	// right keeps the left's abort span (read through the batch, which
	// holds the commands applied before the split in the same round).
	if err := copyAbortSpan(b, b, RangeID(st.LeftDesc.RangeId), id); err != nil {
		return err
	}
	if err := putProto(b, truncatedKey(id), &rangepb.RaftTruncatedState{Index: raftInitialIndex, Term: raftInitialTerm}); err != nil {
		return err
	}
	if err := b.ClearRange(raftLogPrefix(id), raftLogKey(id, 1<<63)); err != nil {
		return err
	}
	hs, err := loadHardState(rd, id)
	if err != nil {
		return err
	}
	if hs.Term < raftInitialTerm {
		hs.Term, hs.Vote = raftInitialTerm, 0
	}
	hs.Commit = max(hs.Commit, raftInitialIndex)
	data, err := hs.Marshal()
	if err != nil {
		return err
	}
	return b.Put(kv.MVCCKey{Key: hardStateKey(id)}, data)
}

// finish, once the split's batch is committed, brings the right-hand
// replica up from the engine and starts its Raft group, or drops a
// placeholder that was not initialized.
func (x *splitRHS) finish() error {
	r, s := x.r, x.r.store
	defer r.raftMu.Unlock()
	if !x.init {
		if x.placeholder {
			s.mu.Lock()
			if s.mu.replicas[r.rangeID] == r {
				delete(s.mu.replicas, r.rangeID)
			}
			s.mu.Unlock()
		}
		return nil
	}
	// The left's timestamp cache covered the right-hand keys, and stays
	// with the left: the right-hand side's cache starts with its low-water
	// mark above every read the left served of them (no write below a
	// read served before the split). Most happened before now; not all: a
	// transaction may read ahead of this clock, and a recovery's
	// QueryIntent holds a write off above a staged timestamp.
	low := s.clock.Now()
	low.Forward(x.leftReads)
	r.tsCache().SetLowWater(low)
	r.mu.Lock()
	err := r.loadFromEngineLocked()
	if err == nil {
		// Whatever the uninitialized replica's Raft group had, it is
		// rebuilt from the state just written (which kept its vote).
		r.mu.raftGroup = nil
		err = r.initRaftGroupLocked()
	}
	if err == nil && x.campaign {
		_ = r.mu.raftGroup.Campaign()
	}
	r.mu.Unlock()
	if err != nil {
		return errors.Wrapf(err, "r%d: starting the right-hand side of a split", r.rangeID)
	}
	s.markActive(r.rangeID)
	s.scheduler.EnqueueReady(r.rangeID)
	return nil
}

// abort releases the right-hand replica when the split's batch failed.
func (x *splitRHS) abort() {
	if x.placeholder {
		s := x.r.store
		s.mu.Lock()
		if s.mu.replicas[x.r.rangeID] == x.r {
			delete(s.mu.replicas, x.r.rangeID)
		}
		s.mu.Unlock()
	}
	x.r.raftMu.Unlock()
}

// overlappingReplica returns an initialized replica on this store, other
// than one of range id, whose span overlaps desc.
func (s *Store) overlappingReplica(id RangeID, desc *rangepb.RangeDescriptor) *Replica {
	for _, r := range s.Replicas() {
		if r.rangeID == id {
			continue
		}
		d := r.Desc()
		if d == nil {
			continue
		}
		if bytes.Compare(d.StartKey, descEndKey(desc)) < 0 && bytes.Compare(desc.StartKey, descEndKey(d)) < 0 {
			return r
		}
	}
	return nil
}

// descsContaining returns the descriptors of this store's initialized
// replicas, other than of range except, that contain key.
func (s *Store) descsContaining(key []byte, except RangeID) []*rangepb.RangeDescriptor {
	var out []*rangepb.RangeDescriptor
	for _, r := range s.Replicas() {
		if r.rangeID == except {
			continue
		}
		if d := r.Desc(); d != nil && descContains(d, key) {
			out = append(out, d)
		}
	}
	return out
}

// putMeta2 writes desc's meta2 record into b, unless the record there
// already holds a descriptor of a higher generation.
func putMeta2(b kv.ReadWriter, ms *kv.MVCCStats, ts hlc.Timestamp, desc *rangepb.RangeDescriptor) error {
	key := kv.Meta2Key(descEndKey(desc))
	res, err := kv.MVCCGet(b, key, ts, kv.MVCCGetOptions{})
	if err != nil {
		return err
	}
	if res.Value != nil {
		cur := &rangepb.RangeDescriptor{}
		if err := proto.Unmarshal(res.Value.RawBytes, cur); err != nil {
			return errors.Wrapf(err, "decoding the meta2 record at %q", key)
		}
		if cur.Generation > desc.Generation {
			return nil
		}
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(desc)
	if err != nil {
		return err
	}
	return kv.MVCCPut(b, ms, key, ts, kv.MakeBytesValue(data), kv.MVCCWriteOptions{})
}

// updateMeta2Async writes the meta2 records of descs (after a replica
// change, or by a new leaseholder) through range 1, retrying until they
// are written or the store stops. Splits and merges do not need it: their
// transactions write meta2.
func (s *Store) updateMeta2Async(descs ...*rangepb.RangeDescriptor) {
	if s.cfg.MetaSender == nil || s.meta2UpdatesDisabled.Load() {
		return
	}
	_ = s.stopper.RunAsyncTask("meta2-update", func(ctx context.Context) {
		backoff := 10 * time.Millisecond
		for _, d := range descs {
			for {
				actx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := s.updateMeta2(actx, d)
				cancel()
				if err == nil || ctx.Err() != nil {
					break
				}
				var rkm *RangeKeyMismatchError
				if errors.As(err, &rkm) {
					break // range 1 does not hold meta2 (a test layout): nothing to update
				}
				if sleepCtx(ctx, backoff) != nil {
					return
				}
				backoff = min(2*backoff, time.Second)
			}
		}
	})
}

// updateMeta2 replaces the meta2 record of desc's end key with desc, unless
// it holds a descriptor of a higher generation: a read, then a conditional
// put of exactly what was read.
func (s *Store) updateMeta2(ctx context.Context, desc *rangepb.RangeDescriptor) error {
	key := kv.Meta2Key(descEndKey(desc))
	resp, err := s.cfg.MetaSender.Send(ctx, MetaRangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key}}})
	if err != nil {
		return err
	}
	g := resp.Responses[0].GetGet()
	if g.GetFound() {
		cur := &rangepb.RangeDescriptor{}
		if err := proto.Unmarshal(g.Value, cur); err != nil {
			return errors.Wrapf(err, "decoding the meta2 record at %q", key)
		}
		if cur.Generation > desc.Generation || proto.Equal(cur, desc) {
			return nil
		}
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(desc)
	if err != nil {
		return err
	}
	_, err = s.cfg.MetaSender.Send(ctx, MetaRangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ConditionalPut{
		ConditionalPut: &rangepb.ConditionalPutRequest{Key: key, Value: data, ExpValue: g.GetValue(), ExpExists: g.GetFound()},
	}})
	return err
}
