package advisory

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/memkv"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// gone is a Liveness whose ended epochs the test sets.
type gone struct {
	mu    sync.Mutex
	ended map[int32]int64 // node → its highest ended epoch
}

func (g *gone) Gone(_ context.Context, node int32, epoch int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return epoch <= g.ended[node]
}

func (g *gone) end(node int32, epoch int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ended[node] = epoch
}

var (
	lock = Lock{DB: 1, Space: 1, Key: 42}
	a    = Session{Node: 1, Epoch: 1, ID: 11}
	b    = Session{Node: 2, Epoch: 1, ID: 22}
)

func take(t *testing.T, m *Manager, s Session, l Lock, mode Mode, scope Scope) bool {
	t.Helper()
	ok, err := m.Acquire(context.Background(), s, l, mode, scope, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestModes: exclusive excludes other sessions in both modes, shared only
// exclusive; a session never excludes itself; each hold is released on its
// own, and a release of nothing held reports false.
func TestModes(t *testing.T) {
	ctx := context.Background()
	m := NewManager(memkv.New(), nil)
	if !take(t, m, a, lock, Exclusive, SessionScope) || !take(t, m, a, lock, Shared, XactScope) {
		t.Fatal("a session could not take a free lock, or its own again")
	}
	if take(t, m, b, lock, Shared, SessionScope) || take(t, m, b, lock, Exclusive, SessionScope) {
		t.Fatal("another session took a lock held exclusively")
	}
	if had, err := m.Release(ctx, a, lock, Exclusive, SessionScope); err != nil || !had {
		t.Fatalf("release: %v %v", had, err)
	}
	if had, err := m.Release(ctx, a, lock, Exclusive, SessionScope); err != nil || had {
		t.Fatalf("a second release of one hold: %v %v", had, err)
	}
	// a still holds it shared (for its transaction).
	if !take(t, m, b, lock, Shared, SessionScope) || take(t, m, b, lock, Exclusive, SessionScope) {
		t.Fatal("shared: a second shared hold refused, or an exclusive one granted")
	}
	if err := m.ReleaseAll(ctx, a, lock, XactScope); err != nil {
		t.Fatal(err)
	}
	if !take(t, m, b, lock, Exclusive, SessionScope) {
		t.Fatal("b could not upgrade once it was the only holder")
	}
	other := Lock{DB: 1, Space: 2, Key: 42}
	if !take(t, m, a, other, Exclusive, SessionScope) {
		t.Fatal("the two-int space shares keys with the bigint one")
	}
}

// TestEndedEpochHoldsNothing: the record of a session whose node's epoch
// ended holds nothing, and is removed by the next taker.
func TestEndedEpochHoldsNothing(t *testing.T) {
	g := &gone{ended: map[int32]int64{}}
	m := NewManager(memkv.New(), g)
	if !take(t, m, a, lock, Exclusive, SessionScope) || take(t, m, b, lock, Exclusive, SessionScope) {
		t.Fatal("exclusion")
	}
	g.end(a.Node, a.Epoch)
	if !take(t, m, b, lock, Exclusive, SessionScope) {
		t.Fatal("a lock of an ended epoch still held")
	}
	// a's node restarted: a session there at the new epoch is held off.
	a2 := Session{Node: 1, Epoch: 2, ID: 33}
	if take(t, m, a2, lock, Exclusive, SessionScope) {
		t.Fatal("took a lock b holds")
	}
}

// TestWaitAndRelease: a waiter gets the lock when the holder releases it
// (woken at once on the same manager), and lock_timeout ends a wait with
// 55P03, a cancelled context with its error.
func TestWaitAndRelease(t *testing.T) {
	ctx := context.Background()
	m := NewManager(memkv.New(), nil)
	take(t, m, a, lock, Exclusive, SessionScope)
	if _, err := m.Acquire(ctx, b, lock, Exclusive, SessionScope, true, 20*time.Millisecond); pgerror.CodeOf(err) != pgerror.CodeLockNotAvailable {
		t.Fatalf("past lock_timeout: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Acquire(cctx, b, lock, Exclusive, SessionScope, true, 0); err == nil {
		t.Fatal("a cancelled wait took the lock")
	}
	var got atomic.Bool
	done := make(chan error, 1)
	go func() {
		ok, err := m.Acquire(ctx, b, lock, Exclusive, SessionScope, true, 0)
		got.Store(ok)
		done <- err
	}()
	waitForWaiter(t, m, b)
	if got.Load() {
		t.Fatal("granted while held")
	}
	if _, err := m.Release(ctx, a, lock, Exclusive, SessionScope); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || !got.Load() {
		t.Fatalf("the waiter: %v, took=%v", err, got.Load())
	}
}

// TestDeadlock: two sessions each waiting for the other's lock: the one
// with the higher ID fails with 40P01, the other gets its lock once that
// one releases.
func TestDeadlock(t *testing.T) {
	ctx := context.Background()
	m := NewManager(memkv.New(), nil)
	l1, l2 := Lock{DB: 1, Space: 1, Key: 1}, Lock{DB: 1, Space: 1, Key: 2}
	take(t, m, a, l1, Exclusive, SessionScope)
	take(t, m, b, l2, Exclusive, SessionScope)
	errs := make(chan error, 2)
	go func() { _, err := m.Acquire(ctx, a, l2, Exclusive, SessionScope, true, 0); errs <- err }()
	_, err := m.Acquire(ctx, b, l1, Exclusive, SessionScope, true, 0)
	if pgerror.CodeOf(err) != pgerror.CodeDeadlockDetected {
		t.Fatalf("b (the higher ID): %v, want 40P01", err)
	}
	if err := m.ReleaseAll(ctx, b, l2, SessionScope); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("a: %v", err)
	}
}

// waitForWaiter waits until s's wait is recorded.
func waitForWaiter(t *testing.T, m *Manager, s Session) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for range 10000 {
		txn, err := m.db.NewTxn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		v, err := txn.Get(context.Background(), waitKey(s))
		_ = txn.Rollback(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v != nil {
			return
		}
		<-tick.C
	}
	t.Fatal("no wait recorded")
}
