package concurrency

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
)

// TestNoWait: a request that may not wait fails at once on a live
// holder's lock, naming it, and leaves no trace in the queues; the holder
// is not pushed. A holder that expired is still pushed out of the way.
func TestNoWait(t *testing.T) {
	e := newUnitEnv(t, Config{PushRecheckInterval: time.Hour, TxnLivenessThreshold: 5 * time.Second})
	a, b := e.txn("A"), e.txn("B")
	b.Priority = a.Priority + 1 // would push A at once, if it could wait
	e.lock(t, a, "k")
	req := writeReq(b, "k")
	req.NoWait = true
	_, err := e.m.SequenceReq(context.Background(), req)
	var lna *kv.LockNotAvailableError
	if !errors.As(err, &lna) || !lna.NoWait || lna.Txn.ID != a.ID || string(lna.Key) != "k" {
		t.Fatalf("got %v, want a LockNotAvailableError naming A's lock on k", err)
	}
	if rec, _ := e.fake.QueryTxn(context.Background(), *a); rec.Status != kv.PENDING {
		t.Fatalf("a NOWAIT request changed the holder: %s", rec.Status)
	}
	if locks := e.m.lt.snapshot(); len(locks) != 1 || len(locks[0].queue) != 0 {
		t.Fatalf("lock table after a NOWAIT failure: %+v", locks)
	}
	if n := len(e.m.twq.edges()); n != 0 {
		t.Fatalf("%d waiting pushes left", n)
	}
	// A's heartbeat expires: the same request takes the key.
	e.manual.Increment(int64(10 * time.Second))
	g, err := e.m.SequenceReq(context.Background(), req)
	if err != nil {
		t.Fatalf("NOWAIT against an expired holder: %v", err)
	}
	e.m.FinishReq(g)
}

// TestLockTimeout: a request with a lock timeout waits for a live holder
// that long and then fails, naming the lock, with nothing left queued; one
// whose holder finishes in time goes on.
func TestLockTimeout(t *testing.T) {
	e := newUnitEnv(t, Config{PushRecheckInterval: time.Hour})
	a, b := e.txn("A"), e.txn("B")
	e.lock(t, a, "k")
	req := writeReq(b, "k")
	req.LockTimeout = 20 * time.Millisecond
	res := e.sequenceAsync(t, context.Background(), req)
	r := waitResult(t, res)
	var lna *kv.LockNotAvailableError
	if !errors.As(r.err, &lna) || lna.NoWait || lna.Txn.ID != a.ID {
		t.Fatalf("got %v, want a LockNotAvailableError (timeout) naming A", r.err)
	}
	if locks := e.m.lt.snapshot(); len(locks) != 1 || len(locks[0].queue) != 0 {
		t.Fatalf("lock table after a lock timeout: %+v", locks)
	}
	if n := len(e.m.twq.edges()); n != 0 {
		t.Fatalf("%d waiting pushes left", n)
	}
	// The holder commits while the next one waits: it goes on.
	req.LockTimeout = time.Hour
	res = e.sequenceAsync(t, context.Background(), req)
	e.fake.mu.Lock()
	e.fake.records[a.ID].Status = kv.COMMITTED
	e.fake.mu.Unlock()
	e.m.OnLockUpdated(LockUpdate{Span: Span{Key: []byte("k")}, Txn: *a, Status: kv.COMMITTED})
	if r := waitResult(t, res); r.err != nil {
		t.Fatalf("after the holder committed: %v", r.err)
	} else {
		e.m.FinishReq(r.g)
	}
}
