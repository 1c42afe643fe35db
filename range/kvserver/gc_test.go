package kvserver_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TestGCQueue: 3 nodes; 50 keys written five times, 10 of them deleted
// after. Three seconds later, with a TTL of one second, the GC queue raises the range's GC
// threshold above the writes and leaves one version of each live key and
// nothing of the deleted ones, on every replica, with stats that match the
// data. A read at a time before the threshold is refused
// (BatchTimestampBeforeGCError), reads now see the last values, and a
// split's right-hand side and a merge keep the threshold.
func TestGCQueue(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	splitAt(t, ctx, ds, userKey(0))
	const keys, deleted, versions = 50, 10, 5
	var early hlc.Timestamp
	for v := range versions {
		var reqs []*rangepb.RequestUnion
		for i := range keys {
			reqs = append(reqs, put(userKey(i), fmt.Sprintf("v%d", v)))
		}
		resp, err := send(ctx, ds, reqs...)
		if err != nil {
			t.Fatal(err)
		}
		if v == 0 {
			early = hlc.Timestamp{WallTime: resp.Timestamp.GetWallTime(), Logical: resp.Timestamp.GetLogical()}
		}
	}
	// The first range (whose start key is nil) is collected too.
	for v := range versions {
		if _, err := send(ctx, ds, put("a-first", fmt.Sprintf("v%d", v))); err != nil {
			t.Fatal(err)
		}
	}
	var dels []*rangepb.RequestUnion
	for i := range deleted {
		dels = append(dels, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Delete{Delete: &rangepb.DeleteRequest{Key: []byte(userKey(i))}}})
	}
	if _, err := send(ctx, ds, dels...); err != nil {
		t.Fatal(err)
	}
	readAt := func(ts hlc.Timestamp, key string) (*rangepb.BatchResponse, error) {
		return ds.Send(ctx, &rangepb.BatchRequest{
			Header:   &rangepb.BatchHeader{Timestamp: &rangepb.Timestamp{WallTime: ts.WallTime, Logical: ts.Logical}},
			Requests: []*rangepb.RequestUnion{get(key)},
		})
	}
	if resp, err := readAt(early, userKey(20)); err != nil || string(resp.Responses[0].GetGet().Value) != "v0" {
		t.Fatalf("before GC, a read at the first write's time: %v, %v", resp, err)
	}
	desc, err := ds.RangeFor(ctx, []byte(userKey(0)))
	if err != nil {
		t.Fatal(err)
	}
	id := kvserver.RangeID(desc.RangeId)
	if n := countVersions(t, c.Nodes[0].Store.Engine(), userKey(0), userKey(keys)); n != keys*versions+deleted {
		t.Fatalf("%d versions before GC", n)
	}

	// The versions age past the TTL.
	c.Manual.Increment(int64(3 * time.Second))
	for _, n := range c.Nodes {
		n.Store.SetQueueSettings(kvserver.QueueSettings{
			EnableGC: true, GCTTL: time.Second, GCMinBytes: 1, Interval: 20 * time.Millisecond,
		})
	}
	want := (keys - deleted) * 1
	succeedsSoon(t, func() error {
		for i, n := range c.Nodes {
			if got := countVersions(t, n.Store.Engine(), userKey(0), userKey(keys)); got != want {
				return errors.Newf("node %d holds %d versions, want %d (GC queue: %+v)", i+1, got, want, n.Store.GCStats())
			}
			if got := countVersions(t, n.Store.Engine(), "a-first", "a-firsu"); got != 1 {
				return errors.Newf("node %d holds %d versions of a key in the first range, want 1", i+1, got)
			}
		}
		return nil
	})
	for _, n := range c.Nodes {
		n.Store.SetQueueSettings(kvserver.QueueSettings{})
	}
	var threshold hlc.Timestamp
	for i, n := range c.Nodes {
		r, err := n.Store.GetReplica(id)
		if err != nil {
			t.Fatal(err)
		}
		th := r.GCThreshold()
		if th.LessEq(early) {
			t.Fatalf("node %d: GC threshold %s not above the first write (%s)", i+1, th, early)
		}
		threshold.Forward(th)
		got, recomputed, err := r.StatsAndRecompute()
		if err != nil {
			t.Fatal(err)
		}
		if got != recomputed {
			t.Fatalf("node %d: stats after GC\n%+v\nrecomputed\n%+v", i+1, got, recomputed)
		}
	}
	if err := c.CheckConsistency(ctx, id); err != nil {
		t.Fatal(err)
	}

	var bgc *kv.BatchTimestampBeforeGCError
	if _, err := readAt(early, userKey(20)); !errors.As(err, &bgc) || bgc.Timestamp != early {
		t.Fatalf("a read below the GC threshold: %v, want a BatchTimestampBeforeGCError at %s", err, early)
	}
	rows := scanAll(t, ctx, ds, userKey(0), userKey(keys))
	if len(rows) != keys-deleted {
		t.Fatalf("a scan now finds %d keys, want %d", len(rows), keys-deleted)
	}
	for _, row := range rows {
		if string(row.Value) != fmt.Sprintf("v%d", versions-1) {
			t.Fatalf("%s = %q after GC", row.Key, row.Value)
		}
	}

	// The right-hand side of a split starts with the left's threshold; a
	// merge keeps it.
	res := splitAt(t, ctx, ds, userKey(30))
	rightID := kvserver.RangeID(res.Right.GetRangeId())
	for i, n := range c.Nodes {
		succeedsSoon(t, func() error {
			r, err := n.Store.GetReplica(rightID)
			if err != nil {
				return err
			}
			if th := r.GCThreshold(); th != threshold {
				return errors.Newf("node %d: the right-hand side's GC threshold is %s, want %s", i+1, th, threshold)
			}
			return nil
		})
	}
	if _, err := readAt(early, userKey(40)); !errors.As(err, &bgc) {
		t.Fatalf("a read below the GC threshold on the right-hand side: %v", err)
	}
	if _, err := ds.AdminMerge(ctx, []byte(userKey(0))); err != nil {
		t.Fatal(err)
	}
	if _, err := readAt(early, userKey(40)); !errors.As(err, &bgc) {
		t.Fatalf("a read below the GC threshold after the merge: %v", err)
	}
}

