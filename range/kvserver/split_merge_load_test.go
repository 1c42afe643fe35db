package kvserver_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TestSplitMergeUnderLoad: 3 nodes, 10,000 keys, split into 100 ranges by
// admin splits, merged back by the merge queue, split again by the
// size-based split queue with a small maximum size, and merged back again,
// while writers and readers run through their own DistSenders. Every write
// is acknowledged, every read succeeds and finds every key, and at the end
// every key holds its last acknowledged value.
func TestSplitMergeUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of splits and merges")
	}
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const keys = 10000
	for from := 0; from < keys; from += 500 {
		var reqs []*rangepb.RequestUnion
		for i := from; i < from+500; i++ {
			reqs = append(reqs, put(userKey(i), "v0"))
		}
		if _, err := send(ctx, ds, reqs...); err != nil {
			t.Fatal(err)
		}
	}
	setQueues := func(q kvserver.QueueSettings) {
		q.Interval = 20 * time.Millisecond
		for _, n := range c.Nodes {
			n.Store.SetQueueSettings(q)
		}
	}

	// Writers own the keys ≡ w (mod 4); readers read random keys and scan
	// everything. Any error fails the test.
	var mu sync.Mutex
	acked := map[string]string{}
	// cut are the writes in flight when the writers stopped: their
	// contexts ended, so they may or may not have applied.
	cut := map[string]string{}
	var failures []error
	var writes, reads int
	fail := func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wds := kvclient.NewDistSender(c)
			for i := 0; lctx.Err() == nil; i++ {
				k, v := userKey((i*4+w)%keys), fmt.Sprintf("w%d-%d", w, i)
				if _, err := send(lctx, wds, put(k, v)); err != nil {
					if lctx.Err() == nil {
						fail(errors.Wrapf(err, "writing %s", k))
					}
					mu.Lock()
					cut[k] = v
					mu.Unlock()
					return
				}
				mu.Lock()
				acked[k] = v
				writes++
				mu.Unlock()
			}
		}()
	}
	for rd := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rds := kvclient.NewDistSender(c)
			rng := rand.New(rand.NewPCG(uint64(rd), 7))
			for i := 0; lctx.Err() == nil; i++ {
				if i%50 == 49 {
					resp, err := send(lctx, rds, scan(userKey(0), userKey(keys), 0, false))
					if err != nil {
						if lctx.Err() == nil {
							fail(errors.Wrap(err, "scanning"))
						}
						return
					}
					if n := len(resp.Responses[0].GetScan().Rows); n != keys {
						fail(errors.Newf("a scan found %d keys", n))
						return
					}
					continue
				}
				k := userKey(rng.IntN(keys))
				resp, err := send(lctx, rds, get(k))
				if err != nil {
					if lctx.Err() == nil {
						fail(errors.Wrapf(err, "reading %s", k))
					}
					return
				}
				if !resp.Responses[0].GetGet().Found {
					fail(errors.Newf("%s not found", k))
					return
				}
				mu.Lock()
				reads++
				mu.Unlock()
			}
		}()
	}
	check := func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(failures) > 0 {
			t.Fatalf("%d failures under load, the first: %v", len(failures), failures[0])
		}
	}
	waitRanges := func(what string, ok func(n int) bool) int {
		t.Helper()
		start := hlc.PhysicalNow()
		var n int
		for {
			check()
			n = len(meta2Records(t, ctx, c))
			if ok(n) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: %d ranges when the time ran out", what, n)
			}
			waitFor(20 * time.Millisecond)
		}
		t.Logf("%s: %d ranges after %s", what, n, hlc.PhysicalNow().Sub(start).Round(time.Millisecond))
		return n
	}

	// 1. Admin splits into 100 ranges.
	start := hlc.PhysicalNow()
	for i := 1; i < 100; i++ {
		for {
			_, err := ds.AdminSplit(ctx, []byte(userKey(i*100)))
			if err == nil {
				break
			}
			if ctx.Err() != nil || errors.HasType(err, (*kvserver.InvalidSplitKeyError)(nil)) {
				t.Fatalf("split at %s: %v", userKey(i*100), err)
			}
		}
	}
	t.Logf("99 admin splits in %s", hlc.PhysicalNow().Sub(start).Round(time.Millisecond))
	waitRanges("admin splits", func(n int) bool { return n == 100 })

	// 2. The merge queue merges them back (small and cold: the load
	// threshold is far above the test's load).
	cold := kvserver.QueueSettings{EnableMerges: true, RangeMinBytes: 64 << 20, RangeMaxBytes: 1 << 30, LoadSplitQPS: 1e9}
	setQueues(cold)
	waitRanges("merge queue", func(n int) bool { return n == 1 })
	setQueues(kvserver.QueueSettings{})

	// 3. The size-based split queue, with a maximum of 1/100 of the data.
	r1, err := c.Nodes[0].Store.GetReplica(1)
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := r1.StatsAndRecompute()
	if err != nil {
		t.Fatal(err)
	}
	maxBytes := (st.KeyBytes + st.ValBytes) / 100
	setQueues(kvserver.QueueSettings{EnableSplits: true, RangeMaxBytes: maxBytes, LoadSplitQPS: -1})
	waitRanges("size-based split queue", func(n int) bool { return n >= 100 })
	setQueues(kvserver.QueueSettings{})

	// 4. Merged back again.
	setQueues(cold)
	waitRanges("merge queue again", func(n int) bool { return n == 1 })
	setQueues(kvserver.QueueSettings{})

	stop()
	wg.Wait()
	check()
	var sizeSplits, merges int64
	for _, n := range c.Nodes {
		sizeSplits += n.Store.Queues().SizeSplits.Load()
		merges += n.Store.Queues().Merges.Load()
	}
	t.Logf("%d writes and %d reads acknowledged; %d size-based splits, %d merges by the queues", writes, reads, sizeSplits, merges)
	if sizeSplits < 99 || merges < 198 {
		t.Fatalf("the queues made %d splits and %d merges", sizeSplits, merges)
	}
	want := map[string]string{}
	for i := range keys {
		want[userKey(i)] = "v0"
	}
	for k, v := range acked {
		want[k] = v
	}
	for k, v := range cut {
		resp, err := send(ctx, ds, get(k))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(resp.Responses[0].GetGet().Value); got == v {
			want[k] = v // the cut write applied
		}
	}
	checkReads(t, ctx, kvclient.NewDistSender(c), want, keys)
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
	checkStats(t, c, 1)
}

