package kvserver

import (
	"context"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/concurrency"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// replicaConcurrency is a replica's concurrency manager (range/concurrency):
// its latches, its lock table with FIFO wait queues per key, and the txn
// wait queue where its requests wait for the transactions holding what
// they need. Its state is the leaseholder's: a replica that gains a lease
// forgets what it knew under an earlier one (noteLease), and intents
// written under other leases are added back as evaluation meets them.
type replicaConcurrency struct {
	once sync.Once
	m    *concurrency.Manager
}

// concurrency returns the replica's concurrency manager, made on first use.
func (r *Replica) concurrency() *concurrency.Manager {
	r.conc.once.Do(func() {
		r.conc.m = concurrency.NewManager(concurrency.Config{
			Pusher:               replicaPusher{r: r},
			Clock:                r.store.clock,
			Latches:              &r.latches,
			TxnLivenessThreshold: r.txnLivenessThreshold(),
			NoRecheckBeforeWait:  true,
			PushWins: func(pusher, pushee kv.TxnMeta) bool {
				return pusherWins(&rangepb.Transaction{Meta: metaFromKV(pusher)}, metaFromKV(pushee))
			},
			WoundAfter: r.store.cfg.TxnWoundAfter,
			WaitQueue:  r.store.waitQueue,
			WaitGraph:  replicaPusher{r: r},
			Deadlocks:  &r.store.metrics.Deadlocks,
		})
	})
	return r.conc.m
}

// maxEvalRetries bounds how often one batch is evaluated again after
// moving its write timestamp above a newer value (or, non-transactional,
// its read above an uncertain one) before the error goes back.
const maxEvalRetries = 8

// sendWithConcurrency serves a batch: sequence (latches, then the lock
// table: wait in the queues of the keys other transactions lock, pushing
// their holders) → evaluate → tell the lock table what the batch locked
// or released → finish (release latches, leave queues).
//
// Evaluation may still run into what sequencing could not know:
//
//   - an intent the lock table did not know (written under an earlier
//     lease, before a restart, or by a request that raced this one's
//     sequencing): the lock is added and the request waits for it as for
//     any other (HandleLockConflictError);
//   - a committed value at or above a transaction's write timestamp
//     (kv.WriteTooOldError): a write moves its timestamp above it and
//     evaluates again; the coordinator sees the pushed write timestamp in
//     the response and refreshes its reads before it commits;
//   - for a non-transactional read, a value within its uncertainty
//     interval: the clock moves past it and the read runs again.
//
// trig, when not nil, is the commit trigger of an internal transaction's
// EndTxn (a split's, a merge's): its latches are taken with the batch's and
// it is evaluated into the same command (see commitTrigger).
func (r *Replica) sendWithConcurrency(ctx context.Context, ba *rangepb.BatchRequest, desc *rangepb.RangeDescriptor, trig commitTrigger) (*rangepb.BatchResponse, error) {
	latchSpans, isWrite, err := r.collectSpans(ba, desc)
	if err != nil {
		return nil, err
	}
	if trig != nil {
		latchSpans = append(latchSpans, trig.latchSpans(desc)...)
	}
	req := concurrency.Request{LatchSpans: latchSpans, Spans: lockSpans(ba),
		LockTimeout: time.Duration(ba.Header.GetLockTimeoutNanos()), NoWait: ba.Header.GetLockNoWait()}
	if t := ba.Header.GetTxn(); t != nil && t.Meta != nil {
		m := metaToKV(t.Meta)
		req.Txn = &m
		// A read must wait for an intent anywhere it may not ignore: up
		// to its uncertainty limit, the local one if the transaction has
		// observed this node's clock (replica_uncertainty.go).
		req.Timestamp = tsFromProto(t.ReadTimestamp)
		req.UncertaintyLimit = tsFromProto(t.GlobalUncertaintyLimit)
		if local, ok := r.localUncertaintyLimit(t, r.Lease); ok {
			req.Timestamp.Forward(local)
		} else {
			req.Timestamp.Forward(req.UncertaintyLimit)
		}
	} else if h := ba.Header; h != nil && h.Timestamp != nil && !isWrite {
		req.Timestamp = tsFromProto(h.Timestamp)
	} else {
		req.Timestamp = r.store.clock.Now().Add(int64(r.store.clock.MaxOffset()), 0)
	}
	if len(req.Spans) > 0 && r.store.cfg.TxnSender == nil {
		// Without a way to other ranges' records there is no pushing: the
		// request evaluates and a conflict goes back to the caller.
		req.Spans = nil
	}
	m := r.concurrency()
	g, err := m.SequenceReq(ctx, req)
	if err != nil {
		return nil, r.waitError(ba, err)
	}
	defer func() {
		if g != nil {
			m.FinishReq(g)
		}
	}()
	for attempt := 0; ; attempt++ {
		resp, applied, err := r.evaluateSequenced(ctx, ba, desc, isWrite, trig)
		if err == nil {
			r.updateLockTable(m, ba, resp, desc)
		}
		if applied != nil {
			// A pipelined write's command, or one whose wait was cut
			// short, has still to apply: until it has, its latches keep
			// every request that touches its keys from evaluating
			// without it (a read would miss the intent, a QueryIntent
			// would find it missing, a resolution would clear a lock
			// record written since). The lock table already names the
			// transaction as the keys' holder (a write that never
			// applies leaves a lock its waiters push past once the
			// transaction ends).
			guard := g
			r.releaseAfter(applied, func() { m.FinishReq(guard) })
			g = nil
		}
		if err == nil || applied != nil {
			return resp, err
		}
		var lce *kv.LockConflictError
		var wto *kv.WriteTooOldError
		var unc *kv.ReadWithinUncertaintyIntervalError
		switch {
		case errors.As(err, &lce) && len(req.Spans) > 0:
			// Waiting is not a retry: no bound on the attempts.
			attempt--
			if g, err = m.HandleLockConflictError(ctx, g, lce); err != nil {
				return nil, r.waitError(ba, err)
			}
			continue
		case attempt >= maxEvalRetries:
			r.lockAfterWriteTooOld(m, ba, err)
			return nil, err
		case errors.As(err, &unc) && ba.Header.GetTxn() == nil:
			// A non-transactional read picks its own timestamp: move the
			// clock past the uncertain value (one this range holds, so
			// accepted by a clock before) and read again.
			r.store.clock.Forward(unc.ValueTimestamp)
		case errors.As(err, &wto) && ba.Header.GetTxn() != nil && batchWrites(ba):
			// A write: it may go above the newer value (its commit then
			// needs a refresh). A locking read's WriteTooOld goes back to
			// the coordinator, which moves its reads up and reads again.
			ba = proto.Clone(ba).(*rangepb.BatchRequest)
			meta := ba.Header.Txn.Meta
			ts := tsFromProto(meta.WriteTimestamp)
			ts.Forward(wto.ActualTimestamp)
			meta.WriteTimestamp = tsToProto(ts)
		default:
			r.lockAfterWriteTooOld(m, ba, err)
			return nil, err
		}
	}
}

// lockAfterWriteTooOld takes the locks of a transaction's locking point
// reads that failed with a WriteTooOldError: the coordinator moves its
// reads above the newer value and reads again, and it must find the key
// still its own then. Without the lock, another writer queued behind can
// commit in between, and under contention (pgbench TPC-B's branch row) a
// transaction lost that race round after round until it gave up with
// 40001. CockroachDB's locking reads have the same starvation
// (cockroachdb/cockroach#145377). A coordinator that gives up instead
// releases the lock with its rollback, like any other.
func (r *Replica) lockAfterWriteTooOld(m *concurrency.Manager, ba *rangepb.BatchRequest, err error) {
	var wto *kv.WriteTooOldError
	t := ba.Header.GetTxn()
	if !errors.As(err, &wto) || t.GetMeta() == nil || len(t.Meta.Key) == 0 {
		// Only a transaction with a record holds a locking read's lock
		// (see updateLockTable).
		return
	}
	meta := metaToKV(t.Meta)
	meta.WriteTimestamp.Forward(wto.ActualTimestamp)
	for _, ru := range ba.Requests {
		if g := ru.GetGet(); g != nil && g.ForUpdate {
			_ = m.OnUnreplicatedLockAcquired(g.Key, meta)
		}
	}
}

// waitError turns a failed wait into the error the client expects: its
// own transaction aborted while it waited is a TransactionAbortedError
// (the client restarts it); anything else (the context ended, a push
// failed) goes back as it is.
func (r *Replica) waitError(ba *rangepb.BatchRequest, err error) error {
	var ab *concurrency.TxnAbortedError
	if errors.As(err, &ab) && ba.Header.GetTxn() != nil {
		t := proto.Clone(ba.Header.Txn).(*rangepb.Transaction)
		t.Status = rangepb.TransactionStatus_ABORTED
		return &TransactionAbortedError{Txn: t}
	}
	if errors.Is(err, context.Canceled) {
		select {
		case <-r.store.stopper.ShouldQuiesce():
			// The node is stopping and ended the wait: nothing of the
			// batch was evaluated, so another replica may serve it. A
			// bare "context canceled" failed the caller's transaction for
			// good (TestBankSerializable, a node restarting under an
			// audit).
			return &NodeUnavailableError{NodeID: r.store.nodeID}
		default:
		}
	}
	return err
}

// lockSpans lists the keys whose locks a batch must respect: the keys it
// writes and locking reads (exclusive access), and the keys it reads
// (waiting only for intents at or below its timestamp). Transaction
// requests (records, resolution, refreshes) take latches only: a
// resolution must not wait for the lock it resolves.
func lockSpans(ba *rangepb.BatchRequest) []concurrency.LockSpan {
	var out []concurrency.LockSpan
	for _, ru := range ba.Requests {
		req := ru.Inner()
		if req == nil || commands[req.Method()] == nil || !commands[req.Method()].waitsForLocks {
			continue
		}
		a := concurrency.Read
		if req.Method().Flags().Has(rangepb.WritesUserKeys) {
			a = concurrency.Write
		} else if l, ok := req.(rangepb.LockingRequest); ok && l.GetForUpdate() {
			a = concurrency.Write
		}
		key, end, _ := req.Addr()
		if len(end) == 0 {
			end = nil
		}
		out = append(out, concurrency.LockSpan{Span: concurrency.Span{Key: key, EndKey: end}, Access: a})
	}
	return out
}

// lockTableUpdate is what the requests of a served batch tell the lock
// table (command.afterEval).
type lockTableUpdate struct {
	m    *concurrency.Manager
	desc *rangepb.RangeDescriptor
	// txn is the batch's transaction as the range left it (nil outside
	// one), finalTxn its proto when the batch finished it.
	txn      *kv.TxnMeta
	finalTxn *rangepb.Transaction
	// canLock: only a transaction with an anchor key holds a locking
	// read's lock: a lock must name the key its record is (or will be)
	// at, where others push it. (The coordinator sets the anchor at the
	// first write or locking read; until the record is written, a push
	// finds the transaction alive for a liveness threshold from its
	// start.)
	canLock bool
}

// acquired notes the intent the batch's transaction wrote at key. An
// error is a holder the table has wrong (storage just took the intent):
// the waiters of that stale lock push its holder, find it finished, and
// move on.
func (u *lockTableUpdate) acquired(key []byte) {
	// A batch that finished its transaction (a one-phase commit, or a
	// commit with its last writes) leaves no lock behind: its EndTxn
	// releases them all.
	if u.txn != nil && !isFinal(u.finalTxn.GetStatus()) {
		_ = u.m.OnLockAcquired(key, *u.txn)
	}
}

// acquiredWrittenKey is the afterEval of a point write: its intent.
func acquiredWrittenKey(u *lockTableUpdate, req rangepb.Request, _ *rangepb.ResponseUnion) {
	key, _, _ := req.Addr()
	u.acquired(key)
}

// txnUpdated is the afterEval of a request that answers a transaction's
// record (a push, a recovery): waiters on it learn its state.
func txnUpdated(get func(*rangepb.ResponseUnion) *rangepb.Transaction) func(*lockTableUpdate, rangepb.Request, *rangepb.ResponseUnion) {
	return func(u *lockTableUpdate, _ rangepb.Request, res *rangepb.ResponseUnion) {
		if t := get(res); t.GetMeta() != nil {
			u.m.OnTxnUpdated(recordOf(t))
		}
	}
}

// updateLockTable tells the lock table what a served batch did, while the
// batch still holds its latches (so that no request evaluates between the
// write and the table knowing of it): intents written, locking reads'
// locks taken, a transaction's locks released by its EndTxn, intents
// resolved, a record pushed (each request's command.afterEval).
func (r *Replica) updateLockTable(m *concurrency.Manager, ba *rangepb.BatchRequest, br *rangepb.BatchResponse, desc *rangepb.RangeDescriptor) {
	u := &lockTableUpdate{m: m, desc: desc, finalTxn: br.GetTxn()}
	if t := br.GetTxn(); t.GetMeta() != nil {
		meta := metaToKV(t.Meta)
		u.txn = &meta
		u.canLock = len(meta.Key) > 0
	}
	for i, ru := range ba.Requests {
		req := ru.Inner()
		if req == nil || i >= len(br.Responses) {
			continue
		}
		if cmd := commands[req.Method()]; cmd != nil && cmd.afterEval != nil {
			cmd.afterEval(u, req, br.Responses[i])
		}
	}
}

// recordOf is a transaction's record as the concurrency manager sees it.
func recordOf(t *rangepb.Transaction) concurrency.TxnRecord {
	return concurrency.TxnRecord{
		Meta: metaToKV(t.Meta), Status: statusToKV(t.Status), LastActive: tsFromProto(t.LastHeartbeat),
		IgnoredSeqNums: seqRangesToKV(t.IgnoredSeqNums),
	}
}

// replicaPusher reaches transaction records and intents, wherever they
// live, for the replica's concurrency manager: QueryTxn, PushTxn and
// ResolveIntent requests sent through the store's TxnSender.
type replicaPusher struct{ r *Replica }

var _ concurrency.Pusher = replicaPusher{}

func (p replicaPusher) send(ctx context.Context, txn *rangepb.Transaction, ru *rangepb.RequestUnion) (*rangepb.ResponseUnion, error) {
	br, err := p.r.store.cfg.TxnSender.Send(ctx, &rangepb.BatchRequest{
		Header: &rangepb.BatchHeader{Txn: txn}, Requests: []*rangepb.RequestUnion{ru},
	})
	if err != nil {
		return nil, err
	}
	if len(br.Responses) != 1 {
		return nil, errors.AssertionFailedf("%d responses to one request", len(br.Responses))
	}
	return br.Responses[0], nil
}

// QueryTxn reads txn's record. A transaction without one has not written
// it yet; a push that the manager decides to make aborts it for good (see
// evalPushTxn), as it does a stray intent's.
func (p replicaPusher) QueryTxn(ctx context.Context, txn kv.TxnMeta) (concurrency.TxnRecord, error) {
	if len(txn.Key) == 0 {
		// No anchor yet: the transaction has not written, so has no
		// record (a waiting request asks about its own transaction, or
		// about a claimant about to write its first intent).
		return concurrency.TxnRecord{Meta: txn, Status: kv.PENDING, LastActive: txn.MinTimestamp}, nil
	}
	res, err := p.send(ctx, nil, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_QueryTxn{QueryTxn: &rangepb.QueryTxnRequest{
		Key: txn.Key, Txn: metaFromKV(txn),
	}}})
	if err != nil {
		return concurrency.TxnRecord{}, err
	}
	q := res.GetQueryTxn()
	if !q.GetFound() || q.GetQueriedTxn().GetMeta() == nil {
		// Not written yet: live since it started, as far as anyone knows
		// (a claimant about to write its first intent). A push of it still
		// finds no record and aborts it, if the pusher may push.
		return concurrency.TxnRecord{Meta: txn, Status: kv.PENDING, LastActive: txn.MinTimestamp}, nil
	}
	return recordOf(q.QueriedTxn), nil
}

