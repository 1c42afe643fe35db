package txn

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TestWriteSkewPrevented: two transactions each read both of two keys and
// write one of them (each checks "a + b ≥ 2" then sets its key to 0). Under
// snapshot isolation both would commit, leaving a + b = 0. Here one of them
// must fail to commit with a retryable error; retried by DB.Txn, the final
// state keeps a + b ≥ 1.
func TestWriteSkewPrevented(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	a, b := key(0, "a"), key(1, "b")
	reset := func() {
		for _, k := range [][]byte{a, b} {
			if err := tc.db.Put(ctx, k, []byte("1")); err != nil {
				t.Fatal(err)
			}
		}
	}
	sum := func(txn *Txn) int {
		s := 0
		for _, k := range [][]byte{a, b} {
			v, _, err := txn.Get(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := strconv.Atoi(string(v))
			s += n
		}
		return s
	}

	// Interleaved by hand: both read, both write, both commit.
	reset()
	t1, t2 := tc.db.NewTxn("t1"), tc.db.NewTxn("t2")
	if sum(t1) != 2 || sum(t2) != 2 {
		t.Fatal("wrong initial sums")
	}
	err1 := t1.Put(ctx, a, []byte("0"))
	err2 := t2.Put(ctx, b, []byte("0"))
	if err1 == nil {
		err1 = t1.Commit(ctx)
	}
	if err2 == nil {
		err2 = t2.Commit(ctx)
	}
	t.Logf("t1: %v; t2: %v", err1, err2)
	if err1 == nil && err2 == nil {
		t.Fatal("write skew: both transactions committed")
	}
	for _, err := range []error{err1, err2} {
		if err != nil && !IsRetryable(err) {
			t.Fatalf("want a retryable error, got %v", err)
		}
	}
	_ = t1.Rollback(ctx)
	_ = t2.Rollback(ctx)

	// Concurrently, with retries: the invariant holds.
	for round := 0; round < 5; round++ {
		reset()
		var wg sync.WaitGroup
		for _, k := range [][]byte{a, b} {
			wg.Add(1)
			if err := tc.Stopper.RunAsyncTask("skew", func(context.Context) {
				defer wg.Done()
				if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					s := 0
					for _, k := range [][]byte{a, b} {
						v, _, err := txn.Get(ctx, k)
						if err != nil {
							return err
						}
						n, _ := strconv.Atoi(string(v))
						s += n
					}
					if s < 2 {
						return nil
					}
					return txn.Put(ctx, k, []byte("0"))
				}); err != nil {
					t.Error(err)
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		check := tc.db.NewTxn("check")
		if s := sum(check); s < 1 {
			t.Fatalf("round %d: write skew, a + b = %d", round, s)
		}
		_ = check.Commit(ctx)
	}
}

// TestLostUpdatePrevented: concurrent read-then-write increments of one key
// (Get, then Put of value+1) from many goroutines: the final count is exact.
func TestLostUpdatePrevented(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k := key(0, "counter")
	const workers, each = 6, 15
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		if err := tc.Stopper.RunAsyncTask("incr", func(context.Context) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					v, _, err := txn.Get(ctx, k)
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(v))
					return txn.Put(ctx, k, []byte(strconv.Itoa(n+1)))
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	v, _, err := tc.db.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(string(v)); n != workers*each {
		t.Fatalf("lost updates: counter %d, want %d", n, workers*each)
	}
}

// TestFailedRefreshRestartsAboveItsReads: a refresh that succeeds on one
// range and fails on another has recorded the transaction's read at its
// target on the first range all the same. The next epoch must start at
// or above that target: a range does not push a transaction's writes
// above its own reads, so an epoch below them would write under another
// transaction's read that they hide in the timestamp cache. (Found as a
// G2 cycle by TestListAppendSerializable, about once in 450 runs.)
func TestFailedRefreshRestartsAboveItsReads(t *testing.T) {
	for _, opts := range []Options{{}, {BufferWrites: true}} {
		tc := newTestCluster(t, opts)
		ctx := testCtx(t)
		a, b := key(0, "a"), key(1, "b")
		// The reader has a clock of its own: the writer's must not learn
		// of the reader's timestamp from it.
		readerDB := NewDB(tc.KeySender(), hlc.NewClock(tc.Manual.UnixNano, 0), tc.Stopper, Options{})
		reader := readerDB.NewTxn("reader")
		var readAt hlc.Timestamp

		// The writer reads a and b; b changes; the reader reads a ahead of
		// the clock (as a transaction pushed to a reader's uncertainty
		// limit does). The writer's write of a is pushed above that read,
		// and its refresh there succeeds on a's range and fails on b's.
		epochs := 0
		var committed hlc.Timestamp
		if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
			epochs++
			for _, k := range [][]byte{a, b} {
				if _, _, err := txn.Get(ctx, k); err != nil {
					return err
				}
			}
			if epochs == 1 {
				if err := tc.db.Put(ctx, b, []byte("changed")); err != nil {
					return err
				}
				readAt = readerDB.clock.Now()
				readAt.WallTime += int64(300 * time.Millisecond)
				if err := reader.ForwardTimestamp(ctx, readAt); err != nil {
					return err
				}
				if _, _, err := reader.Get(ctx, a); err != nil {
					return err
				}
			}
			if err := txn.Put(ctx, a, []byte("writer")); err != nil {
				return err
			}
			if err := txn.Commit(ctx); err != nil {
				return err
			}
			committed = tsFromProto(txn.Proto().Meta.WriteTimestamp)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if epochs < 2 {
			t.Fatalf("buffered=%v: the writer committed without a restart: the test proved nothing", opts.BufferWrites)
		}
		if committed.LessEq(readAt) {
			t.Fatalf("buffered=%v: the writer's write of a committed at %s, at or below the reader's read of a at %s",
				opts.BufferWrites, committed, readAt)
		}
		_ = reader.Rollback(ctx)
	}
}

// TestAbandonedTxnAbortedAfterHeartbeatExpiry: a transaction whose
// coordinator went away (no more heartbeats) keeps its intent until its
// heartbeat expires on the cluster's clock; then a later writer, even one
// of lower priority, aborts it by pushing and writes. The abandoned
// transaction finds out when it tries to commit.
func TestAbandonedTxnAbortedAfterHeartbeatExpiry(t *testing.T) {
	const threshold = time.Second
	tc := newTestClusterWith(t, Options{}, kvtest.Options{Nodes: 3,
		StoreConfig: kvserver.StoreConfig{TxnLivenessThreshold: threshold}})
	ctx := testCtx(t)
	k := key(0, "k")
	abandoned := tc.db.newTxn("abandoned", 1000)
	if err := abandoned.Put(ctx, k, []byte("abandoned")); err != nil {
		t.Fatal(err)
	}
	// The coordinator "dies": its heartbeats stop.
	abandoned.c.mu.Lock()
	abandoned.c.heartbeater.closeLocked()
	abandoned.c.mu.Unlock()

	// Before expiry, a lower-priority writer cannot get through.
	later := tc.db.newTxn("later", 1)
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err := later.Put(sctx, k, []byte("later"))
	cancel()
	if err == nil {
		t.Fatal("a low-priority writer got past a live transaction's intent")
	}
	_ = later.Rollback(ctx)

	tc.Manual.Increment(int64(threshold + 100*time.Millisecond))
	err = tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		txn.c.mu.Lock()
		txn.c.mu.txn.Meta.Priority = 1
		txn.c.mu.Unlock()
		return txn.Put(ctx, k, []byte("later"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := tc.db.Get(ctx, k); err != nil || string(v) != "later" {
		t.Fatalf("after the push: %q %v", v, err)
	}
	br, err := tc.db.sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{{
		Value: &rangepb.RequestUnion_QueryTxn{QueryTxn: &rangepb.QueryTxnRequest{Key: k, Txn: abandoned.Proto().Meta}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if st := br.Responses[0].GetQueryTxn().QueriedTxn.Status; st != rangepb.TransactionStatus_ABORTED {
		t.Fatalf("abandoned txn's record: %s, want ABORTED", st)
	}
	err = abandoned.Commit(ctx)
	var re *RetryableError
	var tae *kvserver.TransactionAbortedError
	if !errors.As(err, &re) || !re.Aborted || !errors.As(err, &tae) {
		t.Fatalf("commit of the abandoned txn: %v, want an aborted RetryableError", err)
	}
}