// TestLoadBasedSplit: reads spread evenly over [k00200, k00400) make the
// range hotter than the load threshold; the split queue splits it at a key
// that halves the load (the median of the sampled keys: near k00300), and
// the queue's splits of the halves keep every key readable.
func TestLoadBasedSplit(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	want := map[string]string{}
	writeKeys(t, ctx, ds, want, 0, 1000, "a")
	for _, n := range c.Nodes {
		n.Store.SetQueueSettings(kvserver.QueueSettings{EnableSplits: true, LoadSplitQPS: 100, Interval: 200 * time.Millisecond})
	}
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rds := kvclient.NewDistSender(c)
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			for lctx.Err() == nil {
				_, _ = send(lctx, rds, get(userKey(200+rng.IntN(200))))
			}
		}()
	}
	succeedsSoon(t, func() error {
		for _, n := range c.Nodes {
			if n.Store.Queues().LoadSplits.Load() > 0 {
				return nil
			}
		}
		return errors.New("no load-based split yet")
	})
	for _, n := range c.Nodes {
		n.Store.SetQueueSettings(kvserver.QueueSettings{})
	}
	stop()
	wg.Wait()
	recs := meta2Records(t, ctx, c)
	first := string(recs[0].EndKey)
	if first < userKey(240) || first > userKey(360) {
		t.Fatalf("the load-based split is at %q, far from the middle of the load (%s); ranges %v", first, userKey(300), recs)
	}
	t.Logf("split at %q; %d ranges", first, len(recs))
	checkReads(t, ctx, kvclient.NewDistSender(c), want, 1000)
}
