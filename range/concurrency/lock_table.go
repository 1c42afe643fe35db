package concurrency

import (
	"bytes"
	"sync"

	"github.com/google/btree"
	"github.com/meridiandb/meridian/kv/kvpb"
)

// lockTable holds, per key, the transaction that holds a lock there (as far
// as this replica knows) and the FIFO queue of requests waiting for it. It
// does no I/O and never blocks: it tells a request whether it must wait and
// on whom, and signals the request when that changes. It is safe for
// concurrent use.
//
// A key has a lockState while its lock is held or while requests queue on
// it. When a lock is released with writers queued, the first of them
// becomes the claimant: it stops waiting and keeps its place at the head
// of the queue, and the writers behind it keep waiting (on the claimant's
// transaction) until it writes its intent (the lock passes to its
// transaction) or finishes without writing (the next writer claims). So
// writers are served in arrival order. Requests of the claimant's own
// transaction do not wait for its claim, and readers never do: nothing is
// written yet, and latches order the claimant's evaluation against theirs.
type lockTable struct {
	mu struct {
		sync.Mutex
		locks *btree.BTreeG[*lockState]
	}
}

// lockState is one key's lock and queue. Invariant: holder != nil or
// len(queue) > 0 (otherwise the state is removed).
type lockState struct {
	key    []byte
	holder *kvpb.TxnMeta
	// replicated: the holder wrote an intent here. An unreplicated lock
	// (a locking read's) makes writers and locking readers wait, never
	// plain readers.
	replicated bool
	// queue holds waiting readers and writers, and claimants, in arrival
	// order. A request is in it at most once.
	queue []*queuedReq
}

type queuedReq struct {
	g     *Guard
	write bool
}

// waitKind says whether a request must wait.
type waitKind int8

const (
	// doneWaiting: the request waits nowhere and should scan the lock
	// table (again).
	doneWaiting waitKind = iota
	// waitFor: the request waits in the queue of key, on txn.
	waitFor
)

// waitState is what a waiting request waits for. It is written under the
// lock table's mutex and read by the request's goroutine through state().
type waitState struct {
	kind waitKind
	key  []byte
	// write is the request's access at key: writers push to abort,
	// readers push the holder's timestamp.
	write bool
	// txn is the transaction to push: the holder (held) or the claimant.
	// hasTxn is false when the claimant is a non-transactional request,
	// which there is no record of to push.
	txn    kvpb.TxnMeta
	hasTxn bool
	held   bool
	// distinguished marks the first request waiting on the key. Only it
	// pushes a holder it cannot push at once, and resolves the intent
	// when the push succeeds; the others wait for the lock table to move
	// them, so a finished holder is resolved once, not by every waiter.
	// Every waiter still enters the txn wait queue: deadlock detection
	// needs all the edges.
	distinguished bool
}

func (s waitState) equal(o waitState) bool {
	return s.kind == o.kind && bytes.Equal(s.key, o.key) && s.write == o.write &&
		s.txn.ID == o.txn.ID && s.hasTxn == o.hasTxn && s.held == o.held &&
		s.txn.WriteTimestamp == o.txn.WriteTimestamp && s.distinguished == o.distinguished
}

// ltGuardState is a request's part of the lock table, guarded by the lock
// table's mutex.
type ltGuardState struct {
	state waitState
	// queued lists the lockStates whose queue holds the request.
	queued []*lockState
}

func newLockTable() *lockTable {
	lt := &lockTable{}
	lt.mu.locks = btree.NewG(8, func(a, b *lockState) bool { return bytes.Compare(a.key, b.key) < 0 })
	return lt
}

// sameTxn reports whether a request and a transaction are one.
func sameTxn(g *Guard, txn *kvpb.TxnMeta) bool {
	return g.req.Txn != nil && txn != nil && g.req.Txn.ID == txn.ID
}

// ahead returns the queue entries before g (the whole queue if g is not
// queued).
func (l *lockState) ahead(g *Guard) []*queuedReq {
	for i, q := range l.queue {
		if q.g == g {
			return l.queue[:i]
		}
	}
	return l.queue
}