// PushTxn pushes at the pushee's record, which decides (evalPushTxn): a
// refusal comes back as the record unpushed, for the manager to wait on.
func (p replicaPusher) PushTxn(
	ctx context.Context, pusher *kv.TxnMeta, pushee kv.TxnMeta, typ concurrency.PushType, pushTo hlc.Timestamp, force bool,
) (concurrency.TxnRecord, error) {
	if len(pushee.Key) == 0 {
		// A claimant that has not written yet has no anchor, so no record
		// to push: it is live (its request is in flight), and the pusher
		// waits for it to write or leave.
		return concurrency.TxnRecord{Meta: pushee, Status: kv.PENDING, LastActive: pushee.MinTimestamp}, nil
	}
	var hdr *rangepb.Transaction
	// A forced push (a deadlock broken) needs no pusher; the victim may be
	// the pusher itself.
	if pusher != nil && !force {
		hdr = &rangepb.Transaction{Meta: metaFromKV(*pusher)}
	}
	pt := rangepb.PushTxnType_PUSH_TIMESTAMP
	if typ == concurrency.PushAbort {
		pt = rangepb.PushTxnType_PUSH_ABORT
	}
	res, err := p.send(ctx, hdr, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_PushTxn{PushTxn: &rangepb.PushTxnRequest{
		Key: pushee.Key, Pushee: metaFromKV(pushee), PushTo: tsToProto(pushTo), PushType: pt, Force: force,
	}}})
	var tpe *TransactionPushError
	if errors.As(err, &tpe) && tpe.Pushee.GetMeta() != nil {
		return recordOf(tpe.Pushee), nil
	}
	var ice *IndeterminateCommitError
	if errors.As(err, &ice) && ice.StagingTxn.GetMeta() != nil {
		// A STAGING record: whether it committed is for its in-flight
		// writes to say. What recovery leaves (final, or staged anew) is
		// the answer; the manager pushes again if it is not final.
		return p.recover(ctx, ice.StagingTxn)
	}
	if err != nil {
		return concurrency.TxnRecord{}, err
	}
	t := res.GetPushTxn().GetPusheeTxn()
	if t.GetMeta() == nil {
		return concurrency.TxnRecord{}, errors.AssertionFailedf("PushTxn answered without the pushee")
	}
	return recordOf(t), nil
}