// TestGCUnderLoad: the GC queue collects with a TTL of 100 ms while
// writers overwrite 40 keys as fast as they can and readers read single
// keys and scan them all, in the present, for two seconds (the cluster's
// clock follows real time). No read returns less than the last value
// acknowledged before it began, a scan always finds every key, the GC
// removed versions all along, and at the end each replica's stats match
// its data and the replicas agree.
func TestGCUnderLoad(t *testing.T) {
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	splitAt(t, ctx, ds, userKey(0))
	const keys, writers = 40, 4
	var reqs []*rangepb.RequestUnion
	for i := range keys {
		reqs = append(reqs, put(userKey(i), "0"))
	}
	if _, err := send(ctx, ds, reqs...); err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	c.FollowRealTime()
	for _, n := range c.Nodes {
		n.Store.SetQueueSettings(kvserver.QueueSettings{
			EnableGC: true, GCTTL: 100 * time.Millisecond, GCMinBytes: 1, Interval: 10 * time.Millisecond,
		})
	}

	// acked[i] is the last value acknowledged for key i (writer i%writers
	// owns it; values count up).
	var mu sync.Mutex
	acked := make([]int, keys)
	var failures []error
	fail := func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
		stop()
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := 1; lctx.Err() == nil; v++ {
				for i := w; i < keys && lctx.Err() == nil; i += writers {
					if _, err := send(lctx, ds, put(userKey(i), strconv.Itoa(v))); err != nil {
						if lctx.Err() == nil {
							fail(errors.Wrapf(err, "writing %s", userKey(i)))
						}
						return
					}
					mu.Lock()
					acked[i] = v
					mu.Unlock()
				}
			}
		}()
	}
	for rd := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(rd), 11))
			for n := 0; lctx.Err() == nil; n++ {
				mu.Lock()
				floor := append([]int(nil), acked...)
				mu.Unlock()
				var rows []*rangepb.KeyValue
				if n%10 == 9 {
					resp, err := send(lctx, ds, scan(userKey(0), userKey(keys), 0, false))
					if err != nil {
						if lctx.Err() == nil {
							fail(errors.Wrap(err, "scanning"))
						}
						return
					}
					if rows = resp.Responses[0].GetScan().Rows; len(rows) != keys {
						fail(errors.Newf("a scan found %d keys of %d", len(rows), keys))
						return
					}
				} else {
					k := rng.IntN(keys)
					resp, err := send(lctx, ds, get(userKey(k)))
					if err != nil {
						if lctx.Err() == nil {
							fail(errors.Wrapf(err, "reading %s", userKey(k)))
						}
						return
					}
					g := resp.Responses[0].GetGet()
					if !g.Found {
						fail(errors.Newf("%s not found", userKey(k)))
						return
					}
					rows = []*rangepb.KeyValue{{Key: []byte(userKey(k)), Value: g.Value}}
				}
				for _, row := range rows {
					var i int
					_, _ = fmt.Sscanf(string(row.Key), "k%05d", &i)
					if v, _ := strconv.Atoi(string(row.Value)); v < floor[i] {
						fail(errors.Newf("%s read %d, below %d acknowledged before the read", row.Key, v, floor[i]))
						return
					}
				}
			}
		}()
	}
	deadline := time.NewTimer(2 * time.Second)
	select {
	case <-deadline.C:
	case <-lctx.Done():
	}
	stop()
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}
	var removed int64
	for _, n := range c.Nodes {
		n.Store.SetQueueSettings(kvserver.QueueSettings{})
		removed += n.Store.GCStats().VersionsRemoved
	}
	writes := 0
	for _, v := range acked {
		writes += v
	}
	t.Logf("%d writes acknowledged, %d versions removed", writes, removed)
	if removed == 0 {
		t.Fatal("the GC queue removed nothing")
	}
	desc, err := ds.RangeFor(ctx, []byte(userKey(0)))
	if err != nil {
		t.Fatal(err)
	}
	id := kvserver.RangeID(desc.RangeId)
	for i, n := range c.Nodes {
		r, err := n.Store.GetReplica(id)
		if err != nil {
			t.Fatal(err)
		}
		succeedsSoon(t, func() error {
			got, recomputed, err := r.StatsAndRecompute()
			if err == nil && got != recomputed {
				err = errors.Newf("node %d: stats\n%+v\nrecomputed\n%+v", i+1, got, recomputed)
			}
			return err
		})
	}
	if err := c.CheckConsistency(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// lossySender passes requests to inner, but while lose is set it fails
// every intent resolution of a key on range 3 (kvtest.RangeKey(3, ...)).
type lossySender struct {
	inner kvserver.KeySender
	lose  atomic.Bool
	lost  atomic.Int64
}

func (l *lossySender) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if l.lose.Load() {
		for _, ru := range ba.Requests {
			key, _, _ := kvserver.RequestSpan(ru)
			if ru.GetResolveIntent() != nil || ru.GetResolveIntentRange() != nil {
				if bytes.HasPrefix(key, kvtest.RangeKey(3, "")) {
					l.lost.Add(1)
					return nil, errors.New("resolution lost")
				}
			}
		}
	}
	return l.inner.Send(ctx, ba)
}

