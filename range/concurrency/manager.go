package concurrency

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

// DefaultTxnLivenessThreshold is how long a PENDING transaction may go
// without a heartbeat before pushers may abort it, as in CockroachDB
// (five heartbeat intervals of one second).
const DefaultTxnLivenessThreshold = 5 * time.Second

// DefaultPushRecheckInterval is how often a waiting push looks at its
// pushee's record again, to notice an expired heartbeat.
const DefaultPushRecheckInterval = time.Second

// Config configures a Manager.
type Config struct {
	// Pusher reads and pushes transaction records and resolves intents.
	// Required.
	Pusher Pusher
	// Clock tells the time for heartbeat expiry. Required.
	Clock Clock
	// Latches, if set, serialises evaluation: SequenceReq returns with the
	// request's latches held, and drops them while it waits for locks.
	// Without it the caller latches (and must not hold latches while
	// SequenceReq waits).
	Latches *spanlatch.Manager
	// TxnLivenessThreshold: default DefaultTxnLivenessThreshold.
	TxnLivenessThreshold time.Duration
	// PushRecheckInterval: default DefaultPushRecheckInterval.
	PushRecheckInterval time.Duration
	// PushWins, if set, decides whether a pusher may push a live pushee
	// at once rather than wait for it; by default a higher priority wins.
	// It must be the order the records' PushTxn follows, or the manager
	// would push where the record refuses (and wait anyway) or wait where
	// it could have pushed.
	PushWins func(pusher, pushee kvpb.TxnMeta) bool
	// WoundAfter, if positive, delays PushWins: a pusher that does not
	// have the higher priority waits that long for a live pushee before
	// its PushWins order lets it push. Waiting is what queues are for (a
	// holder usually finishes in milliseconds, and an abort costs a whole
	// retry); the delayed push bounds a wait that a cycle through
	// managers this one cannot see (other nodes) would make endless.
	WoundAfter time.Duration
	// WaitQueue, if set, is the txn wait queue this manager shares with
	// others (a store's replicas): the deadlock detection then sees the
	// waits through all of them, and a record change one of them learns
	// wakes the pushes waiting through the others. Default: a queue of
	// its own.
	WaitQueue *TxnWaitQueue
	// NoRecheckBeforeWait skips the two record reads (the pusher's own,
	// the pushee's) a push makes before it waits. They catch, at once, an
	// abort of the pusher and a change of the pushee's record made through
	// another manager; without them, such a change is seen when the lock
	// table moves (the pushee's intents resolved, a claimant leaving) or
	// at the recheck interval. A replica sets it: every record change that
	// matters to a waiter there shows in its lock table (a finished or
	// pushed holder's intents are resolved through it), and the reads
	// cost two round trips per wait.
	NoRecheckBeforeWait bool
	// WaitGraph, if set, reaches the wait-for graph's edges published at
	// transaction records: waits that last DeadlockProbeDelay are
	// published there and deadlocks through other nodes found
	// (wait_graph.go).
	WaitGraph WaitGraph
	// DeadlockProbeDelay: default DefaultDeadlockProbeDelay.
	DeadlockProbeDelay time.Duration
	// Deadlocks, if set, counts the deadlocks the manager breaks (shared
	// by a store's managers).
	Deadlocks *DeadlockCounts
	// Knobs are hooks for tests.
	Knobs TestingKnobs
}

// DeadlockCounts counts the deadlocks broken: found in the shared txn wait
// queue (Local) or through the published edges of other nodes
// (Distributed).
type DeadlockCounts struct {
	Local, Distributed atomic.Int64
}

func (m *Manager) countDeadlock(distributed bool) {
	switch {
	case m.cfg.Deadlocks == nil:
	case distributed:
		m.cfg.Deadlocks.Distributed.Add(1)
	default:
		m.cfg.Deadlocks.Local.Add(1)
	}
}

// TestingKnobs let tests follow a request through the manager.
type TestingKnobs struct {
	// OnEvent is called with each step a waiting request takes.
	OnEvent func(g *Guard, event string)
	// BeforeBlock is called just before a request blocks, with the number
	// of signals it had seen; the request will not block if it has been
	// signalled since.
	BeforeBlock func(g *Guard, seen uint64)
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	if c.TxnLivenessThreshold <= 0 {
		c.TxnLivenessThreshold = DefaultTxnLivenessThreshold
	}
	if c.PushRecheckInterval <= 0 {
		c.PushRecheckInterval = DefaultPushRecheckInterval
	}
	if c.DeadlockProbeDelay <= 0 {
		c.DeadlockProbeDelay = DefaultDeadlockProbeDelay
	}
}