// conflict returns whether g, accessing the key (write or read), must wait
// given the holder and the requests ahead of it; if so, it also returns
// the wait state.
func (l *lockState) conflict(g *Guard, write bool, ahead []*queuedReq) (waitState, bool) {
	if h := l.holder; h != nil {
		if sameTxn(g, h) {
			return waitState{}, false
		}
		// A read below the intent does not see it, so need not wait for it;
		// a plain read ignores a locking read's lock altogether.
		if !write && (!l.replicated || g.req.Timestamp.Less(h.WriteTimestamp)) {
			return waitState{}, false
		}
		return waitState{kind: waitFor, key: l.key, write: write, txn: *h, hasTxn: true, held: true}, true
	}
	if !write {
		return waitState{}, false
	}
	// The first writer in the queue is the claimant. A writer waits for
	// it unless it is the claimant, or of the claimant's transaction:
	// waiting for its own transaction's claim would only make a cycle.
	for _, q := range ahead {
		if !q.write {
			continue
		}
		if sameTxn(g, q.g.req.Txn) {
			return waitState{}, false
		}
		s := waitState{kind: waitFor, key: l.key, write: true}
		if t := q.g.req.Txn; t != nil {
			s.txn, s.hasTxn = *t, true
		}
		return s, true
	}
	return waitState{}, false
}

func (l *lockState) enqueue(g *Guard, write bool) {
	for _, q := range l.queue {
		if q.g == g {
			q.write = q.write || write
			return
		}
	}
	l.queue = append(l.queue, &queuedReq{g: g, write: write})
	g.lt.queued = append(g.lt.queued, l)
}

// scanAndEnqueue looks for the first lock among g's spans that g must wait
// for. If there is one, g joins its queue (keeping its place if already
// there) and scanAndEnqueue returns true; g's state says whom to push.
func (lt *lockTable) scanAndEnqueue(g *Guard) bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	g.lt.state = waitState{}
	for _, sp := range g.req.Spans {
		write := sp.Access == Write
		var found *lockState
		var st waitState
		lt.mu.locks.AscendRange(&lockState{key: sp.Key}, &lockState{key: sp.end()}, func(l *lockState) bool {
			if s, ok := l.conflict(g, write || g.req.writes(l.key), l.ahead(g)); ok {
				found, st = l, s
				return false
			}
			return true
		})
		if found != nil {
			found.enqueue(g, st.write)
			g.lt.state = st
			// Let informLocked place g among the waiters (whether it is
			// the distinguished one).
			lt.informLocked(found)
			return g.lt.state.kind == waitFor
		}
	}
	return false
}

// state returns g's current wait state.
func (lt *lockTable) state(g *Guard) waitState {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return g.lt.state
}

// dequeue removes g from every queue it is in, letting the requests behind
// it move up.
func (lt *lockTable) dequeue(g *Guard) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for _, l := range g.lt.queued {
		for i, q := range l.queue {
			if q.g == g {
				l.queue = append(l.queue[:i], l.queue[i+1:]...)
				break
			}
		}
		lt.informLocked(l)
	}
	g.lt.queued = nil
	g.lt.state = waitState{}
}

// informLocked re-evaluates every request queued on l after its holder or
// queue changed, in queue order: readers that no longer conflict leave the
// queue, requests of the holder's own transaction leave it, a writer at
// the head of an unheld lock becomes the claimant. Requests waiting on l
// whose wait state changed are signalled.
func (lt *lockTable) informLocked(l *lockState) {
	kept := l.queue[:0]
	sawWaiter := false
	for _, q := range l.queue {
		g := q.g
		waitingHere := g.lt.state.kind == waitFor && bytes.Equal(g.lt.state.key, l.key)
		s, conflict := l.conflict(g, q.write, kept)
		drop := (!conflict && !q.write) || sameTxn(g, l.holder)
		if drop {
			g.lt.removeQueued(l)
		} else {
			kept = append(kept, q)
		}
		if !waitingHere {
			continue
		}
		if conflict {
			s.distinguished = !sawWaiter
			sawWaiter = true
		}
		if !s.equal(g.lt.state) {
			g.lt.state = s
			g.sig.notify()
		}
	}
	clear(l.queue[len(kept):])
	l.queue = kept
	if l.holder == nil && len(l.queue) == 0 {
		lt.mu.locks.Delete(l)
	}
}

func (s *ltGuardState) removeQueued(l *lockState) {
	for i, ql := range s.queued {
		if ql == l {
			s.queued = append(s.queued[:i], s.queued[i+1:]...)
			return
		}
	}
}

func (lt *lockTable) getOrCreateLocked(key []byte) *lockState {
	if l, ok := lt.mu.locks.Get(&lockState{key: key}); ok {
		return l
	}
	l := &lockState{key: bytes.Clone(key)}
	lt.mu.locks.ReplaceOrInsert(l)
	return l
}