// countVersions counts the versions of the user keys in [start, end) in
// eng (intents included).
func countVersions(t *testing.T, eng kv.Engine, start, end string) int {
	t.Helper()
	it, err := eng.NewIterator(kv.IterOptions{LowerBound: []byte(start), UpperBound: []byte(end)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.SeekGE(kv.MVCCKey{Key: []byte(start)}); ; it.Next() {
		ok, err := it.Valid()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n
		}
		if it.UnsafeKey().IsValue() {
			n++
		}
	}
}

// TestGCTxnRecords: the GC queue removes the records of finished
// transactions and of abandoned ones, each finished as a pusher would
// finish it: a committed transaction (its remote intent resolved), one
// whose remote intent's resolution after the commit was lost (resolved
// as committed by the queue: a pusher finding no record would abort it), a
// rolled back one, an abandoned PENDING one (aborted: its intents go), an
// abandoned STAGING one whose writes all landed (recovered: committed)
// and one whose remote write never landed (recovered: aborted). No intent
// is left, every value is as the outcome says, and the abandoned
// transaction's coordinator, come back, can neither heartbeat nor commit
// (its record must not come back PENDING), while a new transaction can.
func TestGCTxnRecords(t *testing.T) {
	// The stores' sender for pushes and resolutions loses, while lose is
	// set, every resolution of a key on range 3: a commit's intent left
	// there as if its node had crashed before resolving it.
	lossy := &lossySender{}
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 1, StoreConfig: kvserver.StoreConfig{TxnSender: lossy}}, 2)
	lossy.inner = c.KeySender()
	ctx := testCtx(t)
	s := c.KeySender()
	local := func(name string) []byte { return kvtest.RangeKey(2, name) }
	remote := func(name string) []byte { return kvtest.RangeKey(3, name) }
	both := func(name string) []*rangepb.Span { return []*rangepb.Span{{Key: local(name)}, {Key: remote(name)}} }
	// Leases first: a lease starts above the writes' timestamps otherwise.
	for _, k := range [][]byte{local("warm"), remote("warm")} {
		if _, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{getReq(string(k))}}); err != nil {
			t.Fatal(err)
		}
	}
	txns := map[string]*rangepb.Transaction{}
	begin := func(id byte, name string) *rangepb.Transaction {
		t.Helper()
		txn := txnProto(id, local(name), 0, 1, c.Nodes[0].Clock.Now())
		txns[name] = txn
		if _, err := sendTxn(ctx, s, txn, heartbeatReq(local(name)), seqPut(string(local(name)), "1", 1)); err != nil {
			t.Fatal(err)
		}
		return txn
	}
	must := func(_ *rangepb.BatchResponse, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	committed := begin(10, "committed")
	must(sendTxn(ctx, s, committed, seqPut(string(remote("committed")), "2", 2)))
	must(sendTxn(ctx, s, committed, endTxnReq(local("committed"), true, both("committed")...)))
	lossy.lose.Store(true)
	lost := begin(16, "lost")
	must(sendTxn(ctx, s, lost, seqPut(string(remote("lost")), "2", 2)))
	must(sendTxn(ctx, s, lost, endTxnReq(local("lost"), true, both("lost")...)))
	succeedsSoon(t, func() error {
		if lossy.lost.Load() == 0 {
			return errors.New("the commit's remote intent is not resolved yet")
		}
		return nil
	})
	lossy.lose.Store(false)
	rolledBack := begin(11, "rolledback")
	must(sendTxn(ctx, s, rolledBack, endTxnReq(local("rolledback"), false, both("rolledback")...)))
	abandoned := begin(12, "abandoned")
	must(sendTxn(ctx, s, abandoned, seqPut(string(remote("abandoned")), "2", 2)))
	landed := begin(13, "landed")
	must(sendTxn(ctx, s, landed, seqPut(string(remote("landed")), "2", 2)))
	must(sendTxn(ctx, s, landed, stagingEndTxn(local("landed"), both("landed"),
		&rangepb.SequencedWrite{Key: local("landed"), Sequence: 1}, &rangepb.SequencedWrite{Key: remote("landed"), Sequence: 2})))
	missing := begin(14, "missing")
	must(sendTxn(ctx, s, missing, stagingEndTxn(local("missing"), both("missing"),
		&rangepb.SequencedWrite{Key: local("missing"), Sequence: 1}, &rangepb.SequencedWrite{Key: remote("missing"), Sequence: 2})))

	eng := c.Nodes[0].Store.Engine()
	records := func() []string {
		t.Helper()
		var left []string
		for name, txn := range txns {
			v, err := kv.MVCCGetUnversioned(eng, kvserver.TxnRecordKey(txn.Meta.Key, kv.TxnID(txn.Meta.Id)))
			if err != nil {
				t.Fatal(err)
			}
			if v != nil {
				left = append(left, name)
			}
		}
		return left
	}
	if left := records(); len(left) != 6 {
		t.Fatalf("records before GC: %q", left)
	}
	// Past the TTL and the transactions' liveness threshold.
	c.Manual.Increment(int64(10 * time.Second))
	c.Nodes[0].Store.SetQueueSettings(kvserver.QueueSettings{
		EnableGC: true, GCTTL: time.Second, GCMinBytes: 1, Interval: 20 * time.Millisecond,
	})
	succeedsSoon(t, func() error {
		// Time passes: a range is looked at again a tenth of a TTL later.
		c.Manual.Increment(int64(50 * time.Millisecond))
		if left := records(); len(left) > 0 {
			return errors.Newf("records left: %q (GC queue: %+v)", left, c.Nodes[0].Store.GCStats())
		}
		if n := c.LockRecords(t); n != 0 {
			return errors.Newf("%d intents left", n)
		}
		return nil
	})
	c.Nodes[0].Store.SetQueueSettings(kvserver.QueueSettings{})
	for name, want := range map[string][2]string{
		"committed": {"1", "2"}, "lost": {"1", "2"}, "rolledback": {"", ""}, "abandoned": {"", ""}, "landed": {"1", "2"}, "missing": {"", ""},
	} {
		for i, key := range [][]byte{local(name), remote(name)} {
			br, err := s.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{getReq(string(key))}})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(br.Responses[0].GetGet().Value); got != want[i] {
				t.Errorf("%s: %q, want %q", key, got, want[i])
			}
		}
	}
	var aborted *kvserver.TransactionAbortedError
	if _, err := sendTxn(ctx, s, abandoned, heartbeatReq(local("abandoned"))); !errors.As(err, &aborted) {
		t.Fatalf("the abandoned transaction's heartbeat after GC: %v", err)
	}
	if _, err := sendTxn(ctx, s, abandoned, endTxnReq(local("abandoned"), true, both("abandoned")...)); !errors.As(err, &aborted) {
		t.Fatalf("the abandoned transaction's commit after GC: %v", err)
	}
	fresh := begin(15, "fresh")
	must(sendTxn(ctx, s, fresh, endTxnReq(local("fresh"), true, &rangepb.Span{Key: local("fresh")})))
}
