package txn

import (
	"context"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// Sender sends KV batches addressed by key: the DistSender (or, in tests on
// a cluster without meta ranges, kvtest.KeySender). It is the same
// interface as kvserver.KeySender, declared here where it is used.
type Sender interface {
	Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// lockedSender is one layer of the coordinator: SendLocked is called with
// the coordinator's mutex held.
type lockedSender interface {
	SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// txnInterceptor is a layer of the stack (see doc.go).
type txnInterceptor interface {
	lockedSender
	setWrapped(w lockedSender)
	// epochBumpedLocked resets what a restart invalidates.
	epochBumpedLocked()
	// closeLocked releases what the interceptor holds (the heartbeat
	// loop) once the transaction is finalized.
	closeLocked()
}

// senderFunc lets the bottom of the stack be the Sender.
type senderFunc func(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)

func (f senderFunc) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	return f(ctx, ba)
}

// coordinator sends one transaction's batches through the interceptors and
// keeps the transaction's state. Its methods take mu; the heartbeat loop
// takes it to read and update the state.
type coordinator struct {
	mu struct {
		sync.Mutex
		txn *rangepb.Transaction
		// retryErr, once set, is returned for every operation until the
		// transaction restarts.
		retryErr *RetryableError
		// finalized: committed or rolled back.
		finalized bool
		// held are the writes held back (bufferWrites), to go with the
		// transaction's next batch.
		held heldWrites
		// lockTimeout and lockNoWait bound the waits of the batches sent
		// from now on for other transactions' locks (Txn.SetLockWait).
		lockTimeout time.Duration
		lockNoWait  bool
		// sentWrites: a batch with writes went out.
		sentWrites bool
		// readSeq is the read sequence of the batch being sent by
		// sendHoldable (see Txn.At); 0: none.
		readSeq int32
	}
	// bufferWrites: blind writes (Put, Delete) are held back until the
	// transaction reads one of their keys, writes otherwise, or commits,
	// and are sent with that batch (see Txn.BufferWrites).
	bufferWrites bool
	// readOnly: a historical transaction (DB.NewHistoricalTxn), which
	// refuses writes.
	readOnly     bool
	clock        *hlc.Clock
	heartbeater  txnHeartbeater
	seqNums      txnSeqNumAllocator
	pipeliner    txnPipeliner
	committer    txnCommitter
	refresher    txnSpanRefresher
	deadline     txnDeadline
	interceptors []txnInterceptor
}

func newCoordinator(db *DB, txn *rangepb.Transaction) *coordinator {
	c := &coordinator{clock: db.clock}
	c.mu.txn = txn
	c.heartbeater.init(db, &c.mu.Mutex, c.stateLocked, c.updateLocked)
	c.committer.deadline = &c.deadline
	c.committer.parallel = !db.opts.DisableParallelCommits
	c.committer.sender, c.committer.stopper = db.sender, db.stopper
	c.pipeliner.disabled, c.pipeliner.sender = db.opts.DisablePipelining, db.sender
	c.interceptors = []txnInterceptor{&c.heartbeater, &c.seqNums, &c.pipeliner, &c.committer, &c.refresher, &c.deadline}
	for i, in := range c.interceptors {
		if i+1 < len(c.interceptors) {
			in.setWrapped(c.interceptors[i+1])
		} else {
			in.setWrapped(senderFunc(func(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
				db.metrics.Batches.Add(1)
				return db.sender.Send(ctx, ba)
			}))
		}
	}
	return c
}

// stateLocked returns a copy of the transaction for a header.
func (c *coordinator) stateLocked() *rangepb.Transaction {
	return proto.Clone(c.mu.txn).(*rangepb.Transaction)
}

// updateLocked folds what a range sent back into the state: timestamps
// only move up, a final status sticks; a response of an older epoch is
// stale.
func (c *coordinator) updateLocked(t *rangepb.Transaction) {
	cur := c.mu.txn
	if t == nil || t.Meta.GetEpoch() < cur.Meta.Epoch {
		return
	}
	fwd := func(dst **rangepb.Timestamp, src *rangepb.Timestamp) {
		ts := tsFromProto(*dst)
		if ts.Forward(tsFromProto(src)) {
			*dst = tsToProto(ts)
		}
	}
	fwd(&cur.Meta.WriteTimestamp, t.Meta.GetWriteTimestamp())
	fwd(&cur.ReadTimestamp, t.ReadTimestamp)
	fwd(&cur.LastHeartbeat, t.LastHeartbeat)
	if len(cur.Meta.Key) == 0 {
		cur.Meta.Key = t.Meta.GetKey()
	}
	mergeObserved(cur, t.ObservedTimestamps)
	if t.Status == rangepb.TransactionStatus_COMMITTED || t.Status == rangepb.TransactionStatus_ABORTED {
		cur.Status = t.Status
	}
}

// mergeObserved adds to txn the observed timestamps of nodes it has none
// of (a node's first reading is its lowest, kept for every later read).
func mergeObserved(txn *rangepb.Transaction, obs []*rangepb.ObservedTimestamp) {
next:
	for _, o := range obs {
		for _, have := range txn.ObservedTimestamps {
			if have.NodeId == o.NodeId {
				if ts := tsFromProto(o.Timestamp); ts.Less(tsFromProto(have.Timestamp)) {
					have.Timestamp = o.Timestamp
				}
				continue next
			}
		}
		txn.ObservedTimestamps = append(txn.ObservedTimestamps, &rangepb.ObservedTimestamp{NodeId: o.NodeId, Timestamp: o.Timestamp})
	}
}

// send sends reqs in the transaction.
func (c *coordinator) send(ctx context.Context, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return c.sendHoldable(ctx, blindWrites(reqs), 0, reqs...)
}

// sendReads sends reads that see the transaction's own writes up to
// sequence readSeq only (0: all of them; see Txn.At).
func (c *coordinator) sendReads(ctx context.Context, readSeq int32, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	return c.sendHoldable(ctx, false, readSeq, reqs...)
}

// sendHoldable is send where holdable says whether reqs, writes, may be
// held back under bufferWrites: blind writes, or writes whose caller takes
// their errors from a later batch (Txn.InsertAbsent).
//
// readSeq, when not 0, is how far into the transaction's own writes reqs'
// reads see (Txn.At).
func (c *coordinator) sendHoldable(ctx context.Context, holdable bool, readSeq int32, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.readSeq = readSeq
	defer func() { c.mu.readSeq = 0 }()
	if c.mu.retryErr != nil {
		return nil, c.mu.retryErr
	}
	if c.mu.finalized {
		return nil, ErrTxnFinalized
	}
	if c.readOnly {
		for _, ru := range reqs {
			if _, _, write := writeSpan(ru); write {
				return nil, ErrHistoricalWrite
			}
		}
	}
	if c.bufferWrites {
		if holdable && c.mu.held.fits(reqs) {
			c.seqNums.numberLocked(reqs)
			c.mu.held.add(reqs)
			c.anchorHeldLocked()
			return &rangepb.BatchResponse{Responses: make([]*rangepb.ResponseUnion, len(reqs))}, nil
		}
		// Past the bound (a bulk load), the writes go now, with what is
		// held: one batch, one Raft command per range, of a bounded size.
		if et := reqs[len(reqs)-1].GetEndTxn(); et != nil && !et.Commit {
			// A rollback: what was never sent needs no cleaning up.
			c.mu.held.clear()
		}
	}
	// Reads that touch none of the held writes' keys cannot see them: the
	// writes stay held, so that a transaction that reads between its
	// writes still sends them all with its commit (one Raft command per
	// range it wrote) instead of one command per statement.
	sendHeld := c.mu.held.len() > 0 && !c.readsOnlyElsewhereLocked(reqs)
	if sendHeld && hasLockingRead(reqs) {
		// A locking read may have to wait for another transaction's
		// lock: the held writes go first, on their own, so that the batch
		// that waits carries no writes (and holds no claim on their keys
		// while it waits). Measured before the range's lock table: pgbench
		// TPC-B with 4 clients stalled (0.06 tps) when UPDATE's locking
		// read travelled with the previous statement's writes; 46 tps sent
		// apart.
		if _, err := c.sendLocked(ctx, c.mu.held.take()); err != nil {
			return nil, err
		}
		sendHeld = false
	}
	var held []*rangepb.RequestUnion
	if sendHeld {
		// The held-back writes go first: the requests after them see
		// them, as if sent before.
		held = c.mu.held.take()
		reqs = append(held[:len(held):len(held)], reqs...)
	}
	if !c.mu.sentWrites {
		for _, ru := range reqs {
			if _, _, write := writeSpan(ru); write {
				c.mu.sentWrites = true
				break
			}
		}
	}
	br, err := c.sendLocked(ctx, reqs)
	if err == nil && len(held) > 0 {
		br.Responses = br.Responses[len(held):]
	}
	return br, err
}

// anchorHeldLocked anchors the transaction at its first held write, where
// its record will be (unless a locking read anchored it already), and
// makes it write the record if it runs long with writes held (see
// txnHeartbeater.armLocked).
func (c *coordinator) anchorHeldLocked() {
	t := c.mu.txn
	if len(t.Meta.Key) == 0 {
		t.Meta.Key = append([]byte(nil), c.mu.held.first()...)
	}
	c.heartbeater.armLocked(t.Meta.Key)
}

// readsOnlyElsewhereLocked reports whether reqs are all reads and none of
// them reads a key one of the held writes writes.
func (c *coordinator) readsOnlyElsewhereLocked(reqs []*rangepb.RequestUnion) bool {
	for _, ru := range reqs {
		key, end, read := readSpan(ru)
		if _, _, write := writeSpan(ru); write || !read {
			return false
		}
		if c.mu.held.touches(key, end) {
			return false
		}
	}
	return true
}

// hasLockingRead reports whether reqs hold a locking read.
func hasLockingRead(reqs []*rangepb.RequestUnion) bool {
	for _, ru := range reqs {
		if _, _, ok := lockingReadSpan(ru); ok {
			return true
		}
	}
	return false
}

// sendLocked sends one batch down the interceptors and folds the answer
// (or the error, as a RetryableError where one applies) into the state.
func (c *coordinator) sendLocked(ctx context.Context, reqs []*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: c.stateLocked(),
		LockTimeoutNanos: int64(c.mu.lockTimeout), LockNoWait: c.mu.lockNoWait, ReadSequence: c.mu.readSeq}, Requests: reqs}
	br, err := c.interceptors[0].SendLocked(ctx, ba)
	if err != nil {
		err = toRetryable(err, c.mu.txn)
		var re *RetryableError
		if errors.As(err, &re) {
			c.mu.retryErr = re
		}
		return nil, err
	}
	c.updateLocked(br.Txn)
	if c.clock != nil {
		// Keep the client's clock up with the cluster's: a restart starts
		// at the clock, and a transaction started behind the values it
		// reads finds them uncertain.
		_, _ = c.clock.Update(tsFromProto(br.Timestamp))
		_, _ = c.clock.Update(tsFromProto(br.Txn.GetMeta().GetWriteTimestamp()))
	}
	return br, nil
}

