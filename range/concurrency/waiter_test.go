package concurrency

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/spanlatch"
	"github.com/meridiandb/meridian/stop"
)

func TestDeadlockVictim(t *testing.T) {
	txn := func(id byte, pri int32) kv.TxnMeta {
		m := kv.TxnMeta{Priority: pri}
		m.ID[0] = id
		return m
	}
	for _, tc := range []struct {
		cycle []kv.TxnMeta
		want  byte
	}{
		{[]kv.TxnMeta{txn(1, 0), txn(2, 0)}, 1},
		{[]kv.TxnMeta{txn(2, 0), txn(1, 0)}, 1},
		{[]kv.TxnMeta{txn(1, 5), txn(2, 3), txn(3, 4)}, 2},
		{[]kv.TxnMeta{txn(3, 4), txn(1, 5), txn(2, 4)}, 2},
	} {
		if got := deadlockVictim(tc.cycle); got.ID[0] != tc.want {
			t.Errorf("victim of %v = %d, want %d", tc.cycle, got.ID[0], tc.want)
		}
	}
}

// unitEnv is a Manager over the in-memory records with a manual clock.
type unitEnv struct {
	manual  *hlc.ManualClock
	clock   *hlc.Clock
	fake    *fakeRecords
	m       *Manager
	stopper *stop.Stopper
	blocked chan *Guard
}

func newUnitEnv(t *testing.T, cfg Config) *unitEnv {
	e := &unitEnv{
		manual:  hlc.NewManualClock(100e9),
		fake:    &fakeRecords{records: map[kv.TxnID]*TxnRecord{}},
		stopper: stop.NewStopper(),
		blocked: make(chan *Guard, 100),
	}
	t.Cleanup(e.stopper.Stop)
	e.clock = hlc.NewClock(e.manual.UnixNano, 0)
	cfg.Pusher, cfg.Clock = e.fake, e.clock
	cfg.Knobs.BeforeBlock = func(g *Guard, _ uint64) {
		select {
		case e.blocked <- g:
		default: // a test that stopped listening
		}
	}
	e.m = NewManager(cfg)
	return e
}

func (e *unitEnv) txn(name string) *kv.TxnMeta {
	var id kv.TxnID
	copy(id[:], name)
	txn := &kv.TxnMeta{ID: id, WriteTimestamp: hlc.Timestamp{WallTime: 10e9}}
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	e.fake.records[id] = &TxnRecord{Meta: *txn, LastActive: e.clock.Now()}
	return txn
}

func writeReq(txn *kv.TxnMeta, key string) Request {
	return Request{Txn: txn, Timestamp: txn.WriteTimestamp, Spans: []LockSpan{{Span: Span{Key: []byte(key)}, Access: Write}}}
}

// lock has txn write an intent on key through the manager.
func (e *unitEnv) lock(t *testing.T, txn *kv.TxnMeta, key string) {
	t.Helper()
	g, err := e.m.SequenceReq(context.Background(), writeReq(txn, key))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.OnLockAcquired([]byte(key), *txn); err != nil {
		t.Fatal(err)
	}
	e.m.FinishReq(g)
}

type seqResult struct {
	g   *Guard
	err error
}

// sequenceAsync runs SequenceReq on a stopper task and waits until it
// blocks.
func (e *unitEnv) sequenceAsync(t *testing.T, ctx context.Context, req Request) <-chan seqResult {
	t.Helper()
	res := make(chan seqResult, 1)
	if err := e.stopper.RunAsyncTask("sequence", func(context.Context) {
		g, err := e.m.SequenceReq(ctx, req)
		res <- seqResult{g, err}
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.blocked:
	case r := <-res:
		t.Fatalf("sequenced without waiting: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("request neither blocked nor returned")
	}
	return res
}

func waitResult(t *testing.T, res <-chan seqResult) seqResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("request did not return")
	}
	return seqResult{}
}