// Publish adds or withdraws the edge waiter -> pushee at waiter's record
// (concurrency.WaitGraph).
func (p replicaPusher) Publish(ctx context.Context, waiter, pushee kv.TxnMeta, withdraw bool) error {
	_, err := p.send(ctx, nil, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_WaitsFor{WaitsFor: &rangepb.WaitsForRequest{
		Key: waiter.Key, Txn: metaFromKV(waiter), Pushee: metaFromKV(pushee), Withdraw: withdraw,
	}}})
	return err
}

// WaitsFor lists the transactions txn waits for, as published at its
// record (concurrency.WaitGraph).
func (p replicaPusher) WaitsFor(ctx context.Context, txn kv.TxnMeta) ([]kv.TxnMeta, error) {
	res, err := p.send(ctx, nil, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_WaitsFor{WaitsFor: &rangepb.WaitsForRequest{
		Key: txn.Key, Txn: metaFromKV(txn),
	}}})
	if err != nil {
		return nil, err
	}
	var out []kv.TxnMeta
	for _, m := range res.GetWaitsFor().GetPushees() {
		out = append(out, metaToKV(m))
	}
	return out, nil
}

// ResolveIntent resolves the intents of up's span at their range.
func (p replicaPusher) ResolveIntent(ctx context.Context, up concurrency.LockUpdate) error {
	st := rangepb.TransactionStatus_PENDING
	switch up.Status {
	case kv.COMMITTED:
		st = rangepb.TransactionStatus_COMMITTED
	case kv.ABORTED:
		st = rangepb.TransactionStatus_ABORTED
	}
	// Someone else's resolution of an aborted transaction's intents: the
	// transaction, maybe still running, must not read on without them
	// (abort_span.go).
	poison := st == rangepb.TransactionStatus_ABORTED
	ru := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ResolveIntent{ResolveIntent: &rangepb.ResolveIntentRequest{
		Key: up.Key, Txn: metaFromKV(up.Txn), Status: st, IgnoredSeqNums: seqRangesFromKV(up.IgnoredSeqNums), Poison: poison,
	}}}
	if len(up.EndKey) > 0 {
		ru = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ResolveIntentRange{ResolveIntentRange: &rangepb.ResolveIntentRangeRequest{
			Span: &rangepb.Span{Key: up.Key, EndKey: up.EndKey}, Txn: metaFromKV(up.Txn), Status: st,
			IgnoredSeqNums: seqRangesFromKV(up.IgnoredSeqNums), Poison: poison,
		}}}
	}
	_, err := p.send(ctx, nil, ru)
	return err
}

