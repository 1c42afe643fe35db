package concurrency

import (
	"context"
	"testing"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
)

// fakeWaitGraph publishes the edges in one PublishedWaits, as if every
// record were on one node.
type fakeWaitGraph struct {
	clock *hlc.Clock
	edges *PublishedWaits
}

func (f fakeWaitGraph) Publish(_ context.Context, waiter, pushee kv.TxnMeta, withdraw bool) error {
	f.edges.Update(waiter.ID, &pushee, withdraw, f.clock.Now())
	return nil
}

func (f fakeWaitGraph) WaitsFor(_ context.Context, txn kv.TxnMeta) ([]kv.TxnMeta, error) {
	return f.edges.Update(txn.ID, nil, false, f.clock.Now()), nil
}

// TestDeadlockThroughPublishedWaits: two managers with wait queues of
// their own (two nodes) and a wait-for graph published at the records. A
// holds "a" in the first and waits for "b" in the second, B holds "b" and
// waits for "a": neither queue sees a cycle, the published edges do. The
// victim is A (the lower ID): whichever of the two probes last aborts it,
// A's wait fails (A found it) or B's goes on (B found it); releasing the
// other's lock lets the survivor finish, and no edge stays published.
func TestDeadlockThroughPublishedWaits(t *testing.T) {
	e1 := newUnitEnv(t, Config{PushRecheckInterval: time.Hour, DeadlockProbeDelay: time.Millisecond})
	graph := fakeWaitGraph{clock: e1.clock, edges: NewPublishedWaits()}
	e1.m.cfg.WaitGraph = graph
	counts := &DeadlockCounts{}
	e1.m.cfg.Deadlocks = counts
	cfg2 := Config{Pusher: e1.fake, Clock: e1.clock, PushRecheckInterval: time.Hour, DeadlockProbeDelay: time.Millisecond,
		WaitGraph: graph, Deadlocks: counts}
	m2 := NewManager(cfg2)
	e2 := &unitEnv{manual: e1.manual, clock: e1.clock, fake: e1.fake, m: m2, stopper: e1.stopper, blocked: e1.blocked}

	a, b := e1.txn("A"), e1.txn("B")
	// Their anchors, where their waits are published.
	a.Key, b.Key = []byte("a"), []byte("b")
	e1.fake.records[a.ID].Meta.Key, e1.fake.records[b.ID].Meta.Key = a.Key, b.Key
	e1.lock(t, a, "a")
	e2.lock(t, b, "b")
	ctx := context.Background()
	resA := make(chan seqResult, 1)
	resB := make(chan seqResult, 1)
	for _, w := range []struct {
		m   *Manager
		txn *kv.TxnMeta
		key string
		res chan seqResult
	}{{m2, a, "b", resA}, {e1.m, b, "a", resB}} {
		if err := e1.stopper.RunAsyncTask("wait", func(context.Context) {
			g, err := w.m.SequenceReq(ctx, writeReq(w.txn, w.key))
			w.res <- seqResult{g, err}
		}); err != nil {
			t.Fatal(err)
		}
	}
	var ra, rb seqResult
	select {
	case ra = <-resA:
		// A found the cycle and aborted itself; its coordinator's
		// rollback then releases "a".
		if _, ok := ra.err.(*TxnAbortedError); !ok {
			t.Fatalf("A's wait: %v, want its abort", ra.err)
		}
		e1.m.OnLockUpdated(LockUpdate{Span: Span{Key: []byte("a")}, Txn: *a, Status: kv.ABORTED})
		rb = waitResult(t, resB)
		if rb.err != nil {
			t.Fatalf("B's wait: %v", rb.err)
		}
		e1.m.FinishReq(rb.g)
	case rb = <-resB:
		// B found it and aborted A, whose lock it took; B's commit then
		// releases "b", and A's request goes on to learn of its abort.
		if rb.err != nil {
			t.Fatalf("B's wait: %v", rb.err)
		}
		e1.m.FinishReq(rb.g)
		m2.OnLockUpdated(LockUpdate{Span: Span{Key: []byte("b")}, Txn: *b, Status: kv.COMMITTED})
		ra = waitResult(t, resA)
		if ra.err == nil {
			m2.FinishReq(ra.g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the deadlock was not broken")
	}
	if rec, _ := e1.fake.QueryTxn(ctx, *a); rec.Status != kv.ABORTED {
		t.Fatalf("A is %s, want ABORTED", rec.Status)
	}
	if rec, _ := e1.fake.QueryTxn(ctx, *b); rec.Status != kv.PENDING {
		t.Fatalf("B is %s, want PENDING", rec.Status)
	}
	if n := counts.Distributed.Load(); n == 0 {
		t.Fatal("no distributed deadlock counted")
	}
	for _, txn := range []*kv.TxnMeta{a, b} {
		if es, _ := graph.WaitsFor(ctx, *txn); len(es) != 0 {
			t.Fatalf("txn %s still publishes %d edges", txn.ID.Short(), len(es))
		}
	}
}

// TestPublishedWaits: edges are added, replaced by pushee, withdrawn, and
// expire after PublishedWaitsTTL; a sweep drops the lists of waiters that
// never come back.
func TestPublishedWaits(t *testing.T) {
	p := NewPublishedWaits()
	var w, x, y, z kv.TxnMeta
	w.ID[0], x.ID[0], y.ID[0], z.ID[0] = 1, 2, 3, 4
	at := func(s int64) hlc.Timestamp { return hlc.Timestamp{WallTime: s * int64(time.Second)} }
	if got := p.Update(w.ID, &x, false, at(1)); len(got) != 1 || got[0].ID != x.ID {
		t.Fatalf("after publishing w -> x: %v", got)
	}
	x.Epoch = 1
	if got := p.Update(w.ID, &x, false, at(2)); len(got) != 1 || got[0].Epoch != 1 {
		t.Fatalf("after publishing w -> x again: %v, want the one edge, updated", got)
	}
	if got := p.Update(w.ID, &y, false, at(3)); len(got) != 2 {
		t.Fatalf("after publishing w -> y: %v, want two edges", got)
	}
	if got := p.Update(w.ID, &x, true, at(4)); len(got) != 1 || got[0].ID != y.ID {
		t.Fatalf("after withdrawing w -> x: %v, want w -> y", got)
	}
	if got := p.Update(w.ID, nil, false, at(3+int64(PublishedWaitsTTL/time.Second))); len(got) != 0 {
		t.Fatalf("after the TTL: %v, want none", got)
	}
	p.Update(z.ID, &x, false, at(10))
	p.Update(w.ID, &x, false, at(30))
	p.mu.Lock()
	_, kept := p.edges[z.ID]
	p.mu.Unlock()
	if kept {
		t.Fatal("an expired waiter's edges outlived the sweep")
	}
}