// TestDiscoveredLockAboveReadTimestamp: a read sequenced below an intent
// (the lock table lets it through) whose evaluation meets the intent
// anyway (a non-transactional read evaluates at a later clock reading,
// with an uncertainty window above it) waits for it, instead of
// evaluating again at once, meeting it again, and spinning.
func TestDiscoveredLockAboveReadTimestamp(t *testing.T) {
	e := newUnitEnv(t, Config{PushRecheckInterval: time.Hour})
	b := e.txn("B") // its intent at 10s
	if err := e.m.OnLockAcquired([]byte("k"), *b); err != nil {
		t.Fatal(err)
	}
	read := Request{Timestamp: hlc.Timestamp{WallTime: 5e9}, Spans: []LockSpan{{Span: Span{Key: []byte("k")}}}}
	g, err := e.m.SequenceReq(context.Background(), read)
	if err != nil {
		t.Fatalf("a read below the intent waited: %v", err)
	}
	res := make(chan seqResult, 1)
	go func() {
		g, err := e.m.HandleLockConflictError(context.Background(), g, &kv.LockConflictError{Locks: []kv.Lock{{Key: []byte("k"), Txn: *b}}})
		res <- seqResult{g, err}
	}()
	select {
	case <-e.blocked:
	case r := <-res:
		t.Fatalf("the reader did not wait for the intent its evaluation met: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("request neither blocked nor returned")
	}
	e.m.OnLockUpdated(LockUpdate{Span: Span{Key: []byte("k")}, Txn: *b, Status: kv.COMMITTED})
	got := waitResult(t, res)
	if got.err != nil {
		t.Fatal(got.err)
	}
	e.m.FinishReq(got.g)
}

// TestStaleLockReplaced: a holder the table names but whose release it
// never heard of (a locking read's lock, its transaction finished
// elsewhere) gives way to what storage says: an intent written, or found,
// by a request under its latches. A plain reader, which ignores the
// stale unreplicated lock, must then wait for the discovered intent
// instead of meeting it again and again.
func TestStaleLockReplaced(t *testing.T) {
	e := newUnitEnv(t, Config{PushRecheckInterval: time.Hour})
	a, b, r := e.txn("A"), e.txn("B"), e.txn("R")
	if err := e.m.OnUnreplicatedLockAcquired([]byte("k"), *a); err != nil {
		t.Fatal(err)
	}
	read := Request{Txn: r, Timestamp: hlc.Timestamp{WallTime: 20e9}, Spans: []LockSpan{{Span: Span{Key: []byte("k")}}}}
	g, err := e.m.SequenceReq(context.Background(), read)
	if err != nil {
		t.Fatalf("a plain read waited for a locking read's lock: %v", err)
	}
	// Evaluation found B's intent at k.
	res := make(chan seqResult, 1)
	go func() {
		g, err := e.m.HandleLockConflictError(context.Background(), g, &kv.LockConflictError{Locks: []kv.Lock{{Key: []byte("k"), Txn: *b}}})
		res <- seqResult{g, err}
	}()
	select {
	case <-e.blocked:
	case r := <-res:
		t.Fatalf("the reader did not wait for the discovered intent: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("request neither blocked nor returned")
	}
	e.m.OnLockUpdated(LockUpdate{Span: Span{Key: []byte("k")}, Txn: *b, Status: kv.COMMITTED})
	got := waitResult(t, res)
	if got.err != nil {
		t.Fatal(got.err)
	}
	e.m.FinishReq(got.g)
	// A write by B over a stale lock of A replaces it too.
	if err := e.m.OnUnreplicatedLockAcquired([]byte("j"), *a); err != nil {
		t.Fatal(err)
	}
	if err := e.m.OnLockAcquired([]byte("j"), *b); err != nil {
		t.Fatal(err)
	}
	if l := e.m.lt.snapshot(); len(l) != 1 || l[0].holder == nil || l[0].holder.ID != b.ID {
		t.Fatalf("lock table %+v, want j held by B", l)
	}
}

// TestSequenceReqCancelled checks that a waiter whose context ends leaves
// no trace: not in the lock's queue, not in the txn wait queue.
func TestSequenceReqCancelled(t *testing.T) {
	e := newUnitEnv(t, Config{PushRecheckInterval: time.Hour})
	a, b := e.txn("A"), e.txn("B")
	e.lock(t, a, "k")
	ctx, cancel := context.WithCancel(context.Background())
	res := e.sequenceAsync(t, ctx, writeReq(b, "k"))
	if n := len(e.m.twq.edges()); n != 1 {
		t.Fatalf("%d waiting pushes, want 1", n)
	}
	cancel()
	if r := waitResult(t, res); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", r.err)
	}
	locks := e.m.lt.snapshot()
	if len(locks) != 1 || len(locks[0].queue) != 0 {
		t.Fatalf("lock table after cancellation: %+v", locks)
	}
	if n := len(e.m.twq.edges()); n != 0 {
		t.Fatalf("%d waiting pushes left", n)
	}
}

// TestPushRecheckFindsExpiredHolder checks that a waiting push looks at
// the pushee again after the recheck interval and aborts it once its
// heartbeat has expired, with nothing else happening.
func TestPushRecheckFindsExpiredHolder(t *testing.T) {
	e := newUnitEnv(t, Config{PushRecheckInterval: 5 * time.Millisecond})
	a, b := e.txn("A"), e.txn("B")
	e.lock(t, a, "k")
	res := e.sequenceAsync(t, context.Background(), writeReq(b, "k"))
	e.manual.Increment(int64(DefaultTxnLivenessThreshold) + 1e9)
	r := waitResult(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	e.m.FinishReq(r.g)
	if rec, _ := e.fake.QueryTxn(context.Background(), *a); rec.Status != kv.ABORTED {
		t.Fatalf("holder is %s, want ABORTED", rec.Status)
	}
}

// TestLatchesDroppedWhileWaiting checks that SequenceReq returns with the
// request's latches held, and holds none while it waits for a lock.
func TestLatchesDroppedWhileWaiting(t *testing.T) {
	latches := &spanlatch.Manager{}
	e := newUnitEnv(t, Config{Latches: latches, PushRecheckInterval: time.Hour})
	a, b := e.txn("A"), e.txn("B")
	g, err := e.m.SequenceReq(context.Background(), writeReq(a, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if n := latches.Len(); n != 1 {
		t.Fatalf("%d latch guards after sequencing, want 1", n)
	}
	if err := e.m.OnLockAcquired([]byte("k"), *a); err != nil {
		t.Fatal(err)
	}
	e.m.FinishReq(g)
	res := e.sequenceAsync(t, context.Background(), writeReq(b, "k"))
	if n := latches.Len(); n != 0 {
		t.Fatalf("%d latch guards held while waiting, want 0", n)
	}
	rec := e.fake.finalize(a.ID, kv.COMMITTED)
	e.m.OnTxnUpdated(rec)
	r := waitResult(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := latches.Len(); n != 1 {
		t.Fatalf("%d latch guards after sequencing, want 1", n)
	}
	e.m.FinishReq(r.g)
	if n := latches.Len(); n != 0 {
		t.Fatalf("%d latch guards after FinishReq", n)
	}
}

func (f *fakeRecords) finalize(id kv.TxnID, status kv.TxnStatus) TxnRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[id].Status = status
	return *f.records[id]
}

// BenchmarkManager_SequenceReq measures an uncontended request through a
// manager whose lock table holds other transactions' locks.
func BenchmarkManager_SequenceReq(b *testing.B) {
	for _, latched := range []bool{false, true} {
		b.Run(fmt.Sprintf("latches=%t", latched), func(b *testing.B) {
			fake := &fakeRecords{records: map[kv.TxnID]*TxnRecord{}}
			cfg := Config{Pusher: fake, Clock: hlc.NewClock(hlc.NewManualClock(1).UnixNano, 0)}
			if latched {
				cfg.Latches = &spanlatch.Manager{}
			}
			m := NewManager(cfg)
			for i := range 1000 {
				var other kv.TxnMeta
				binary.BigEndian.PutUint32(other.ID[:], uint32(i+1))
				if err := m.OnLockAcquired(fmt.Appendf(nil, "key%04d", i), other); err != nil {
					b.Fatal(err)
				}
			}
			txn := kv.TxnMeta{WriteTimestamp: hlc.Timestamp{WallTime: 10}}
			req := Request{Txn: &txn, Timestamp: txn.WriteTimestamp, Spans: []LockSpan{
				{Span: Span{Key: []byte("key0500x")}, Access: Write},
				{Span: Span{Key: []byte("key0500y"), EndKey: []byte("key0501")}, Access: Read},
			}}
			ctx := context.Background()
			for b.Loop() {
				g, err := m.SequenceReq(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				m.FinishReq(g)
			}
		})
	}
}