// acquire records that txn wrote an intent at key (replicated) or locked
// it with a locking read. The request that did so sequenced past every
// lock on the key and held its latches since: a different holder the
// table still names is stale (its release was not reported here, e.g. a
// locking read's lock whose transaction ended elsewhere), and is replaced.
func (lt *lockTable) acquire(key []byte, txn kvpb.TxnMeta, replicated bool) error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	l := lt.getOrCreateLocked(key)
	if h := l.holder; h != nil && h.ID == txn.ID && txn.Epoch == h.Epoch {
		txn.WriteTimestamp.Forward(h.WriteTimestamp)
		replicated = replicated || l.replicated
	}
	t := txn
	l.holder = &t
	l.replicated = replicated
	lt.informLocked(l)
	return nil
}

// addDiscovered records a lock that evaluation found in storage but the
// table did not know of (for example, written before this replica held
// the lease). The request that found it still holds its latches: storage
// is the truth, and a different holder the table names is stale (its
// release was not reported here) and is replaced. Keeping the stale one
// instead could leave the request unable to wait (a plain read ignores a
// locking read's lock) and meeting the intent again and again.
//
// The request g waits for it even if it was sequenced at a timestamp
// below the lock's: evaluation, which found the lock in its way, may read
// higher (a non-transactional read reads at the clock when it evaluates,
// with an uncertainty window above that). Without it, the lock table let
// such a read through at once, evaluation met the intent again, and the
// read spun holding its latches until the intent went (found by
// TestKVNemesis: a merge waiting for those latches never finished, and
// the intent's transaction waited on the merge).
func (lt *lockTable) addDiscovered(g *Guard, key []byte, txn kvpb.TxnMeta) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if g.req.Timestamp.Less(txn.WriteTimestamp) {
		// Above the read's local uncertainty limit, yet in its way: past
		// the global one in one push, not one past the lock's timestamp
		// after another (see Request.UncertaintyLimit).
		g.req.Timestamp.Forward(g.req.UncertaintyLimit)
	}
	g.req.Timestamp.Forward(txn.WriteTimestamp)
	l := lt.getOrCreateLocked(key)
	// Storage's timestamp too, even below what the table knew: a reader
	// that waits only for intents at or below it must not skip the one
	// it just met.
	t := txn
	l.holder = &t
	// Evaluation found it in storage: an intent.
	l.replicated = true
	lt.informLocked(l)
}

// txnAborted marks and wakes the queued requests of transaction id, which
// was aborted: a claimant among them would otherwise hold up the writers
// behind it until it noticed.
func (lt *lockTable) txnAborted(id kvpb.TxnID) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.mu.locks.Ascend(func(l *lockState) bool {
		for _, q := range l.queue {
			if t := q.g.req.Txn; t != nil && t.ID == id {
				q.g.aborted.Store(true)
				q.g.sig.notify()
			}
		}
		return true
	})
}

// releaseAll releases every lock (see Manager.ReleaseAll).
func (lt *lockTable) releaseAll() {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	var all []*lockState
	lt.mu.locks.Ascend(func(l *lockState) bool {
		all = append(all, l)
		return true
	})
	for _, l := range all {
		l.holder, l.replicated = nil, false
		lt.informLocked(l)
	}
}

// update applies the resolution of txn's locks in span: committed or
// aborted releases them; pending moves them to txn's write timestamp (a
// push), or releases them if txn restarted at a later epoch (its earlier
// intents are gone).
func (lt *lockTable) update(up LockUpdate) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	var touched []*lockState
	lt.mu.locks.AscendRange(&lockState{key: up.Key}, &lockState{key: up.end()}, func(l *lockState) bool {
		if l.holder != nil && l.holder.ID == up.Txn.ID {
			touched = append(touched, l)
		}
		return true
	})
	for _, l := range touched {
		switch {
		case up.Status != kvpb.PENDING, up.Txn.Epoch > l.holder.Epoch:
			l.holder, l.replicated = nil, false
		default:
			l.holder.WriteTimestamp.Forward(up.Txn.WriteTimestamp)
		}
		lt.informLocked(l)
	}
}

// lockInfo describes one key of the table, for tests and debugging.
type lockInfo struct {
	key    []byte
	holder *kvpb.TxnMeta
	queue  []*queuedReq
}

// snapshot returns the table's contents in key order.
func (lt *lockTable) snapshot() []lockInfo {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	var out []lockInfo
	lt.mu.locks.Ascend(func(l *lockState) bool {
		li := lockInfo{key: l.key, queue: append([]*queuedReq(nil), l.queue...)}
		if l.holder != nil {
			h := *l.holder
			li.holder = &h
		}
		out = append(out, li)
		return true
	})
	return out
}
