package txn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
)

var errUserAbort = errors.New("the transaction's function gave up")

// TestRandomizedHistory runs random transactions from several goroutines
// over a few counters on two ranges, each incrementing one or two counters
// in one of several ways (read then put, increment, conditional put on the
// value read, delete then put) and a total by as much, some giving up
// (rolled back) after writing. Concurrent read-only audits and the final
// state must always find the counters summing to the total, and the total
// equal to the increments of the transactions that committed. The seed is
// printed; MERIDIAN_SEED is not read: rerun a failure by setting seed.
func TestRandomizedHistory(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	const counters, workers, txnsPerWorker = 6, 6, 15
	counter := func(i int) []byte { return key(i%2, fmt.Sprintf("ctr/%d", i)) }
	total := key(0, "total")
	num := func(v []byte, ok bool) int64 {
		if !ok {
			return 0
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			t.Errorf("bad counter %q", v)
		}
		return n
	}

	var committed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		if err := tc.Stopper.RunAsyncTask("random-worker", func(context.Context) {
			defer wg.Done()
			for i := 0; i < txnsPerWorker; i++ {
				// The transaction's shape is drawn once, so that every
				// retry runs the same one.
				a := rng.IntN(counters)
				b := (a + 1 + rng.IntN(counters-1)) % counters
				targets := []int{a}
				if rng.IntN(2) == 0 {
					targets = append(targets, b)
				}
				methods := []int{rng.IntN(4), rng.IntN(4)}
				scanFirst, giveUp := rng.IntN(3) == 0, rng.IntN(10) == 0
				err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					if scanFirst {
						if _, err := txn.Scan(ctx, key(0, "ctr/"), key(0, "ctr0"), 0); err != nil {
							return err
						}
					}
					for j, c := range targets {
						k := counter(c)
						switch methods[j] {
						case 0: // read, then put
							v, ok, err := txn.Get(ctx, k)
							if err != nil {
								return err
							}
							if err := txn.Put(ctx, k, []byte(strconv.FormatInt(num(v, ok)+1, 10))); err != nil {
								return err
							}
						case 1: // scan the counters of the key's range, then put
							rows, err := txn.Scan(ctx, key(c%2, "ctr/"), key(c%2, "ctr0"), 0)
							if err != nil {
								return err
							}
							var v []byte
							ok := false
							for _, r := range rows {
								if string(r.Key) == string(k) {
									v, ok = r.Value, true
								}
							}
							if err := txn.Put(ctx, k, []byte(strconv.FormatInt(num(v, ok)+1, 10))); err != nil {
								return err
							}
						case 2: // conditional put on what was read
							v, ok, err := txn.Get(ctx, k)
							if err != nil {
								return err
							}
							var exp []byte
							if ok {
								exp = v
							}
							if err := txn.CPut(ctx, k, []byte(strconv.FormatInt(num(v, ok)+1, 10)), exp); err != nil {
								return err
							}
						case 3: // delete, then put
							v, ok, err := txn.Get(ctx, k)
							if err != nil {
								return err
							}
							if err := txn.Del(ctx, k); err != nil {
								return err
							}
							if err := txn.Put(ctx, k, []byte(strconv.FormatInt(num(v, ok)+1, 10))); err != nil {
								return err
							}
						}
					}
					v, ok, err := txn.Get(ctx, total)
					if err != nil {
						return err
					}
					if err := txn.Put(ctx, total, []byte(strconv.FormatInt(num(v, ok)+int64(len(targets)), 10))); err != nil {
						return err
					}
					if giveUp {
						return errUserAbort
					}
					return nil
				})
				switch {
				case err == nil:
					committed.Add(int64(len(targets)))
				case errors.Is(err, errUserAbort):
				default:
					t.Errorf("seed %d: %v", seed, err)
					return
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}

	check := func(ctx context.Context) (sum, tot int64, err error) {
		err = tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
			sum = 0
			for i := 0; i < counters; i++ {
				v, ok, err := txn.Get(ctx, counter(i))
				if err != nil {
					return err
				}
				sum += num(v, ok)
			}
			v, ok, err := txn.Get(ctx, total)
			tot = num(v, ok)
			return err
		})
		return sum, tot, err
	}
	stopAudit := make(chan struct{})
	auditDone := make(chan struct{})
	var audits int
	if err := tc.Stopper.RunAsyncTask("random-auditor", func(ctx context.Context) {
		defer close(auditDone)
		// Paced: an audit in a tight loop pushes every writer of the
		// total above its reads, again and again.
		pace := time.NewTicker(2 * time.Millisecond)
		defer pace.Stop()
		for {
			select {
			case <-stopAudit:
				return
			case <-pace.C:
			}
			sum, tot, err := check(ctx)
			if err != nil || sum != tot {
				t.Errorf("seed %d: audit: counters sum to %d, total %d, err %v", seed, sum, tot, err)
				return
			}
			audits++
		}
	}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(stopAudit)
	<-auditDone
	sum, tot, err := check(ctx)
	if err != nil || sum != tot || tot != committed.Load() {
		t.Fatalf("seed %d: final: counters %d, total %d, committed increments %d, err %v", seed, sum, tot, committed.Load(), err)
	}
	t.Logf("%d increments committed, %d audits", tot, audits)
	waitFor(t, "intents resolved", func() bool { return tc.LockRecords(t) == 0 })
}
