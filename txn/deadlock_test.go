package txn

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TestDeadlockDetection: n transactions of equal priority each lock a key
// and then ask for the next one's, closing a cycle through both ranges.
// The cycle must be broken (some transaction aborted and run again) and
// every transaction must commit in the end, with its two writes. Each
// size runs with both ranges' leases on one node (the store's wait-for
// graph finds the cycle when its last edge registers) and on two nodes
// (no store sees the whole cycle: the edges published at the records
// find it, range/concurrency wait_graph.go). The wound-after bound, which
// would break any cycle by itself, is an hour here: only the detection
// can end the waits.
func TestDeadlockDetection(t *testing.T) {
	for _, split := range []bool{false, true} {
		for _, n := range []int{2, 3, 10} {
			t.Run(fmt.Sprintf("leases-apart=%t/cycle=%d", split, n), func(t *testing.T) {
				testDeadlockCycle(t, n, split)
			})
		}
	}
}

func testDeadlockCycle(t *testing.T, n int, leasesApart bool) {
	tc := newTestClusterWith(t, Options{}, kvtest.Options{Nodes: 3, StoreConfig: kvserver.StoreConfig{TxnWoundAfter: time.Hour}})
	ctx := testCtx(t)
	moveLease := func(id kvserver.RangeID, to int) {
		waitFor(t, fmt.Sprintf("r%d's lease on n%d", id, to), func() bool {
			if tc.Leaseholder(id) == to {
				return true
			}
			target := int32(to)
			_, _ = tc.Send(ctx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
				TransferLease: &rangepb.TransferLeaseRequest{Target: &rangepb.ReplicaDescriptor{NodeId: target, StoreId: target, ReplicaId: target}},
			}})
			return tc.Leaseholder(id) == to
		})
	}
	moveLease(2, 1)
	if leasesApart {
		moveLease(3, 2)
	} else {
		moveLease(3, 1)
	}
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = key(i%2, fmt.Sprintf("cycle-%02d", i))
	}

	// Every transaction's first write lands before any asks for its
	// second key: then each second write waits on the next transaction's
	// lock and the waits form one cycle.
	var locked sync.WaitGroup
	locked.Add(n)
	var runs atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			errs <- tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
				runs.Add(1)
				if err := txn.Put(ctx, keys[i], []byte(fmt.Sprintf("own-%d", i))); err != nil {
					return err
				}
				if first {
					first = false
					locked.Done()
					locked.Wait()
				}
				return txn.Put(ctx, keys[(i+1)%n], []byte(fmt.Sprintf("next-%d", i)))
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a transaction of the cycle did not commit: %v", err)
		}
	}
	if r := runs.Load(); r <= int64(n) {
		t.Fatalf("%d runs of %d transactions: the cycle was never broken", r, n)
	}
	// Broken by the detector the layout calls for: with the wound an hour
	// away, a cycle left undetected ends only when a stalled
	// transaction's record expires.
	var local, distributed int64
	for _, nd := range tc.Nodes {
		local += nd.Store.Metrics().Deadlocks.Local.Load()
		distributed += nd.Store.Metrics().Deadlocks.Distributed.Load()
	}
	if leasesApart && distributed == 0 {
		t.Fatalf("leases apart: no deadlock found through the published waits (%d local)", local)
	}
	if !leasesApart && local == 0 {
		t.Fatalf("leases together: no deadlock found in the store's wait queue (%d distributed)", distributed)
	}
	// Each key was written by its owner and by its predecessor; whichever
	// committed last wrote it, and both committed.
	for i, k := range keys {
		v, ok, err := tc.db.Get(ctx, k)
		if err != nil || !ok {
			t.Fatalf("%s: found=%v err=%v", k, ok, err)
		}
		own, next := fmt.Sprintf("own-%d", i), fmt.Sprintf("next-%d", (i+n-1)%n)
		if string(v) != own && string(v) != next {
			t.Fatalf("%s = %q, want %q or %q", k, v, own, next)
		}
	}
	waitFor(t, "every intent resolved", func() bool { return tc.LockRecords(t) == 0 })
}