// blindWrites reports whether reqs are all writes whose outcome depends
// on nothing they read (Put, Delete): those can wait for a later batch.
func blindWrites(reqs []*rangepb.RequestUnion) bool {
	for _, ru := range reqs {
		if !ru.Flags().Has(rangepb.BlindWrite) {
			return false
		}
	}
	return len(reqs) > 0
}

// restart moves the transaction to its next epoch at ts (or the clock, if
// later): what a RetryableError that is not Aborted asks for.
func (c *coordinator) restart(ts hlc.Timestamp, priority int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.mu.txn
	t.Meta.Epoch++
	wts := tsFromProto(t.Meta.WriteTimestamp)
	wts.Forward(ts)
	t.Meta.WriteTimestamp = tsToProto(wts)
	t.ReadTimestamp = tsToProto(wts)
	if priority > t.Meta.Priority {
		t.Meta.Priority = priority
	}
	t.Status = rangepb.TransactionStatus_PENDING
	// Savepoint rollbacks were the last epoch's: its intents all go.
	t.IgnoredSeqNums = nil
	c.mu.retryErr = nil
	// The held-back writes were the last epoch's: the next run writes
	// again.
	c.mu.held.clear()
	for _, in := range c.interceptors {
		in.epochBumpedLocked()
	}
}

// onlyWriteIsAnchor reports whether the transaction's only write, or
// lock, is one key, its anchor, and it has no record: a batch carrying it
// and the record's requests goes to one range.
func (c *coordinator) onlyWriteIsAnchor() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ls := c.committer.lockSpans
	return len(ls) == 1 && len(ls[0].EndKey) == 0 && len(c.committer.readLocks) == 0 &&
		string(ls[0].Key) == string(c.mu.txn.Meta.Key) && !c.heartbeater.recordCreated
}

// finish marks the transaction finalized and stops its heartbeats.
func (c *coordinator) finishLocked() {
	c.mu.finalized = true
	for _, in := range c.interceptors {
		in.closeLocked()
	}
}

func tsToProto(ts hlc.Timestamp) *rangepb.Timestamp { return rangepb.TimestampOf(ts) }

func tsFromProto(p *rangepb.Timestamp) hlc.Timestamp { return p.HLC() }
