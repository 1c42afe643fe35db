package txn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
)

// TestRandomConflictsSerializable drives the ranges' lock tables with
// conflicting transactions: each one locks (a locking read, or a plain
// read), then increments, two to four counters spread over two ranges,
// taken in a random order, so that waits in opposite orders (would-be
// deadlocks, within a range and across ranges) are common; some send their
// writes held back in one batch. It checks that
//   - no transaction waits forever: each finishes (commits, perhaps after
//     restarts) well within a bound, however the waits tangle;
//   - the history is serializable as far as counters show it: concurrent
//     read-only audits always find the counters summing to the total, and
//     at the end every counter equals the number of committed transactions
//     that incremented it (no lost update), and no intent is left.
//
// The seed is printed; rerun a failure by setting seed.
func TestRandomConflictsSerializable(t *testing.T) {
	tc := newTestCluster(t, Options{MaxRetries: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	const counters, workers, txnsPerWorker = 6, 6, 12
	// maxTxnTime bounds one transaction, restarts included: far above
	// what the contention costs, far below a wait that never ends.
	const maxTxnTime = 20 * time.Second
	counter := func(i int) []byte { return key(i%2, fmt.Sprintf("rc/%d", i)) }
	total := key(0, "rc/total")
	num := func(v []byte, found bool) (int64, error) {
		if !found {
			return 0, nil
		}
		return strconv.ParseInt(string(v), 10, 64)
	}

	var mu sync.Mutex
	want := make([]int64, counters)
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := range workers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Add(1)
		if err := tc.Stopper.RunAsyncTask("conflict-worker", func(context.Context) {
			defer wg.Done()
			for i := range txnsPerWorker {
				keys := rng.Perm(counters)[:2+rng.IntN(3)]
				locking, buffered := rng.IntN(2) == 0, rng.IntN(3) == 0
				tctx, tcancel := context.WithTimeout(ctx, maxTxnTime)
				err := tc.db.Txn(tctx, func(ctx context.Context, txn *Txn) error {
					if buffered {
						txn.BufferWrites()
					}
					for _, k := range keys {
						get := txn.Get
						if locking {
							get = txn.GetForUpdate
						}
						v, found, err := get(ctx, counter(k))
						if err != nil {
							return err
						}
						n, err := num(v, found)
						if err != nil {
							return err
						}
						if err := txn.Put(ctx, counter(k), []byte(strconv.FormatInt(n+1, 10))); err != nil {
							return err
						}
					}
					v, found, err := txn.Get(ctx, total)
					if err != nil {
						return err
					}
					n, err := num(v, found)
					if err != nil {
						return err
					}
					return txn.Put(ctx, total, []byte(strconv.FormatInt(n+int64(len(keys)), 10)))
				})
				tcancel()
				if err != nil {
					errs <- errors.Wrapf(err, "seed %d: worker %d txn %d over %v (locking %t, buffered %t) did not finish", seed, w, i, keys, locking, buffered)
					return
				}
				mu.Lock()
				for _, k := range keys {
					want[k]++
				}
				mu.Unlock()
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	audit := func() (sum, tot int64, err error) {
		err = tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
			sum, tot = 0, 0
			for i := range counters {
				v, found, err := txn.Get(ctx, counter(i))
				if err != nil {
					return err
				}
				n, err := num(v, found)
				if err != nil {
					return err
				}
				sum += n
			}
			v, found, err := txn.Get(ctx, total)
			if err != nil {
				return err
			}
			tot, err = num(v, found)
			return err
		})
		return sum, tot, err
	}
	stop := make(chan struct{})
	auditDone := make(chan struct{})
	if err := tc.Stopper.RunAsyncTask("conflict-auditor", func(context.Context) {
		defer close(auditDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			sum, tot, err := audit()
			if err != nil {
				errs <- errors.Wrapf(err, "seed %d: audit", seed)
				return
			}
			if sum != tot {
				errs <- errors.Newf("seed %d: audit saw counters summing to %d, total %d", seed, sum, tot)
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(stop)
	<-auditDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all int64
	for i := range counters {
		v, found, err := tc.db.Get(ctx, counter(i))
		if err != nil {
			t.Fatal(err)
		}
		n, err := num(v, found)
		if err != nil || n != want[i] {
			t.Fatalf("seed %d: counter %d = %d (%v), want %d (a lost or doubled update)", seed, i, n, err, want[i])
		}
		all += n
	}
	if sum, tot, err := audit(); err != nil || sum != all || tot != all {
		t.Fatalf("seed %d: final audit: counters %d, total %d, %v; want %d", seed, sum, tot, err, all)
	}
	waitFor(t, "intents resolved", func() bool { return tc.LockRecords(t) == 0 })
}
