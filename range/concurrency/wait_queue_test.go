package concurrency

import (
	"context"
	"testing"
	"time"

	"github.com/meridiandb/meridian/kv"
)

// TestDeadlockAcrossManagers: two managers (two ranges of a store) share a
// txn wait queue; A holds "a" in the first and waits for "b" in the
// second, B holds "b" and waits for "a": the second wait closes a cycle
// through both managers, and it is broken at once (the victim, A, fails;
// B goes on).
func TestDeadlockAcrossManagers(t *testing.T) {
	shared := NewTxnWaitQueue()
	e1 := newUnitEnv(t, Config{PushRecheckInterval: time.Hour, WaitQueue: shared})
	// The second manager reads the same records under the same clock.
	cfg2 := Config{Pusher: e1.fake, Clock: e1.clock, PushRecheckInterval: time.Hour, WaitQueue: shared}
	cfg2.Knobs.BeforeBlock = e1.m.cfg.Knobs.BeforeBlock
	m2 := NewManager(cfg2)
	e2 := &unitEnv{manual: e1.manual, clock: e1.clock, fake: e1.fake, m: m2, stopper: e1.stopper, blocked: e1.blocked}

	a, b := e1.txn("A"), e1.txn("B")
	e1.lock(t, a, "a")
	e2.lock(t, b, "b")
	ctx := context.Background()
	resA := e2.sequenceAsync(t, ctx, writeReq(a, "b"))
	done := make(chan seqResult, 1)
	if err := e1.stopper.RunAsyncTask("B", func(context.Context) {
		g, err := e1.m.SequenceReq(ctx, writeReq(b, "a"))
		done <- seqResult{g, err}
	}); err != nil {
		t.Fatal(err)
	}
	ra := waitResult(t, resA)
	if _, ok := ra.err.(*TxnAbortedError); !ok {
		t.Fatalf("A's wait: %v, want its abort (the deadlock's victim)", ra.err)
	}
	rb := waitResult(t, done)
	if rb.err != nil {
		t.Fatalf("B's wait: %v", rb.err)
	}
	e1.m.FinishReq(rb.g)
	if n := len(shared.edges()); n != 0 {
		t.Fatalf("%d waiting pushes left", n)
	}
}

// TestStaleEdgeIsNoDeadlock: an edge whose waiter has moved on (it no
// longer waits on that pushee, but has not woken to remove its edge)
// closes no cycle.
func TestStaleEdgeIsNoDeadlock(t *testing.T) {
	q := NewTxnWaitQueue()
	var a, b kv.TxnMeta
	a.ID[0], b.ID[0] = 1, 2
	current := false
	w1 := &pushWaiter{pusher: &a, pushee: b, sig: &signal{ch: make(chan struct{}, 1)}}
	w2 := &pushWaiter{pusher: &b, pushee: a, sig: &signal{ch: make(chan struct{}, 1)}, current: func() bool { return current }}
	q.register(w2)
	q.register(w1)
	if c := q.findCycle(w1); c != nil {
		t.Fatalf("cycle %v through a stale edge", c)
	}
	current = true
	if c := q.findCycle(w1); len(c) != 2 {
		t.Fatalf("cycle %v, want A -> B -> A", c)
	}
}

// TestWoundAfterWaiting: with PushWins and WoundAfter, a pusher that comes
// first in PushWins' order but not by priority waits for the live holder;
// once it has waited WoundAfter it aborts the holder.
func TestWoundAfterWaiting(t *testing.T) {
	e := newUnitEnv(t, Config{
		PushRecheckInterval: time.Hour,
		WoundAfter:          50 * time.Millisecond,
		PushWins:            func(pusher, pushee kv.TxnMeta) bool { return pusher.ID[0] < pushee.ID[0] },
	})
	older, younger := e.txn("A"), e.txn("B")
	e.lock(t, younger, "k")
	res := e.sequenceAsync(t, context.Background(), writeReq(older, "k"))
	if rec, _ := e.fake.QueryTxn(context.Background(), *younger); rec.Status != kv.PENDING {
		t.Fatalf("holder is %s before the pusher waited, want PENDING", rec.Status)
	}
	// The waiter looks again every WoundAfter (real time); by the manual
	// clock it has now waited long enough.
	e.manual.Increment(int64(100 * time.Millisecond))
	r := waitResult(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	e.m.FinishReq(r.g)
	if rec, _ := e.fake.QueryTxn(context.Background(), *younger); rec.Status != kv.ABORTED {
		t.Fatalf("holder is %s, want ABORTED", rec.Status)
	}
}