// Manager sequences a replica's requests: latches (optionally), the lock
// table and the txn wait queue. It is safe for concurrent use; it starts no
// goroutines: every wait happens on the caller's.
type Manager struct {
	cfg Config
	lt  *lockTable
	twq *TxnWaitQueue
}

var _ Clock = (*hlc.Clock)(nil)

// NewManager returns a manager with an empty lock table. A Config without
// a Pusher or a Clock is a programming error, and panics.
func NewManager(cfg Config) *Manager {
	if cfg.Pusher == nil || cfg.Clock == nil {
		panic(errors.AssertionFailedf("concurrency.Config needs a Pusher and a Clock"))
	}
	cfg.EnsureDefaults()
	twq := cfg.WaitQueue
	if twq == nil {
		twq = NewTxnWaitQueue()
	}
	return &Manager{cfg: cfg, lt: newLockTable(), twq: twq}
}

// signal wakes a request's goroutine. sent counts notifications, so that a
// test can tell a blocked request from one about to wake.
type signal struct {
	ch   chan struct{}
	sent atomic.Uint64
}

func (s *signal) notify() {
	s.sent.Add(1)
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// drain discards a pending notification; the caller is about to look at
// the state anyway.
func (s *signal) drain() {
	select {
	case <-s.ch:
	default:
	}
}

// Guard is a request in the manager, from SequenceReq to FinishReq. Its
// methods are safe for concurrent use; the request uses it from one
// goroutine.
type Guard struct {
	req Request
	// writeLatchTs is the request's timestamp as sequenced: its write
	// latches stay there when a discovered lock moves req.Timestamp up
	// (lockTable.addDiscovered). A write latch excludes the reads at or
	// above its timestamp; raised above the timestamp the request writes
	// at, it let a read between the two evaluate beside the write and miss
	// it (TestManagerRandomized, about one run in 80).
	writeLatchTs hlc.Timestamp
	sig          signal
	latch        *spanlatch.Guard
	// lt is guarded by the lock table's mutex.
	lt ltGuardState
	// aborted is set when the manager learns that the request's
	// transaction was aborted.
	aborted atomic.Bool
}

// Request returns the request the guard sequences; treat it as read-only.
func (g *Guard) Request() *Request { return &g.req }

// SequenceReq waits until req may evaluate: no lock in its spans is held
// by another transaction (that it must wait for) and no writer queued ahead
// of it claims one. While waiting it pushes the holders (see doc.go). It
// returns a guard, holding req's latches if the manager latches; pass it
// to FinishReq when the request is done, whatever the outcome. On error
// (ctx ended, the request's txn aborted, a push failed) nothing is held.
func (m *Manager) SequenceReq(ctx context.Context, req Request) (*Guard, error) {
	// The guard keeps its own copy of the transaction: the caller's may
	// move on (a pushed timestamp) while other requests read this one.
	if req.Txn != nil {
		txn := *req.Txn
		req.Txn = &txn
	}
	g := &Guard{req: req, writeLatchTs: req.Timestamp}
	g.sig.ch = make(chan struct{}, 1)
	if err := m.sequence(ctx, g); err != nil {
		m.FinishReq(g)
		return nil, err
	}
	return g, nil
}

// HandleLockConflictError is called when g's evaluation ran into intents
// the lock table did not know (a *kvpb.LockConflictError): it adds them,
// drops g's latches and sequences g again, waiting as SequenceReq does. On
// error g is finished.
func (m *Manager) HandleLockConflictError(ctx context.Context, g *Guard, lce *kvpb.LockConflictError) (*Guard, error) {
	for _, l := range lce.Locks {
		m.event(g, "discovered lock on %q held by txn %s", l.Key, l.Txn.ID.Short())
		m.lt.addDiscovered(g, l.Key, l.Txn)
	}
	m.releaseLatches(g)
	if err := m.sequence(ctx, g); err != nil {
		m.FinishReq(g)
		return nil, err
	}
	return g, nil
}

func (m *Manager) sequence(ctx context.Context, g *Guard) error {
	for {
		if err := m.acquireLatches(ctx, g); err != nil {
			return err
		}
		if !m.lt.scanAndEnqueue(g) {
			return nil
		}
		// Never hold latches while waiting for another transaction: the
		// holder needs them to resolve its intents.
		m.releaseLatches(g)
		if err := m.waitOnLocks(ctx, g); err != nil {
			return err
		}
	}
}

// Metrics describes the manager's current contents.
type Metrics struct {
	// Locks is the number of keys with a lock held; Queued the number of
	// requests in lock queues (waiting, or claiming a released lock).
	Locks, Queued int
	// WaitingPushes is the number of pushes waiting in the txn wait queue.
	WaitingPushes int
}

// Metrics returns the manager's current contents.
func (m *Manager) Metrics() Metrics {
	var mt Metrics
	for _, l := range m.lt.snapshot() {
		if l.holder != nil {
			mt.Locks++
		}
		mt.Queued += len(l.queue)
	}
	mt.WaitingPushes = len(m.twq.edges())
	return mt
}

// FinishReq releases everything g holds: latches, and its places in lock
// queues (a claim passes to the next writer).
func (m *Manager) FinishReq(g *Guard) {
	m.releaseLatches(g)
	m.lt.dequeue(g)
}

// OnLockAcquired tells the manager that txn wrote an intent at key, under
// the latches of a request sequenced past every lock there: a different
// holder the table still names is stale and is replaced.
func (m *Manager) OnLockAcquired(key []byte, txn kvpb.TxnMeta) error {
	return m.lt.acquire(key, txn, true)
}

// OnUnreplicatedLockAcquired tells the manager that txn locked key with a
// locking read (SELECT FOR UPDATE, the read of an UPDATE): writers and
// other locking reads wait for it as for an intent, plain reads ignore it
// (as PostgreSQL's reads ignore row locks). It lives only in this table:
// lost with a lease change, which is safe (MVCC and refreshes keep
// correctness; the lock only makes conflicts cheaper).
func (m *Manager) OnUnreplicatedLockAcquired(key []byte, txn kvpb.TxnMeta) error {
	return m.lt.acquire(key, txn, false)
}

// ReleaseAll forgets every lock, as if all were released: the table's
// state is the leaseholder's, and a replica that (re)gains the lease
// cannot trust what it knew under an earlier one. Waiters go on and
// evaluate; the intents they meet in storage are added back
// (HandleLockConflictError).
func (m *Manager) ReleaseAll() {
	m.lt.releaseAll()
}

// OnLockUpdated tells the manager that intents were resolved (committed,
// aborted, or moved to a higher timestamp); waiters move on in order.
func (m *Manager) OnLockUpdated(up LockUpdate) {
	m.lt.update(up)
}

// OnTxnUpdated tells the manager that a transaction's record changed
// (committed, aborted, pushed, heartbeated): pushes waiting on it look
// again, and its own pushes fail if it was aborted.
func (m *Manager) OnTxnUpdated(rec TxnRecord) {
	m.txnUpdated(rec)
}

// txnUpdated passes on what the manager learnt of a record: pushes waiting
// on it look again; if it is aborted, its own waiting requests (pushes and
// lock waits, claimants among them) give up.
func (m *Manager) txnUpdated(rec TxnRecord) {
	m.twq.txnUpdated(rec)
	if rec.Status == kvpb.ABORTED {
		m.lt.txnAborted(rec.Meta.ID)
	}
}

func (m *Manager) acquireLatches(ctx context.Context, g *Guard) error {
	if m.cfg.Latches == nil {
		return nil
	}
	if g.req.LatchSpans != nil {
		lg, err := m.cfg.Latches.Acquire(ctx, g.req.LatchSpans)
		if err != nil {
			return err
		}
		g.latch = lg
		return nil
	}
	spans := make([]spanlatch.LatchSpan, len(g.req.Spans))
	for i, s := range g.req.Spans {
		spans[i] = spanlatch.LatchSpan{
			Span:      spanlatch.Span{Key: s.Key, EndKey: s.EndKey},
			Access:    spanlatch.Read,
			Timestamp: g.req.Timestamp,
		}
		if s.Access == Write {
			spans[i].Access, spans[i].Timestamp = spanlatch.Write, g.writeLatchTs
		}
	}
	lg, err := m.cfg.Latches.Acquire(ctx, spans)
	if err != nil {
		return err
	}
	g.latch = lg
	return nil
}

func (m *Manager) releaseLatches(g *Guard) {
	if g.latch != nil {
		m.cfg.Latches.Release(g.latch)
		g.latch = nil
	}
}

// now is the manager's clock reading.
func (m *Manager) now() hlc.Timestamp { return m.cfg.Clock.Now() }

func (m *Manager) event(g *Guard, format string, args ...any) {
	if f := m.cfg.Knobs.OnEvent; f != nil {
		f(g, fmt.Sprintf(format, args...))
	}
}
