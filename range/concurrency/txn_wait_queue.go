package concurrency

import (
	"bytes"
	"context"
	"sync"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
)

// PushType is what a pusher wants done to the pushee.
type PushType int8

const (
	// PushTimestamp moves the pushee's write timestamp above the pusher's
	// read timestamp, so that a reader need not wait for the intent.
	PushTimestamp PushType = iota
	// PushAbort aborts the pushee, so that a writer can replace its
	// intent.
	PushAbort
)

func (p PushType) String() string {
	if p == PushTimestamp {
		return "timestamp"
	}
	return "abort"
}

// TxnRecord is a transaction's state as its record holds it.
type TxnRecord struct {
	Meta   kvpb.TxnMeta
	Status kvpb.TxnStatus
	// LastActive is the transaction's last heartbeat (or its start): a
	// PENDING transaction not heard from for the liveness threshold is
	// presumed abandoned and may be aborted by anyone.
	LastActive hlc.Timestamp
	// IgnoredSeqNums are the writes the transaction rolled back
	// (savepoints), which resolving its intents must drop.
	IgnoredSeqNums []kvpb.SeqNumRange
}

func (r TxnRecord) finalized() bool { return r.Status == kvpb.COMMITTED || r.Status == kvpb.ABORTED }

// Pusher reaches transaction records and intents for the manager; it is
// all the I/O the concurrency manager needs. The transaction layer
// implements it with QueryTxn, PushTxn and ResolveIntent requests.
type Pusher interface {
	// QueryTxn returns txn's current record. A transaction that has not
	// written its record yet is PENDING, last active at its MinTimestamp.
	QueryTxn(ctx context.Context, txn kvpb.TxnMeta) (TxnRecord, error)
	// PushTxn pushes pushee: aborts it (PushAbort) or raises its write
	// timestamp to at least pushTo (PushTimestamp), atomically with the
	// record, and returns the record after the push. A record already
	// COMMITTED or ABORTED is returned unchanged. The manager calls it
	// when it has found the push may succeed (pushee expired, or the
	// pusher's priority higher); the record is the authority and may
	// still refuse (returning the record unpushed, not an error): the
	// manager then waits. With force (breaking a deadlock: always
	// PushAbort) the push must succeed unless the record is final.
	// pusher is the pushing request's transaction (nil: none).
	PushTxn(ctx context.Context, pusher *kvpb.TxnMeta, pushee kvpb.TxnMeta, typ PushType, pushTo hlc.Timestamp, force bool) (TxnRecord, error)
	// ResolveIntent brings the intents in up's span in line with up: it
	// commits, removes or moves them. A resolution is a write: it must
	// take latches over the span (but not scan the lock table, whose lock
	// it is resolving), so that it cannot slip between another request's
	// evaluation and that request reporting the locks it found or wrote.
	// The manager calls it holding no latches.
	ResolveIntent(ctx context.Context, up LockUpdate) error
}

// Clock tells the time for heartbeat expiry; *hlc.Clock is one.
type Clock interface {
	Now() hlc.Timestamp
}

// TxnWaitQueue holds the pushes that could not succeed yet: the pusher's
// priority is not higher and the pushee is alive. Each waiting push is an
// edge pusher → pushee of the wait-for graph; a new edge that closes a
// cycle is a deadlock, broken at once by aborting the cycle's txn of
// lowest priority (ties: lowest ID). A push waits until the pushee's
// record changes (OnTxnUpdated), its own transaction is aborted, or the
// pushee may have expired.
//
// CockroachDB keeps one queue per range, at the range holding the pushee's
// record, and finds cycles by letting pushers query the dependencies
// of their pushees periodically. One queue for all the pushes of a
// manager lets a new edge find a cycle in one walk of the graph; it sees
// every edge only while all pushes go through the same manager (see
// doc.go).
//
// It is safe for concurrent use.
type TxnWaitQueue struct {
	mu struct {
		sync.Mutex
		waiters map[*pushWaiter]struct{}
	}
}

// pushWaiter is one waiting push.
type pushWaiter struct {
	pusher *kvpb.TxnMeta // nil for a non-transactional request
	pushee kvpb.TxnMeta
	sig    *signal
	// pusherAborted is set, under the queue's mutex, when the pusher's own
	// transaction is aborted while it waits.
	pusherAborted bool
	// current reports whether the edge still stands: the waiter still
	// waits on pushee. An edge outlives its wait until its goroutine
	// wakes and removes it; a cycle through such a stale edge is none.
	current func() bool
}

