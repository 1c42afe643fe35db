package txn

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

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// checkerSeed returns the seed of a randomized checker: MERIDIAN_SEED if
// set, else one from the clock. The test logs it; rerun a failure with
// MERIDIAN_SEED=<seed> (the operations drawn repeat; their interleaving,
// which the goroutines decide, does not).
func checkerSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("MERIDIAN_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MERIDIAN_SEED=%q: %v", s, err)
		}
		return seed
	}
	return uint64(hlc.PhysicalNow().UnixNano())
}

// checkerDuration returns how long a randomized checker runs its
// workload: MERIDIAN_CHECK_DURATION (a Go duration, e.g. 2m) if set, else
// def (short enough for make test).
func checkerDuration(t *testing.T, def time.Duration) time.Duration {
	t.Helper()
	if s := os.Getenv("MERIDIAN_CHECK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("MERIDIAN_CHECK_DURATION=%q: %v", s, err)
		}
		return d
	}
	return def
}

// TestListAppendSerializable runs a list-append workload (as Jepsen's
// Elle does) on three nodes: concurrent clients run transactions of reads
// and appends over a few keys spread over three ranges, appends being a
// read then a put of the longer list, while the ranges' leases move
// around. The committed history must have no dependency cycle (G0, G1c,
// G-single, G2), no read that a prefix of the committed order does not
// explain, no aborted read and no lost write (see checkListAppend). Once
// with writes pipelined and commits parallel, once with buffered writes
// (one-phase commits on one range). MERIDIAN_SEED and
// MERIDIAN_CHECK_DURATION (per configuration) rerun or lengthen it.
func TestListAppendSerializable(t *testing.T) {
	seed := checkerSeed(t)
	dur := checkerDuration(t, 1500*time.Millisecond)
	for i, cfg := range []struct {
		name string
		opts Options
	}{
		{"pipelined", Options{}},
		{"buffer-writes", Options{BufferWrites: true}},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			runListAppend(t, cfg.opts, seed+uint64(i), dur)
		})
	}
}

const (
	laRanges  = 3
	laKeys    = 6
	laClients = 5
)

func laKey(k int) []byte { return key(k%laRanges, fmt.Sprintf("la/%d", k)) }

