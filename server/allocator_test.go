package server

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/sql"
	txnpkg "github.com/meridiandb/meridian/txn"
)

// TestZoneConstraints: on five nodes in regions a, b, c (three of them in
// b, zones b1-b3), a table constrained to +region=b ends with every
// replica of its ranges in b and the lease where lease_preferences says
// (zone b2, then, after the preference changes, b3), while the rest of
// the data stays spread over the regions; the table reads the same.
func TestZoneConstraints(t *testing.T) {
	localities := []string{"region=a,zone=a1", "region=b,zone=b1", "region=c,zone=c1", "region=b,zone=b2", "region=b,zone=b3"}
	c := newTestClusterPerNode(t, 5, true, func(i int, cfg *Config) {
		loc, err := ParseLocality(localities[i])
		if err != nil {
			t.Fatal(err)
		}
		cfg.Locality = loc
	})
	db := sqlConnect(t, c.node(0))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)")
	exec("INSERT INTO kv SELECT i, 'v' || i::text FROM generate_series(1, 100) AS g(i)")
	exec("ALTER TABLE kv SPLIT AT VALUES (50)")
	exec("ALTER TABLE kv CONFIGURE ZONE USING constraints = '[+region=b]', lease_preferences = '[[+region=b, +zone=b2]]'")

	// placed waits until every range of the table has three voters in b
	// and its lease in zone leaseZone.
	placed := func(leaseZone string) {
		t.Helper()
		waitFor(t, 2*time.Minute, func() error {
			rows, err := db.Query(ctx, "SHOW RANGES FROM TABLE kv")
			if err != nil {
				return err
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var start, end string
				var id int64
				var replicas, voters []int64
				var locs []string
				var lh *int64
				var lhLoc *string
				if err := rows.Scan(&start, &end, &id, &replicas, &locs, &voters, &lh, &lhLoc); err != nil {
					return err
				}
				n++
				// SHOW RANGES prints the table's end key as <after:/Table/N>.
				if strings.HasPrefix(start, "<before") || strings.HasPrefix(end, "<after") && strings.Count(end, "/") != 2 {
					return errors.Newf("r%d [%s, %s) is not split at the table's bounds yet", id, start, end)
				}
				if len(replicas) != 3 || len(voters) != 3 {
					return errors.Newf("r%d has replicas %v, voters %v", id, replicas, voters)
				}
				for _, l := range locs {
					if !strings.Contains(l, "region=b") {
						return errors.Newf("r%d has a replica in %s (all: %v)", id, l, locs)
					}
				}
				if lhLoc == nil || !strings.Contains(*lhLoc, "zone="+leaseZone) {
					return errors.Newf("r%d's lease is in %v, want zone %s", id, lhLoc, leaseZone)
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if n < 2 {
				return errors.Newf("the table has %d ranges", n)
			}
			return nil
		})
	}
	placed("b2")
	exec("ALTER TABLE kv CONFIGURE ZONE USING lease_preferences = '[[+zone=b3], [+zone=b2]]'")
	placed("b3")

	// The ranges outside the table keep their replicas across regions.
	ranges, err := sqlAdmin{c.node(0)}.Ranges(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spread := 0
	for _, r := range ranges {
		regions := map[string]bool{}
		for _, l := range r.Localities {
			regions[strings.Split(l, ",")[0]] = true
		}
		if len(regions) == 3 {
			spread++
		}
	}
	if spread == 0 {
		t.Errorf("no range has replicas in all three regions")
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM kv WHERE v = 'v' || k::text").Scan(&n); err != nil || n != 100 {
		for i := range 2 {
			kctx, kcancel := context.WithTimeout(ctx, 5*time.Second)
			var got int
			kerr := c.node(i).DB().Txn(kctx, func(ctx context.Context, txn *txnpkg.Txn) error {
				kvs, err := txn.Scan(ctx, []byte{0xec}, []byte{0xed}, 0)
				got = len(kvs)
				return err
			})
			kcancel()
			t.Logf("KV scan of the table on n%d: %d, %v", i+1, got, kerr)
		}
		t.Fatalf("the table reads %d rows, %v", n, err)
	}
}

// TestRebalanceOnNewNodes: nodes 4 and 5 join a three-node cluster that
// holds 100 ranges; the replicate queues move replicas and leases until
// every store's replica count and leaseholder count is within ±10% of
// the mean, without a range dropping below three voters.
func TestRebalanceOnNewNodes(t *testing.T) {
	c := newTestClusterWith(t, 3, false, func(cfg *Config) { cfg.DisableRebalancing = false })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i := range 100 - 3 {
		if _, err := c.node(0).dist.AdminSplit(ctx, []byte(fmt.Sprintf("rebalance/%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	c.waitReplicated(3)
	c.addNode()
	c.addNode()
	start := hlc.PhysicalNow()
	waitFor(t, 3*time.Minute, func() error {
		newest := map[kvserver.RangeID]*rangepb.RangeDescriptor{}
		leases := map[int32]int{}
		for i := range 5 {
			n := c.node(i)
			for _, r := range n.Store().Replicas() {
				if d := r.Desc(); d != nil {
					if cur, ok := newest[r.RangeID()]; !ok || d.Generation > cur.Generation {
						newest[r.RangeID()] = d
					}
				}
				if r.OwnsValidLease() {
					leases[int32(n.ID())]++
				}
			}
		}
		if len(newest) < 100 {
			return errors.Newf("%d ranges", len(newest))
		}
		replicas := map[int32]int{}
		for id, d := range newest {
			voters := 0
			for _, rd := range d.Replicas {
				replicas[rd.NodeId]++
				if rd.Type == rangepb.ReplicaType_VOTER_FULL {
					voters++
				}
			}
			if voters < 3 {
				t.Fatalf("r%d is down to %d voters: %v", id, voters, d.Replicas)
			}
		}
		return withinMean(replicas, leases)
	})
	t.Logf("balanced %s after nodes 4 and 5 joined", hlc.PhysicalNow().Sub(start))
}

// withinMean checks that the five stores' counts are within ±10% of the
// mean.
func withinMean(replicas, leases map[int32]int) error {
	for what, counts := range map[string]map[int32]int{"replica": replicas, "lease": leases} {
		sum := 0
		for _, n := range counts {
			sum += n
		}
		mean := float64(sum) / 5
		for node := int32(1); node <= 5; node++ {
			if math.Abs(float64(counts[node])-mean) > 0.1*mean {
				return errors.Newf("%s counts %v: n%d is more than 10%% off the mean %.1f", what, counts, node, mean)
			}
		}
	}
	return nil
}

// TestZoneRangeSizes: a table's zone sets its ranges' size bounds: with
// range_max_bytes = 64 KiB the split queue splits its 250 KB into
// several ranges; with the zone discarded (back to RANGE default's
// 512 MiB / 128 MiB) the merge queue merges them again; the rows read the
// same throughout.
func TestZoneRangeSizes(t *testing.T) {
	c := newTestClusterWith(t, 3, true, func(cfg *Config) {
		cfg.Store.Queues = &kvserver.QueueSettings{EnableSplits: true, EnableMerges: true, LoadSplitQPS: -1, Interval: 100 * time.Millisecond}
	})
	db := sqlConnect(t, c.node(0))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)")
	exec("INSERT INTO kv SELECT i, repeat('x', 100) FROM generate_series(1, 2000) AS g(i)")
	ranges := func() int {
		rows, err := db.Query(ctx, "SHOW RANGES FROM TABLE kv")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return n
	}
	start := hlc.PhysicalNow()
	exec("ALTER TABLE kv CONFIGURE ZONE USING range_max_bytes = 65536, range_min_bytes = 1024")
	waitFor(t, 2*time.Minute, func() error {
		if n := ranges(); n < 4 {
			return errors.Newf("the table has %d ranges", n)
		}
		return nil
	})
	t.Logf("split into %d ranges after %s", ranges(), hlc.PhysicalNow().Sub(start))
	start = hlc.PhysicalNow()
	exec("ALTER TABLE kv CONFIGURE ZONE DISCARD")
	waitFor(t, 2*time.Minute, func() error {
		if n := ranges(); n != 1 {
			return errors.Newf("the table has %d ranges", n)
		}
		return nil
	})
	t.Logf("merged after %s", hlc.PhysicalNow().Sub(start))
	var n int
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if err := db.QueryRow(rctx, "SELECT count(*) FROM kv WHERE v = repeat('x', 100)").Scan(&n); err != nil || n != 2000 {
		all, _ := sqlAdmin{c.node(0)}.Ranges(ctx, nil, nil)
		for _, r := range all {
			t.Logf("r%d [%x, %x) replicas %v lh %d", r.RangeID, r.StartKey, r.EndKey, r.Replicas, r.Leaseholder)
		}
		for i := range 3 {
			for _, r := range c.node(i).Store().Replicas() {
				d := r.Desc()
				t.Logf("n%d r%d gen %d [%x, %x) lease %v", i+1, r.RangeID(), d.GetGeneration(), d.GetStartKey(), d.GetEndKey(), r.OwnsValidLease())
			}
		}
		for i := range 2 {
			kctx, kcancel := context.WithTimeout(ctx, 5*time.Second)
			var got int
			kerr := c.node(i).DB().Txn(kctx, func(ctx context.Context, txn *txnpkg.Txn) error {
				kvs, err := txn.Scan(ctx, []byte{0xec}, []byte{0xed}, 0)
				got = len(kvs)
				return err
			})
			kcancel()
			t.Logf("KV scan of the table on n%d: %d, %v", i+1, got, kerr)
		}
		t.Fatalf("the table reads %d rows, %v", n, err)
	}
}

// TestClusterSettingsApply: SET CLUSTER SETTING through one node reaches
// every node's queues and failure detection; DEFAULT gives the node's own
// configuration back.
func TestClusterSettingsApply(t *testing.T) {
	c := newTestCluster(t, 3, true)
	db := sqlConnect(t, c.node(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("SET CLUSTER SETTING kv.range_merge.queue.enabled = true")
	exec("SET CLUSTER SETTING kv.range_split.by_load_enabled = true")
	exec("SET CLUSTER SETTING kv.range_split.load_qps_threshold = 700")
	exec("SET CLUSTER SETTING kv.allocator.rebalancing.enabled = true")
	exec("SET CLUSTER SETTING server.time_until_store_dead = '3m'")
	applied := func(merges bool, qps float64, rebalance bool, dead time.Duration) {
		t.Helper()
		waitFor(t, 30*time.Second, func() error {
			for i := range 3 {
				n := c.node(i)
				q := n.Store().QueueSettings()
				if q.EnableMerges != merges || q.LoadSplitQPS != qps || n.rebalancing.Load() != rebalance || time.Duration(n.timeUntilStoreDead.Load()) != dead {
					return errors.Newf("n%d: merges %v, load split QPS %v, rebalancing %v, store dead after %s", i+1,
						q.EnableMerges, q.LoadSplitQPS, n.rebalancing.Load(), time.Duration(n.timeUntilStoreDead.Load()))
				}
			}
			return nil
		})
	}
	applied(true, 700, true, 3*time.Minute)
	for _, s := range []string{"kv.range_merge.queue.enabled", "kv.range_split.by_load_enabled", "kv.range_split.load_qps_threshold",
		"kv.allocator.rebalancing.enabled", "server.time_until_store_dead"} {
		exec("SET CLUSTER SETTING " + s + " = DEFAULT")
	}
	applied(false, -1, false, 5*time.Minute)
}

// TestRebalanceLeasesByLoad: three nodes, every range on all three; three
// ranges are read as fast as four clients can while their leases, and no
// other, sit on node 1 (put there with rebalancing off). Once rebalancing
// is on, the allocator moves hot leases off node 1 until each node serves
// one, although by lease counts node 1 should take leases, not give them
// (checked: with load-based balancing off the hot leases stay).
func TestRebalanceLeasesByLoad(t *testing.T) {
	c := newTestClusterWith(t, 3, true, func(cfg *Config) {
		cfg.DisableRebalancing = false
		// The load is measured once per queue interval.
		cfg.Store.Queues = &kvserver.QueueSettings{EnableSplits: true, LoadSplitQPS: -1, Interval: 200 * time.Millisecond}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := sqlConnect(t, c.node(0))
	setRebalancing := func(on bool) {
		t.Helper()
		if _, err := db.Exec(ctx, fmt.Sprintf("SET CLUSTER SETTING kv.allocator.rebalancing.enabled = %v", on)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, func() error {
			for i := range 3 {
				if c.node(i).rebalancing.Load() != on {
					return errors.Newf("node %d: rebalancing is not %v yet", i+1, on)
				}
			}
			return nil
		})
	}
	setRebalancing(false)
	hot := [][]byte{{0xfe, 'h', 'a'}, {0xfe, 'h', 'b'}, {0xfe, 'h', 'c'}}
	splits := append([][]byte{}, hot...)
	for i := range 8 {
		splits = append(splits, []byte{0xfe, 'h', 'd' + byte(i)})
	}
	for _, k := range splits {
		if _, err := c.node(0).dist.AdminSplit(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	c.waitReplicated(3)
	n1 := c.node(0)
	ids := make([]kvserver.RangeID, len(hot))
	for i, k := range hot {
		d, err := n1.dist.RangeFor(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = kvserver.RangeID(d.RangeId)
		var target *rangepb.ReplicaDescriptor
		for _, rd := range d.Replicas {
			if kvserver.NodeID(rd.NodeId) == n1.ID() {
				target = rd
			}
		}
		waitFor(t, 30*time.Second, func() error {
			r, err := n1.Store().GetReplica(ids[i])
			if err == nil && r.OwnsValidLease() {
				return nil
			}
			_, err = n1.ranges.Send(ctx, ids[i], &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
				TransferLease: &rangepb.TransferLeaseRequest{Target: target}}})
			return errors.Newf("r%d's lease is not on node 1 yet (%v)", ids[i], err)
		})
	}

	// Every other lease leaves node 1: by lease counts, node 1 should
	// take leases, not give them.
	isHot := map[kvserver.RangeID]bool{ids[0]: true, ids[1]: true, ids[2]: true}
	waitFor(t, 30*time.Second, func() error {
		var left []kvserver.RangeID
		for k, r := range n1.Store().Replicas() {
			if id := r.RangeID(); !isHot[id] && r.OwnsValidLease() {
				left = append(left, id)
				for _, rd := range r.Desc().Replicas {
					if kvserver.NodeID(rd.NodeId) == c.node(1+k%2).ID() {
						_, _ = n1.ranges.Send(ctx, id, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
							TransferLease: &rangepb.TransferLeaseRequest{Target: rd}}})
					}
				}
			}
		}
		if len(left) > 0 {
			return errors.Newf("node 1 still holds the leases of %v", left)
		}
		return nil
	})
	leases := func(i int) int64 { return c.node(i).storeCapacity().LeaseCount }
	if l1, l2, l3 := leases(0), leases(1), leases(2); l1 != 3 || 3*l1 >= l1+l2+l3 {
		t.Fatalf("leases %d/%d/%d, want node 1 to hold the 3 hot ones only, below the mean", l1, l2, l3)
	}

	lctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{}, 4)
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			ds := c.node(w % 3).dist
			for i := 0; lctx.Err() == nil; i++ {
				_, _ = ds.Send(lctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Get{
					Get: &rangepb.GetRequest{Key: hot[i%len(hot)]}}}}})
			}
		}()
	}
	waitFor(t, 30*time.Second, func() error {
		if q := n1.storeCapacity().Qps; q < 3*minLoadForBalancing {
			return errors.Newf("node 1 serves %.0f requests/s", q)
		}
		return nil
	})
	setRebalancing(true)
	waitFor(t, time.Minute, func() error {
		holders := map[kvserver.NodeID]bool{}
		for _, id := range ids {
			for i := range 3 {
				if r, err := c.node(i).Store().GetReplica(id); err == nil && r.OwnsValidLease() {
					holders[c.node(i).ID()] = true
				}
			}
		}
		if len(holders) != 3 {
			var qps []string
			for i := range 3 {
				qps = append(qps, fmt.Sprintf("%.0f", c.node(i).storeCapacity().Qps))
			}
			return errors.Newf("the hot leases are on %d nodes (loads %s)", len(holders), strings.Join(qps, "/"))
		}
		return nil
	})
	stop()
	for range 4 {
		<-done
	}
}

// TestRebalanceReplicasByLoad: four nodes; four ranges read as fast as
// four clients can have their replicas on nodes 1-3 only, while node 4
// holds as many replicas (of cold ranges) as each of the others, so
// replica counts alone move nothing, and leases alone can at best serve
// the hot ranges two, one and one from nodes 1-3. With load-based replica
// rebalancing off that is where it stays: node 4 takes no hot replica and
// the loads stay out of the band; once it is on, a hot range's replica
// moves to node 4 and its lease follows, until each node serves one hot
// range and every store's load is within 10% of the mean.
func TestRebalanceReplicasByLoad(t *testing.T) {
	c := newTestClusterWith(t, 3, true, func(cfg *Config) {
		cfg.DisableRebalancing = false
		// The load is measured once per queue interval.
		cfg.Store.Queues = &kvserver.QueueSettings{EnableSplits: true, LoadSplitQPS: -1, Interval: 200 * time.Millisecond}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := sqlConnect(t, c.node(0))
	nodes := 3
	// set sets a cluster setting and waits until every node applies it.
	set := func(name string, on bool, applied func(*Node) bool) {
		t.Helper()
		if _, err := db.Exec(ctx, fmt.Sprintf("SET CLUSTER SETTING %s = %v", name, on)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, func() error {
			for i := range nodes {
				if applied(c.node(i)) != on {
					return errors.Newf("n%d: %s is not %v yet", i+1, name, on)
				}
			}
			return nil
		})
	}
	setRebalancing := func(on bool) {
		set("kv.allocator.rebalancing.enabled", on, func(n *Node) bool { return n.rebalancing.Load() })
	}
	setReplicasByLoad := func(on bool) {
		set("kv.allocator.load_based_replica_rebalancing.enabled", on, func(n *Node) bool { return n.loadBasedReplicas.Load() })
	}
	var shown bool
	if err := db.QueryRow(ctx, "SHOW CLUSTER SETTING kv.allocator.load_based_replica_rebalancing.enabled").Scan(&shown); err != nil || !shown {
		t.Fatalf("SHOW CLUSTER SETTING kv.allocator.load_based_replica_rebalancing.enabled: %v, %v", shown, err)
	}
	setRebalancing(false)
	setReplicasByLoad(false)

	hot := [][]byte{{0xfe, 'h', 'a'}, {0xfe, 'h', 'b'}, {0xfe, 'h', 'c'}, {0xfe, 'h', 'd'}}
	admin := sqlAdmin{c.node(0)}
	ranges := func() []sql.RangeInfo {
		t.Helper()
		rs, err := admin.Ranges(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	split := func(k []byte) {
		t.Helper()
		if _, err := c.node(0).dist.AdminSplit(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range hot {
		split(k)
	}
	split([]byte{0xfe, 'h', 'e'})
	// Enough cold ranges for node 4 to hold a quarter of the replicas
	// with none of the hot ones, and a multiple of four ranges in all so
	// that the counts can be even.
	for i := 0; i < 16 || len(ranges())%4 != 0; i++ {
		split([]byte(fmt.Sprintf("\xfec%03d", i)))
	}
	c.waitReplicated(3)
	c.addNode()
	nodes = 4
	n4 := c.node(3)
	waitFor(t, 30*time.Second, func() error {
		if n4.rebalancing.Load() || n4.loadBasedReplicas.Load() {
			return errors.New("node 4 has not read the cluster settings yet")
		}
		return nil
	})
	isHot := func(r sql.RangeInfo) bool {
		for _, k := range hot {
			if bytes.Equal(r.StartKey, k) {
				return true
			}
		}
		return false
	}
	// Node 4 takes a quarter of the replicas, as many from each of the
	// others.
	all := ranges()
	per := len(all) * 3 / 4
	moved := 0
	for _, r := range all {
		if moved == per {
			break
		}
		if isHot(r) {
			continue
		}
		if len(r.Voters) != 3 {
			t.Fatalf("r%d has voters %v", r.RangeID, r.Voters)
		}
		if err := admin.RelocateVoter(ctx, r.RangeID, int32(1+moved%3), 4); err != nil {
			t.Fatal(err)
		}
		moved++
	}
	// counts is the replicas per node, by the ranges' descriptors; hotOn
	// the nodes holding a hot range's replica, and its leaseholder.
	counts := func() (replicas map[int32]int, hotOn map[int32]bool, holders map[int32]int) {
		replicas, hotOn, holders = map[int32]int{}, map[int32]bool{}, map[int32]int{}
		for _, r := range ranges() {
			for _, v := range r.Replicas {
				replicas[v]++
				if isHot(r) {
					hotOn[v] = true
				}
			}
			if isHot(r) {
				holders[r.Leaseholder]++
			}
		}
		return replicas, hotOn, holders
	}
	waitFor(t, 30*time.Second, func() error {
		replicas, hotOn, _ := counts()
		for n := int32(1); n <= 4; n++ {
			// The descriptors' counts and those the allocators go by (the
			// replicas the stores hold: removed ones may linger a moment).
			if held := c.node(int(n - 1)).storeCapacity().ReplicaCount; replicas[n] != per || held != int64(per) {
				return errors.Newf("replica counts %v, n%d holds %d, want %d each", replicas, n, held, per)
			}
		}
		if hotOn[4] {
			return errors.New("node 4 has a hot replica")
		}
		return nil
	})
	// The hot leases start on node 1.
	waitFor(t, 30*time.Second, func() error {
		for _, r := range ranges() {
			if isHot(r) && r.Leaseholder != 1 {
				err := admin.TransferLease(ctx, r.RangeID, 1)
				return errors.Newf("r%d's lease is on n%d (%v)", r.RangeID, r.Leaseholder, err)
			}
		}
		return nil
	})

	lctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{}, 4)
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			ds := c.node(w).dist
			for i := 0; lctx.Err() == nil; i++ {
				_, _ = ds.Send(lctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Get{
					Get: &rangepb.GetRequest{Key: hot[i%len(hot)]}}}}})
			}
		}()
	}
	defer func() {
		stop()
		for range 4 {
			<-done
		}
	}()
	// loads is every store's load, its mean, and whether each is within
	// the band.
	loads := func() (l string, qps []float64, mean float64, ok bool) {
		for i := range 4 {
			q := c.node(i).storeCapacity().Qps
			qps, mean = append(qps, q), mean+q/4
		}
		ok = true
		var s []string
		for _, q := range qps {
			ok = ok && q <= 1.1*mean
			s = append(s, fmt.Sprintf("%.0f", q))
		}
		return strings.Join(s, "/"), qps, mean, ok
	}
	setRebalancing(true)
	// Leases alone: the hot ones spread over nodes 1-3, two on one of
	// them (once the figures show it: each of nodes 1-3 serves at least
	// half the mean); node 4 gets none, nor a hot replica, and the loads
	// stay out of the band.
	waitFor(t, time.Minute, func() error {
		_, hotOn, holders := counts()
		if hotOn[4] {
			t.Fatalf("node 4 took a hot replica with load-based replica rebalancing off")
		}
		l, qps, mean, _ := loads()
		if holders[1] == 0 || holders[2] == 0 || holders[3] == 0 || min(qps[0], qps[1], qps[2]) < mean/2 {
			return errors.Newf("hot leases per node %v (loads %s)", holders, l)
		}
		return nil
	})
	if l, _, _, ok := loads(); ok {
		t.Fatalf("loads %s within the band with the hot replicas on nodes 1-3 only", l)
	} else {
		t.Logf("leases alone: loads %s", l)
	}
	start := hlc.PhysicalNow()
	setReplicasByLoad(true)
	waitFor(t, time.Minute, func() error {
		_, _, holders := counts()
		l, _, _, ok := loads()
		if holders[1] != 1 || holders[2] != 1 || holders[3] != 1 || holders[4] != 1 || !ok {
			return errors.Newf("hot leases per node %v, loads %s", holders, l)
		}
		return nil
	})
	l, _, _, _ := loads()
	replicas, _, _ := counts()
	t.Logf("balanced by load %s after the setting went on: loads %s, replica counts %v", hlc.PhysicalNow().Sub(start), l, replicas)
	for _, r := range ranges() {
		if len(r.Voters) != 3 {
			t.Fatalf("r%d has voters %v", r.RangeID, r.Voters)
		}
	}
}