// NewTxnWaitQueue returns an empty queue, for managers to share (see
// Config.WaitQueue).
func NewTxnWaitQueue() *TxnWaitQueue {
	q := &TxnWaitQueue{}
	q.mu.waiters = map[*pushWaiter]struct{}{}
	return q
}

// register adds w's edge.
func (q *TxnWaitQueue) register(w *pushWaiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.mu.waiters[w] = struct{}{}
}

// findCycle returns the transactions of a cycle through w's edge in the
// wait-for graph, starting with w's pusher, or nil. Of the edges of a
// cycle, the last to register finds it. Every edge of the cycle is checked
// to be current (outside the queue's mutex: the check reads the waiter's
// lock table): a waiter whose state moved on (a claim passed to another
// request, a holder that went) may not have removed its edge yet, and
// aborting a transaction for a cycle that no longer exists costs a retry
// for nothing (seen in pgbench TPC-B with 4 clients: two requests each
// claiming the branch row in the other's stale view).
func (q *TxnWaitQueue) findCycle(w *pushWaiter) []kvpb.TxnMeta {
	cycle, edges := q.findCycleLocked(w)
	for _, e := range edges {
		if e.current != nil && !e.current() {
			return nil
		}
	}
	return cycle
}

func (q *TxnWaitQueue) findCycleLocked(w *pushWaiter) ([]kvpb.TxnMeta, []*pushWaiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if w.pusher == nil || w.pusherAborted {
		return nil, nil
	}
	// Walk the edges from the pushee, depth first, looking for the
	// pusher. Each transaction is visited once, so a walk costs
	// O(edges) however tangled the graph.
	edges := map[kvpb.TxnID][]*pushWaiter{}
	for o := range q.mu.waiters {
		// An aborted pusher's edge is gone as soon as its request wakes
		// up; counting it would break the same cycle twice.
		if o.pusher != nil && !o.pusherAborted {
			edges[o.pusher.ID] = append(edges[o.pusher.ID], o)
		}
	}
	target := w.pusher.ID
	visited := map[kvpb.TxnID]bool{}
	// path holds the edges from w.pushee to the current transaction.
	var path []*pushWaiter
	var walk func(id kvpb.TxnID) bool
	walk = func(id kvpb.TxnID) bool {
		if id == target {
			return true
		}
		if visited[id] {
			return false
		}
		visited[id] = true
		for _, e := range edges[id] {
			path = append(path, e)
			if walk(e.pushee.ID) {
				return true
			}
			path = path[:len(path)-1]
		}
		return false
	}
	if !walk(w.pushee.ID) {
		return nil, nil
	}
	cycle := []kvpb.TxnMeta{*w.pusher}
	for _, e := range path {
		cycle = append(cycle, *e.pusher)
	}
	return cycle, append(path, w)
}

// unregister removes w's edge and reports whether the pusher was aborted
// while it waited.
func (q *TxnWaitQueue) unregister(w *pushWaiter) (pusherAborted bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.mu.waiters, w)
	return w.pusherAborted
}

// txnUpdated wakes the pushes waiting on rec's transaction, and fails the
// pushes made by it if it was aborted.
func (q *TxnWaitQueue) txnUpdated(rec TxnRecord) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for w := range q.mu.waiters {
		if w.pushee.ID == rec.Meta.ID {
			w.sig.notify()
		}
		if rec.Status == kvpb.ABORTED && w.pusher != nil && w.pusher.ID == rec.Meta.ID {
			w.pusherAborted = true
			w.sig.notify()
		}
	}
}

// edges returns the waiting pushes as (pusher, pushee) pairs, for tests
// and debugging; a non-transactional pusher has a zero ID.
func (q *TxnWaitQueue) edges() [][2]kvpb.TxnID {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out [][2]kvpb.TxnID
	for w := range q.mu.waiters {
		var from kvpb.TxnID
		if w.pusher != nil {
			from = w.pusher.ID
		}
		out = append(out, [2]kvpb.TxnID{from, w.pushee.ID})
	}
	return out
}

// deadlockVictim picks the transaction of a cycle to abort: the lowest
// priority, then the lowest ID. Every member that finds the cycle picks
// the same one.
func deadlockVictim(cycle []kvpb.TxnMeta) kvpb.TxnMeta {
	v := cycle[0]
	for _, t := range cycle[1:] {
		if t.Priority < v.Priority || (t.Priority == v.Priority && bytes.Compare(t.ID[:], v.ID[:]) < 0) {
			v = t
		}
	}
	return v
}
