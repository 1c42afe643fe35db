package txn

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// txnRecords counts the transaction records on every live node.
func (tc *testCluster) txnRecords(t *testing.T) int {
	t.Helper()
	n := 0
	for _, node := range tc.Nodes {
		if !node.Alive() {
			continue
		}
		end := []byte{kv.LocalRangePrefix[0], kv.LocalRangePrefix[1] + 1}
		it, err := node.Engine.NewIterator(kv.IterOptions{LowerBound: kv.LocalRangePrefix, UpperBound: end})
		if err != nil {
			t.Fatal(err)
		}
		for it.SeekGE(kv.MVCCKey{Key: kv.LocalRangePrefix}); ; it.Next() {
			ok, err := it.Valid()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			// /Local/Range/<anchor>/txn-<16-byte id>
			if k := it.UnsafeKey().Key; len(k) > 20 && bytes.Equal(k[len(k)-20:len(k)-16], []byte("txn-")) {
				n++
			}
		}
		it.Close()
	}
	return n
}

// countingSender counts the requests that go down to the cluster, by kind.
type countingSender struct {
	Sender
	mu     sync.Mutex
	counts map[string]int
}

func (s *countingSender) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	s.mu.Lock()
	if ba.Header.GetTxn().GetStatus() == rangepb.TransactionStatus_STAGING {
		// The background commit of an implicitly committed transaction
		// (makeExplicit): sent after the client has its answer, at a
		// time of its own, so counted apart from the client's batches.
		s.counts["explicit"]++
		s.mu.Unlock()
		return s.Sender.Send(ctx, ba)
	}
	for _, ru := range ba.Requests {
		switch ru.Value.(type) {
		case *rangepb.RequestUnion_EndTxn:
			s.counts["EndTxn"]++
		case *rangepb.RequestUnion_HeartbeatTxn:
			s.counts["HeartbeatTxn"]++
		}
	}
	s.counts["batches"]++
	s.mu.Unlock()
	return s.Sender.Send(ctx, ba)
}

func (s *countingSender) take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts
	s.counts = map[string]int{}
	return c
}

// TestOnePhaseCommit: with buffered writes, a transaction whose writes all
// fall in one range sends them with its commit in one batch and commits in
// one Raft command: no transaction record and no intent exist afterwards,
// on any replica (counted in the engines), and its values are there. A
// read-only transaction sends no commit at all. The same transaction over
// two ranges still commits, with a record.
func TestOnePhaseCommit(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	cs := &countingSender{Sender: tc.KeySender(), counts: map[string]int{}}
	db := NewDB(cs, tc.db.clock, tc.Stopper, Options{HeartbeatInterval: tc.db.opts.HeartbeatInterval, BufferWrites: true})
	// Leases first: a new lease's timestamp cache starts at the lease
	// start, above the transactions' timestamps, and would make their
	// commits refresh and send again.
	for r := 0; r < 2; r++ {
		if err := tc.db.Put(ctx, key(r, "warm"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := tc.txnRecords(t); n != 0 {
		t.Fatalf("%d records before any transaction", n)
	}
	cs.take()

	// One range: a read, two writes, the commit.
	if err := db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		if _, _, err := txn.Get(ctx, key(0, "x")); err != nil {
			return err
		}
		if err := txn.Put(ctx, key(0, "a"), []byte("1")); err != nil {
			return err
		}
		return txn.Put(ctx, key(0, "b"), []byte("2"))
	}); err != nil {
		t.Fatal(err)
	}
	if c := cs.take(); c["batches"] != 2 || c["EndTxn"] != 1 {
		t.Errorf("one-range transaction sent %v, want 2 batches (the read; writes and commit)", c)
	}
	if r, l := tc.txnRecords(t), tc.LockRecords(t); r != 0 || l != 0 {
		t.Fatalf("after a one-phase commit: %d records, %d intents; want none", r, l)
	}
	for k, want := range map[string]string{"a": "1", "b": "2"} {
		if v, ok, err := tc.db.Get(ctx, key(0, k)); err != nil || !ok || string(v) != want {
			t.Fatalf("%s after commit: %q found=%v err=%v", k, v, ok, err)
		}
	}

	// Read-only: nothing but the reads is sent.
	if err := db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		_, _, err := txn.Get(ctx, key(0, "a"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if c := cs.take(); c["batches"] != 1 || c["EndTxn"] != 0 || c["HeartbeatTxn"] != 0 {
		t.Errorf("read-only transaction sent %v, want the read alone", c)
	}

	// A rollback of buffered writes sends nothing.
	txn := db.NewTxn("rolled back")
	if err := txn.Put(ctx, key(0, "c"), []byte("3")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if c := cs.take(); c["batches"] != 0 {
		t.Errorf("rolling back unsent writes sent %v", c)
	}
	if _, ok, err := tc.db.Get(ctx, key(0, "c")); err != nil || ok {
		t.Fatalf("a rolled back write is visible: found=%v err=%v", ok, err)
	}

	// Two ranges: the same single batch, split, with a record.
	if err := db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		if err := txn.Put(ctx, key(0, "d"), []byte("4")); err != nil {
			return err
		}
		return txn.Put(ctx, key(1, "e"), []byte("5"))
	}); err != nil {
		t.Fatal(err)
	}
	if c := cs.take(); c["batches"] != 1 || c["EndTxn"] != 1 {
		t.Errorf("two-range transaction sent %v, want 1 batch", c)
	}
	if r := tc.txnRecords(t); r == 0 {
		t.Fatal("a two-range transaction left no record")
	}
	waitFor(t, "intents resolved", func() bool { return tc.LockRecords(t) == 0 })
	for k, want := range map[string]string{"d": "4", "e": "5"} {
		r := 0
		if k == "e" {
			r = 1
		}
		if v, ok, err := tc.db.Get(ctx, key(r, k)); err != nil || !ok || string(v) != want {
			t.Fatalf("%s after commit: %q found=%v err=%v", k, v, ok, err)
		}
	}
}
