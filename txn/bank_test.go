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
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
)

// bankAccounts lays the accounts over both ranges, so that transfers and
// audits are distributed transactions.
func bankAccount(i int) []byte { return key(i%2, fmt.Sprintf("acct/%03d", i)) }

func readBalance(ctx context.Context, txn *Txn, i int) (int64, error) {
	v, ok, err := txn.Get(ctx, bankAccount(i))
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errors.Newf("account %d missing", i)
	}
	return strconv.ParseInt(string(v), 10, 64)
}

// audit sums every account in one read-only transaction (a scan of each
// range).
func audit(ctx context.Context, db *DB) (int64, error) {
	var total int64
	err := db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		total = 0
		for r := 0; r < 2; r++ {
			rows, err := txn.Scan(ctx, key(r, "acct/"), key(r, "acct0"), 0)
			if err != nil {
				return err
			}
			for _, row := range rows {
				n, err := strconv.ParseInt(string(row.Value), 10, 64)
				if err != nil {
					return err
				}
				total += n
			}
		}
		return nil
	})
	return total, err
}

// TestBank: concurrent transfers between accounts on two ranges, from many
// goroutines, each a read-modify-write transaction retried on conflicts;
// concurrent audits (read-only transactions) must always see the initial
// total, and so must a final consistent read.
func TestBank(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		t.Run(fmt.Sprintf("buffer-writes=%t", buffered), func(t *testing.T) { testBank(t, Options{BufferWrites: buffered}) })
	}
}

// testBank is TestBank with opts: with buffered writes, a transfer between
// two accounts on one range commits in one phase, one between ranges
// sends its writes and commit in one batch, split by range.
func testBank(t *testing.T, opts Options) {
	tc := newTestCluster(t, opts)
	ctx := testCtx(t)
	const accounts, initial, workers, transfersPerWorker = 8, 1000, 8, 25
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		for i := 0; i < accounts; i++ {
			if err := txn.Put(ctx, bankAccount(i), []byte(strconv.Itoa(initial))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const want = accounts * initial
	seed := rand.Uint64()
	t.Logf("seed %d", seed)

	var runs atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	auditStop := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		if err := tc.Stopper.RunAsyncTask("bank-worker", func(ctx context.Context) {
			defer wg.Done()
			for i := 0; i < transfersPerWorker; i++ {
				from, to := rng.IntN(accounts), rng.IntN(accounts-1)
				if to >= from {
					to++
				}
				amount := int64(rng.IntN(50))
				err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					runs.Add(1)
					a, err := readBalance(ctx, txn, from)
					if err != nil {
						return err
					}
					b, err := readBalance(ctx, txn, to)
					if err != nil {
						return err
					}
					if err := txn.Put(ctx, bankAccount(from), []byte(strconv.FormatInt(a-amount, 10))); err != nil {
						return err
					}
					return txn.Put(ctx, bankAccount(to), []byte(strconv.FormatInt(b+amount, 10)))
				})
				if err != nil {
					errs <- errors.Wrapf(err, "transfer %d->%d", from, to)
					return
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	var audits atomic.Int64
	auditDone := make(chan struct{})
	if err := tc.Stopper.RunAsyncTask("bank-auditor", func(ctx context.Context) {
		defer close(auditDone)
		for {
			select {
			case <-auditStop:
				return
			default:
			}
			total, err := audit(ctx, tc.db)
			if err != nil {
				errs <- errors.Wrap(err, "audit")
				return
			}
			if total != want {
				errs <- errors.Newf("audit saw total %d, want %d", total, want)
				return
			}
			audits.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	// Move the leases around while the transfers run: each new
	// leaseholder starts with an empty timestamp cache, whose low-water
	// mark (the lease start) must stand for the reads served elsewhere.
	workersDone := make(chan struct{})
	movesDone := make(chan struct{})
	var moves int
	if err := tc.Stopper.RunAsyncTask("bank-lease-mover", func(ctx context.Context) {
		defer close(movesDone)
		pace := time.NewTicker(20 * time.Millisecond)
		defer pace.Stop()
		for i := 0; ; i++ {
			select {
			case <-workersDone:
				return
			case <-pace.C:
			}
			id := kvserver.RangeID(2 + i%2)
			target := int32(tc.Leaseholder(id)%3 + 1)
			if _, err := tc.Send(ctx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
				TransferLease: &rangepb.TransferLeaseRequest{Target: &rangepb.ReplicaDescriptor{NodeId: target, StoreId: target, ReplicaId: target}},
			}}); err == nil {
				moves++
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(workersDone)
	<-movesDone
	close(auditStop)
	<-auditDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total, err := audit(ctx, tc.db)
	if err != nil || total != want {
		t.Fatalf("final audit: total %d, err %v; want %d", total, err, want)
	}
	t.Logf("%d transfers in %d runs, %d concurrent audits, %d lease moves", workers*transfersPerWorker, runs.Load(), audits.Load(), moves)
	waitFor(t, "intents resolved", func() bool { return tc.LockRecords(t) == 0 })
}

var _ = stop.ErrStopping