// recover finishes a STAGING transaction found abandoned (or in the way
// of a pusher that wins): it asks for every in-flight write with
// QueryIntent, which also keeps a missing one from ever landing at or
// below the staged timestamp, then commits the record if all were there
// and aborts it otherwise (RecoverTxn; see replica_eval_staging.go). The
// queries go out in one batch, to their ranges.
func (p replicaPusher) recover(ctx context.Context, staging *rangepb.Transaction) (concurrency.TxnRecord, error) {
	implicit := true
	if ws := staging.InFlightWrites; len(ws) > 0 {
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}}
		for _, w := range ws {
			m := proto.Clone(staging.Meta).(*rangepb.TxnMeta)
			m.Sequence = w.Sequence
			ba.Requests = append(ba.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_QueryIntent{QueryIntent: &rangepb.QueryIntentRequest{
				Key: w.Key, Txn: m,
			}}})
		}
		br, err := p.r.store.cfg.TxnSender.Send(ctx, ba)
		if err != nil {
			return concurrency.TxnRecord{}, errors.Wrap(err, "recovering a STAGING transaction")
		}
		for _, res := range br.Responses {
			if !res.GetQueryIntent().GetFound() {
				implicit = false
				break
			}
		}
	}
	res, err := p.send(ctx, nil, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_RecoverTxn{RecoverTxn: &rangepb.RecoverTxnRequest{
		Key: staging.Meta.Key, Txn: staging.Meta, ImplicitlyCommitted: implicit,
	}}})
	if err != nil {
		return concurrency.TxnRecord{}, err
	}
	t := res.GetRecoverTxn().GetRecoveredTxn()
	if t.GetMeta() == nil {
		return concurrency.TxnRecord{}, errors.AssertionFailedf("RecoverTxn answered without the transaction")
	}
	return recordOf(t), nil
}
