package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
)

// TestAdvisoryLockAcrossNodes: advisory locks taken through one node
// exclude sessions on the others: exclusive against everything, shared
// against exclusive; a waiter gets the lock when its holder releases it,
// a transaction's lock goes with its commit, a session's with the
// session, and a dead node's with its liveness epoch. Used as a mutex
// around a read and a write in separate statements, the lock loses no
// increment of three nodes' sessions; a deadlock between two sessions
// fails one of them with 40P01, and lock_timeout bounds a wait with
// 55P03.
func TestAdvisoryLockAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3, true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn := func(i int) *pgx.Conn { return sqlConnect(t, c.node(i)) }
	c1, c2, c3 := conn(0), conn(1), conn(2)
	boolOf := func(c *pgx.Conn, q string, args ...any) bool {
		t.Helper()
		var b bool
		if err := c.QueryRow(ctx, q, args...).Scan(&b); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return b
	}
	exec := func(c *pgx.Conn, q string, args ...any) {
		t.Helper()
		if _, err := c.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// Exclusive excludes every other session, shared only exclusive.
	exec(c1, "SELECT pg_advisory_lock(42)")
	if boolOf(c2, "SELECT pg_try_advisory_lock(42)") || boolOf(c3, "SELECT pg_try_advisory_lock_shared(42)") {
		t.Fatal("another node's session took a lock n1's session holds exclusively")
	}
	if !boolOf(c1, "SELECT pg_try_advisory_lock(42)") {
		t.Fatal("the holder could not take its own lock again")
	}
	exec(c2, "SELECT pg_advisory_lock_shared(7)")
	if !boolOf(c3, "SELECT pg_try_advisory_lock_shared(7)") || boolOf(c1, "SELECT pg_try_advisory_lock(7)") {
		t.Fatal("shared locks: a second shared hold refused, or an exclusive one granted")
	}

	// A waiter on n2 gets the lock once n1's session has released both
	// its holds.
	got := make(chan error, 1)
	go func() {
		_, err := c2.Exec(ctx, "SELECT pg_advisory_lock(42)")
		got <- err
	}()
	waitFor(t, time.Minute, func() error {
		if n := advisoryWaiters(ctx, t, c); n != 1 {
			return errors.Newf("%d waiters", n)
		}
		return nil
	})
	// pg_locks, through n3, shows n1's hold and n2's wait.
	var held, waiting int
	if err := c3.QueryRow(ctx, `SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted)
		FROM pg_locks WHERE locktype = 'advisory' AND objid = 42 AND objsubid = 1`).Scan(&held, &waiting); err != nil || held != 1 || waiting != 1 {
		t.Fatalf("pg_locks: %d held, %d waiting (%v), want 1 and 1", held, waiting, err)
	}
	exec(c1, "SELECT pg_advisory_unlock(42)")
	select {
	case err := <-got:
		t.Fatalf("the waiter got the lock while n1 still held it once: %v", err)
	default:
	}
	exec(c1, "SELECT pg_advisory_unlock(42)")
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if boolOf(c1, "SELECT pg_try_advisory_lock(42)") {
		t.Fatal("n1 took the lock the waiter on n2 was granted")
	}
	exec(c2, "SELECT pg_advisory_unlock_all()")

	// A transaction's lock goes with its commit.
	tx, err := c1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(5)"); err != nil {
		t.Fatal(err)
	}
	if boolOf(c2, "SELECT pg_try_advisory_lock(5)") {
		t.Fatal("took a lock an open transaction on n1 holds")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !boolOf(c2, "SELECT pg_try_advisory_lock(5)") {
		t.Fatal("a committed transaction's lock is still held")
	}
	exec(c2, "SELECT pg_advisory_unlock(5)")

	// A session's locks go with it.
	c4 := conn(2)
	exec(c4, "SELECT pg_advisory_lock(9)")
	if boolOf(c1, "SELECT pg_try_advisory_lock(9)") {
		t.Fatal("took a lock n3's session holds")
	}
	if err := c4.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, func() error {
		if !boolOf(c1, "SELECT pg_try_advisory_lock(9)") {
			return errors.New("the closed session's lock is still held")
		}
		return nil
	})
	exec(c1, "SELECT pg_advisory_unlock(9)")

	// A mutex around a read and a write in statements of their own: no
	// increment is lost.
	exec(c1, "CREATE TABLE counter (k INT PRIMARY KEY, v INT NOT NULL)")
	exec(c1, "INSERT INTO counter VALUES (1, 0)")
	const perWorker = 15
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for w := range 3 {
		wc := conn(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				if err := increment(ctx, wc); err != nil {
					errs <- errors.Wrapf(err, "worker on n%d", w+1)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var v int
	if err := c1.QueryRow(ctx, "SELECT v FROM counter WHERE k = 1").Scan(&v); err != nil || v != 3*perWorker {
		t.Fatalf("counter %d (%v), want %d: the lock let two sessions in at once", v, err, 3*perWorker)
	}

	// A deadlock: one of the two fails with 40P01, the other gets its
	// lock.
	exec(c1, "SELECT pg_advisory_lock(1)")
	exec(c2, "SELECT pg_advisory_lock(2)")
	type outcome struct {
		c   *pgx.Conn
		err error
	}
	dl := make(chan outcome, 2)
	go func() { _, err := c1.Exec(ctx, "SELECT pg_advisory_lock(2)"); dl <- outcome{c1, err} }()
	go func() { _, err := c2.Exec(ctx, "SELECT pg_advisory_lock(1)"); dl <- outcome{c2, err} }()
	first := <-dl
	if sqlCode(first.err) != "40P01" {
		t.Fatalf("first of the deadlocked sessions to return: %v, want 40P01", first.err)
	}
	// The loser still holds its own lock: releasing it lets the other
	// through.
	exec(first.c, "SELECT pg_advisory_unlock_all()")
	if second := <-dl; second.err != nil {
		t.Fatalf("the other deadlocked session: %v", second.err)
	}
	exec(c1, "SELECT pg_advisory_unlock_all()")
	exec(c2, "SELECT pg_advisory_unlock_all()")

	// lock_timeout bounds a wait.
	exec(c1, "SELECT pg_advisory_lock(3)")
	exec(c2, "SET lock_timeout = '100ms'")
	if _, err := c2.Exec(ctx, "SELECT pg_advisory_lock(3)"); sqlCode(err) != "55P03" {
		t.Fatalf("a wait past lock_timeout: %v, want 55P03", err)
	}
	exec(c2, "SET lock_timeout = 0")
	exec(c1, "SELECT pg_advisory_unlock(3)")

	// A dead node's locks free up once its liveness epoch ends.
	exec(c3, "SELECT pg_advisory_lock(11)")
	if boolOf(c1, "SELECT pg_try_advisory_lock(11)") {
		t.Fatal("took a lock n3's session holds")
	}
	c.stop(2)
	waitFor(t, time.Minute, func() error {
		if !boolOf(c1, "SELECT pg_try_advisory_lock(11)") {
			return errors.New("the stopped node's lock is still held")
		}
		return nil
	})
}

// increment adds one to the counter under advisory lock 100, reading and
// writing in statements of their own.
func increment(ctx context.Context, c *pgx.Conn) error {
	if _, err := c.Exec(ctx, "SELECT pg_advisory_lock(100)"); err != nil {
		return err
	}
	var v int
	if err := c.QueryRow(ctx, "SELECT v FROM counter WHERE k = 1").Scan(&v); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "UPDATE counter SET v = $1 WHERE k = 1", v+1); err != nil {
		return err
	}
	var had bool
	if err := c.QueryRow(ctx, "SELECT pg_advisory_unlock(100)").Scan(&had); err != nil || !had {
		return errors.Newf("unlock: %v, %v", had, err)
	}
	return nil
}

// advisoryWaiters counts the sessions waiting for an advisory lock, from
// their records (sql/advisory's 0x04 'w').
func advisoryWaiters(ctx context.Context, t *testing.T, c *testCluster) int {
	t.Helper()
	txn := c.node(0).db.NewTxn("waiters")
	defer func() { _ = txn.Rollback(ctx) }()
	kvs, err := txn.Scan(ctx, []byte{0x04, 'w'}, []byte{0x04, 'x'}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(kvs)
}
