package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/txn"
)

// TestBankSerializable (issue 12): transfers between accounts spread over
// ranges, in transactions from two nodes through the production path
// (DistSender, write pipelining, parallel commits), while the accounts'
// ranges are split, their leases moved, and the third node is restarted.
// Every audit (one transaction reading every balance) and the final count
// must see the initial total. MERIDIAN_BANK_TRANSFERS sets the number of
// transfers (default 600); the seed is printed on failure.
func TestBankSerializable(t *testing.T) {
	const accounts, initial = 20, 1000
	transfers := 600
	if s := os.Getenv("MERIDIAN_BANK_TRANSFERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		transfers = n
	}
	seed := uint64(hlc.PhysicalNow().UnixNano())
	if s := os.Getenv("MERIDIAN_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = n
	}
	t.Logf("seed %d (MERIDIAN_SEED to repeat)", seed)
	defer func() {
		if t.Failed() {
			t.Logf("failed with seed %d", seed)
		}
	}()

	c := newTestCluster(t, 3, false)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	acct := func(i int) []byte { return []byte(fmt.Sprintf("\xf8bank/%03d", i)) }
	for i := range accounts {
		if err := c.node(0).DB().Put(ctx, acct(i), []byte(strconv.Itoa(initial))); err != nil {
			t.Fatal(err)
		}
	}
	balance := func(ctx context.Context, tx *txn.Txn, i int) (int, error) {
		v, ok, err := tx.Get(ctx, acct(i))
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, errors.Newf("account %d missing", i)
		}
		return strconv.Atoi(string(v))
	}
	sum := func(ctx context.Context, tx *txn.Txn) (int, []string, error) {
		rows, err := tx.Scan(ctx, acct(0), acct(accounts), 0)
		if err != nil {
			return 0, nil, err
		}
		if len(rows) != accounts {
			return 0, nil, errors.Newf("audit read %d accounts, want %d", len(rows), accounts)
		}
		total, vals := 0, make([]string, len(rows))
		for i, r := range rows {
			n, err := strconv.Atoi(string(r.Value))
			if err != nil {
				return 0, nil, err
			}
			total += n
			vals[i] = string(r.Value)
		}
		return total, vals, nil
	}
	// audit sums the balances in one transaction. A wrong total is
	// reported with what tells a read-side anomaly from a write-side one:
	// the read timestamp, and the balances read there again afterwards
	// (the same wrong total then means the committed data itself is
	// inconsistent at that timestamp).
	audit := func(db *txn.DB) (int, error) {
		total := 0
		var vals []string
		var ts hlc.Timestamp
		err := db.Txn(ctx, func(ctx context.Context, tx *txn.Txn) error {
			var err error
			total, vals, err = sum(ctx, tx)
			ts = tx.ReadTimestamp()
			return err
		})
		if err == nil && total != accounts*initial {
			again, vals2, err2 := sum(ctx, db.NewHistoricalTxn("audit-again", ts))
			var now int
			err3 := db.Txn(ctx, func(ctx context.Context, tx *txn.Txn) (err error) {
				now, _, err = sum(ctx, tx)
				return err
			})
			return total, errors.Newf("audit at %s saw a total of %d, want %d (read there again: %d, %v; now: %d, %v); balances %v, again %v; versions near it on node 1:\n%s",
				ts, total, accounts*initial, again, err2, now, err3, vals, vals2, versionsNear(c.node(0), acct(0), acct(accounts), ts))
		}
		return total, err
	}

	var (
		done      = make(chan struct{})
		next      atomic.Int64
		committed atomic.Int64
		workers   sync.WaitGroup
		auditors  sync.WaitGroup
		errs      = make(chan error, 16)
	)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	// Transfers from nodes 1 and 2, four workers each; node 3 restarts.
	for w := range 8 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			db := c.node(w % 2).DB()
			for next.Add(1) <= int64(transfers) {
				from, to := rng.IntN(accounts), rng.IntN(accounts-1)
				if to >= from {
					to++
				}
				amount := rng.IntN(50) + 1
				err := db.Txn(ctx, func(ctx context.Context, tx *txn.Txn) error {
					a, err := balance(ctx, tx, from)
					if err != nil {
						return err
					}
					b, err := balance(ctx, tx, to)
					if err != nil {
						return err
					}
					if err := tx.Put(ctx, acct(from), []byte(strconv.Itoa(a-amount))); err != nil {
						return err
					}
					return tx.Put(ctx, acct(to), []byte(strconv.Itoa(b+amount)))
				})
				var amb *kvserver.AmbiguousResultError
				switch {
				case err == nil:
					committed.Add(1)
				case errors.As(err, &amb):
					// Committed or not: either way atomically.
				default:
					report(errors.Wrapf(err, "transfer %d -> %d", from, to))
					return
				}
			}
		}()
	}
	// Auditors on both client nodes.
	var audits atomic.Int64
	for a := range 2 {
		auditors.Add(1)
		go func() {
			defer auditors.Done()
			db := c.node(a).DB()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := audit(db); err != nil {
					report(errors.Wrapf(err, "audit %d", audits.Load()))
					return
				}
				audits.Add(1)
			}
		}()
	}
	// Chaos: splits at random accounts, lease moves, one restart of node 3.
	chaosDone := make(chan struct{})
	var splits, moves int
	go func() {
		defer close(chaosDone)
		rng := rand.New(rand.NewPCG(seed, 1000))
		restarted := false
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(30 * time.Millisecond):
			}
			n := c.node(0)
			switch {
			case !restarted && next.Load() > int64(transfers)/3:
				restarted = true
				c.stop(2)
				c.start(2)
			case i%2 == 0:
				if _, err := n.dist.AdminSplit(ctx, acct(1+rng.IntN(accounts-1))); err == nil {
					splits++
				}
			default:
				descs, err := n.RangeDescriptors(ctx)
				if err != nil {
					continue
				}
				var ours []*rangepb.RangeDescriptor
				for _, d := range descs {
					if string(d.EndKey) > string(acct(0)) && (len(d.StartKey) == 0 || string(d.StartKey) < string(acct(accounts))) {
						ours = append(ours, d)
					}
				}
				if len(ours) == 0 {
					continue
				}
				d := ours[rng.IntN(len(ours))]
				target := d.Replicas[rng.IntN(len(d.Replicas))]
				if _, err := n.ranges.Send(ctx, kvserver.RangeID(d.RangeId), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
					TransferLease: &rangepb.TransferLeaseRequest{Target: target}}}); err == nil {
					moves++
				}
			}
		}
	}()

	workers.Wait()
	close(done)
	auditors.Wait()
	<-chaosDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total, err := audit(c.node(0).DB())
	if err != nil {
		t.Fatal(err)
	}
	if total != accounts*initial {
		t.Fatalf("final total %d, want %d", total, accounts*initial)
	}
	t.Logf("%d transfers committed, %d audits, %d splits, %d lease moves, one restart", committed.Load(), audits.Load(), splits, moves)
	if committed.Load() == 0 || audits.Load() == 0 {
		t.Fatal("nothing was checked")
	}
}

// versionsNear lists the versions of the keys in [start, end) that n's
// engine holds within 200 ms of ts, for a failure's report.
func versionsNear(n *Node, start, end []byte, ts hlc.Timestamp) string {
	const window = int64(200 * time.Millisecond)
	it, err := n.engine.NewIterator(kv.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return err.Error()
	}
	defer it.Close()
	var b strings.Builder
	for it.SeekGE(kv.MVCCKey{Key: start}); ; it.Next() {
		ok, err := it.Valid()
		if err != nil {
			return b.String() + err.Error()
		}
		if !ok {
			break
		}
		k := it.UnsafeKey()
		if d := k.Timestamp.WallTime - ts.WallTime; d < -window || d > window {
			continue
		}
		raw, _ := it.UnsafeValue()
		v, err := kv.DecodeValueUnchecked(raw)
		fmt.Fprintf(&b, "  %q @ %s (%+.1f ms) = %s %v\n", k.Key, k.Timestamp, float64(k.Timestamp.WallTime-ts.WallTime)/1e6, v, err)
	}
	return b.String()
}