func decodeList(v []byte, found bool) ([]int, error) {
	if !found || len(v) == 0 {
		return nil, nil
	}
	var out []int
	for _, s := range strings.Split(string(v), ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func encodeList(l []int) []byte {
	parts := make([]string, len(l))
	for i, n := range l {
		parts[i] = strconv.Itoa(n)
	}
	return []byte(strings.Join(parts, ","))
}

func runListAppend(t *testing.T, opts Options, seed uint64, dur time.Duration) {
	tc := newTestClusterRanges(t, opts, kvtest.Options{Nodes: 3}, laRanges)
	ctx := testCtx(t)
	if dur > 50*time.Second {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), dur+time.Minute)
		t.Cleanup(cancel)
	}
	defer func() {
		if t.Failed() {
			t.Logf("seed %d (rerun with MERIDIAN_SEED=%d)", seed, seed)
		}
	}()
	var (
		mu      sync.Mutex
		history []*laTxn
		nextVal atomic.Int64
		errs    []error
	)
	record := func(tx *laTxn) {
		mu.Lock()
		history = append(history, tx)
		mu.Unlock()
	}
	deadline := hlc.PhysicalNow().Add(dur)
	var wg sync.WaitGroup
	for c := range laClients {
		wg.Add(1)
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		if err := tc.Stopper.RunAsyncTask("list-append-client", func(ctx context.Context) {
			defer wg.Done()
			for hlc.PhysicalNow().Before(deadline) && ctx.Err() == nil {
				// The transaction's shape is drawn once; every attempt
				// runs it with fresh values.
				type step struct {
					append, forUpdate bool
					key               int
				}
				steps := make([]step, 1+rng.IntN(4))
				for i := range steps {
					steps[i] = step{append: rng.IntN(2) == 0, forUpdate: rng.IntN(2) == 0, key: rng.IntN(laKeys)}
				}
				var cur *laTxn
				err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					if cur != nil {
						cur.status = laAborted
						record(cur)
					}
					p := txn.Proto()
					cur = &laTxn{client: c, trace: []string{fmt.Sprintf("%x.%d", p.Meta.Id[:4], p.Meta.Epoch)}}
					for _, s := range steps {
						var v []byte
						var found bool
						var err error
						if s.append && s.forUpdate {
							v, found, err = txn.GetForUpdate(ctx, laKey(s.key))
						} else {
							v, found, err = txn.Get(ctx, laKey(s.key))
						}
						if err != nil {
							return err
						}
						l, err := decodeList(v, found)
						if err != nil {
							return err
						}
						cur.ops = append(cur.ops, laOp{key: s.key, read: l})
						cur.trace = append(cur.trace, fmt.Sprintf("r%d@%s", s.key, txn.ReadTimestamp()))
						if !s.append {
							continue
						}
						n := int(nextVal.Add(1))
						if err := txn.Put(ctx, laKey(s.key), encodeList(append(l, n))); err != nil {
							return err
						}
						cur.ops = append(cur.ops, laOp{append: true, key: s.key, val: n})
					}
					// Committed here rather than by DB.Txn, to note where.
					if err := txn.Commit(ctx); err != nil {
						return err
					}
					p = txn.Proto()
					cur.trace = append(cur.trace, fmt.Sprintf("commit@%s(read@%s)", tsFromProto(p.Meta.WriteTimestamp), tsFromProto(p.ReadTimestamp)))
					return nil
				})
				switch {
				case err == nil:
					cur.status = laCommitted
				case IsRetryable(err):
					cur.status = laAborted
				default:
					cur.status = laUnknown
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				record(cur)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The nemesis: leases move between the nodes while the clients run.
	moverDone := make(chan struct{})
	clientsDone := make(chan struct{})
	var moves int
	if err := tc.Stopper.RunAsyncTask("list-append-lease-mover", func(ctx context.Context) {
		defer close(moverDone)
		rng := rand.New(rand.NewPCG(seed, 1<<32))
		pace := time.NewTicker(15 * time.Millisecond)
		defer pace.Stop()
		for {
			select {
			case <-clientsDone:
				return
			case <-ctx.Done():
				return
			case <-pace.C:
			}
			id := kvserver.RangeID(2 + rng.IntN(laRanges))
			target := int32(1 + rng.IntN(3))
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
	close(clientsDone)
	<-moverDone

	// The final read: every key, in one transaction.
	final := &laTxn{client: -1}
	if err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
		final.ops = final.ops[:0]
		for k := range laKeys {
			v, found, err := txn.Get(ctx, laKey(k))
			if err != nil {
				return err
			}
			l, err := decodeList(v, found)
			if err != nil {
				return err
			}
			final.ops = append(final.ops, laOp{key: k, read: l})
		}
		return nil
	}); err != nil {
		t.Fatalf("final read: %v", err)
	}
	history = append(history, final)

	var committed, aborted, unknown, longest int
	for _, tx := range history {
		switch tx.status {
		case laCommitted:
			committed++
		case laAborted:
			aborted++
		default:
			unknown++
		}
	}
	for _, op := range final.ops {
		longest = max(longest, len(op.read))
	}
	t.Logf("%d transactions committed, %d attempts aborted, %d of unknown outcome; %d lease moves; longest list %d",
		committed, aborted, unknown, moves, longest)
	for i, err := range errs {
		if i < 3 {
			t.Logf("unknown outcome: %v", err)
		}
	}
	if err := checkListAppend(history); err != nil {
		t.Fatal(err)
	}
	if committed < 10 {
		t.Fatalf("only %d transactions committed: the check proved little", committed)
	}
}
