package server

import (
	"testing"

	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/meridiandb/meridian/sql/catalog"
)

// TestAllocateDecisions checks the allocator's choices one at a time on
// a pool of five stores (regions a, b, b, b, c).
func TestAllocateDecisions(t *testing.T) {
	region := map[int32]string{1: "a", 2: "b", 3: "c", 4: "b", 5: "b"}
	pool := func(replicas, leases map[int32]int64) map[int32]*storeInfo {
		out := map[int32]*storeInfo{}
		for id, r := range region {
			out[id] = &storeInfo{
				desc:   &serverpb.NodeDescriptor{NodeId: id, StoreId: id, Locality: []*serverpb.Tier{{Key: "region", Value: r}}},
				usable: true, healthy: true, known: true, replicas: replicas[id], leases: leases[id],
			}
		}
		return out
	}
	desc := func(nodes ...int32) *rangepb.RangeDescriptor {
		d := &rangepb.RangeDescriptor{RangeId: 7}
		for i, n := range nodes {
			d.Replicas = append(d.Replicas, &rangepb.ReplicaDescriptor{NodeId: n, StoreId: n, ReplicaId: int32(i + 1)})
		}
		return d
	}
	inB, _ := catalog.ParseConstraints("[+region=b]")
	prefer4 := [][]catalog.Constraint{{{Required: true, Key: "region", Value: "b"}}}
	even := map[int32]int64{1: 10, 2: 10, 3: 10, 4: 10, 5: 10}

	for _, tc := range []struct {
		name      string
		rv        *rangeView
		rebalance bool
		check     func(replicaAction, bool) bool
	}{
		{"up-replicate onto a store the constraints allow",
			&rangeView{desc: desc(2), self: 2, place: catalog.Placement{NumReplicas: 3, Constraints: inB}, stores: pool(even, even)}, false,
			func(a replicaAction, ok bool) bool { return ok && a.add != nil && region[a.add.NodeId] == "b" }},
		{"replace a voter outside b, adding first",
			&rangeView{desc: desc(1, 2, 4), self: 2, place: catalog.Placement{NumReplicas: 3, Constraints: inB}, stores: pool(even, even)}, false,
			func(a replicaAction, ok bool) bool { return ok && a.add != nil && a.add.NodeId == 5 && a.remove == nil }},
		{"then remove the voter outside b",
			&rangeView{desc: desc(1, 2, 4, 5), self: 2, place: catalog.Placement{NumReplicas: 3, Constraints: inB}, stores: pool(even, even)}, false,
			func(a replicaAction, ok bool) bool { return ok && a.remove != nil && a.remove.NodeId == 1 }},
		{"no store in b left: keep the violating voter rather than drop below num_replicas",
			&rangeView{desc: desc(1, 2, 4, 5), self: 2, place: catalog.Placement{NumReplicas: 4, Constraints: inB}, stores: pool(even, even)}, false,
			func(a replicaAction, ok bool) bool { return !ok }},
		{"the leaseholder's own replica goes: hand the lease on first",
			&rangeView{desc: desc(1, 2, 4, 5), self: 1, place: catalog.Placement{NumReplicas: 3, Constraints: inB}, stores: pool(even, even)}, false,
			func(a replicaAction, ok bool) bool {
				return ok && a.transferTo != nil && region[a.transferTo.NodeId] == "b"
			}},
		{"the lease moves to its preferred region",
			&rangeView{desc: desc(1, 3, 4), self: 1, place: catalog.Placement{NumReplicas: 3, LeasePreferences: prefer4}, stores: pool(even, even)}, false,
			func(a replicaAction, ok bool) bool { return ok && a.transferTo != nil && a.transferTo.NodeId == 4 }},
		{"balanced: nothing to do",
			&rangeView{desc: desc(1, 2, 3), self: 1, place: catalog.Placement{NumReplicas: 3}, stores: pool(even, even)}, true,
			func(a replicaAction, ok bool) bool { return !ok }},
		{"an empty store takes a replica from a full one (add, then remove)",
			&rangeView{desc: desc(1, 2, 3), self: 1, place: catalog.Placement{NumReplicas: 3},
				stores: pool(map[int32]int64{1: 20, 2: 20, 3: 20, 4: 0, 5: 0}, even)}, true,
			func(a replicaAction, ok bool) bool {
				return ok && a.add != nil && (a.add.NodeId == 4 || a.add.NodeId == 5) && a.thenRemove != nil && a.thenRemove.NodeId != 1
			}},
		{"rebalancing off: no move",
			&rangeView{desc: desc(1, 2, 3), self: 1, place: catalog.Placement{NumReplicas: 3},
				stores: pool(map[int32]int64{1: 20, 2: 20, 3: 20, 4: 0, 5: 0}, even)}, false,
			func(a replicaAction, ok bool) bool { return !ok }},
		{"leases balance towards a store with few",
			&rangeView{desc: desc(1, 2, 3), self: 1, place: catalog.Placement{NumReplicas: 3},
				stores: pool(even, map[int32]int64{1: 30, 2: 2, 3: 10, 4: 10, 5: 10})}, true,
			func(a replicaAction, ok bool) bool { return ok && a.transferTo != nil && a.transferTo.NodeId == 2 }},
		{"too many leases, no voter to take one: a voter moves to a store with few leases",
			&rangeView{desc: desc(1, 2, 3), self: 1, place: catalog.Placement{NumReplicas: 3},
				stores: pool(map[int32]int64{1: 60, 2: 60, 3: 60, 4: 60, 5: 60}, map[int32]int64{1: 30, 2: 20, 3: 20, 4: 15, 5: 15})}, true,
			func(a replicaAction, ok bool) bool {
				return ok && a.add != nil && (a.add.NodeId == 4 || a.add.NodeId == 5) && a.thenRemove != nil && (a.thenRemove.NodeId == 2 || a.thenRemove.NodeId == 3)
			}},
		{"a joint configuration is left to finish",
			&rangeView{desc: &rangepb.RangeDescriptor{Replicas: []*rangepb.ReplicaDescriptor{{NodeId: 1, Type: rangepb.ReplicaType_VOTER_DEMOTING_LEARNER}, {NodeId: 2}}},
				self: 2, place: catalog.Placement{NumReplicas: 3}, stores: pool(even, even)}, true,
			func(a replicaAction, ok bool) bool { return !ok }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := allocate(tc.rv, tc.rebalance)
			if !tc.check(a, ok) {
				t.Errorf("got %+v (ok %v)", a, ok)
			}
		})
	}
}

// TestAllocateLeasesByLoad: under load the lease of a range its store
// serves too much of goes to the least loaded voter, as long as that
// narrows the gap; without load (or with the setting off) lease counts
// decide as before.
func TestAllocateLeasesByLoad(t *testing.T) {
	pool := func(qps map[int32]float64, leases map[int32]int64) map[int32]*storeInfo {
		out := map[int32]*storeInfo{}
		for id := int32(1); id <= 3; id++ {
			out[id] = &storeInfo{desc: &serverpb.NodeDescriptor{NodeId: id, StoreId: id},
				usable: true, healthy: true, known: true, replicas: 10, leases: leases[id], qps: qps[id]}
		}
		return out
	}
	d := &rangepb.RangeDescriptor{RangeId: 7, Replicas: []*rangepb.ReplicaDescriptor{
		{NodeId: 1, StoreId: 1, ReplicaId: 1}, {NodeId: 2, StoreId: 2, ReplicaId: 2}, {NodeId: 3, StoreId: 3, ReplicaId: 3}}}
	evenLeases := map[int32]int64{1: 5, 2: 5, 3: 5}
	for _, tc := range []struct {
		name   string
		qps    map[int32]float64
		leases map[int32]int64
		rqps   float64
		byLoad bool
		want   int32 // the lease's new store; 0: no move
	}{
		{"a hot store hands a hot range to the coolest voter", map[int32]float64{1: 900, 2: 100, 3: 200}, evenLeases, 300, true, 2},
		{"the move would only move the hot spot: kept", map[int32]float64{1: 900, 2: 100, 3: 200}, evenLeases, 850, true, 0},
		{"the receiver would serve as much as the giver did: kept", map[int32]float64{1: 600, 2: 300, 3: 300}, evenLeases, 300, true, 0},
		{"this store is not above the mean: kept", map[int32]float64{1: 300, 2: 300, 3: 300}, evenLeases, 100, true, 0},
		{"a cold range of a hot store: moving it changes nothing much, but narrows the gap", map[int32]float64{1: 900, 2: 100, 3: 200}, evenLeases, 1, true, 2},
		{"under load, counts balance by cold leases", map[int32]float64{1: 300, 2: 300, 3: 300}, map[int32]int64{1: 30, 2: 2, 3: 10}, 10, true, 2},
		{"under load, counts do not move a hot lease", map[int32]float64{1: 300, 2: 300, 3: 300}, map[int32]int64{1: 30, 2: 2, 3: 10}, 100, true, 0},
		{"little load: counts decide", map[int32]float64{1: 90, 2: 5, 3: 5}, map[int32]int64{1: 30, 2: 2, 3: 10}, 10, true, 2},
		{"load-based balancing off: counts decide", map[int32]float64{1: 900, 2: 100, 3: 200}, evenLeases, 300, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stores := pool(tc.qps, tc.leases)
			rv := &rangeView{desc: d, self: 1, place: catalog.Placement{NumReplicas: 3}, stores: stores, qps: tc.rqps, leasesByLoad: tc.byLoad}
			a, ok := allocate(rv, true)
			switch {
			case tc.want == 0 && ok:
				t.Fatalf("moved: %+v", a)
			case tc.want != 0 && (!ok || a.transferTo == nil || a.transferTo.NodeId != tc.want):
				t.Fatalf("got %+v (ok %v), want the lease to %d", a, ok, tc.want)
			case tc.want != 0 && tc.byLoad && (tc.qps[1]+tc.qps[2]+tc.qps[3])/3 >= minLoadForBalancing &&
				(stores[1].qps != tc.qps[1]-tc.rqps || stores[tc.want].qps != tc.qps[tc.want]+tc.rqps):
				t.Fatalf("the pool's load is not moved with the lease: %v, %v", stores[1].qps, stores[tc.want].qps)
			}
		})
	}
}

// TestAllocateKeepsVotersWhenStoresLookDown: with fewer stores live than
// num_replicas (a liveness blip), no healthy voter is removed.
func TestAllocateKeepsVotersWhenStoresLookDown(t *testing.T) {
	stores := map[int32]*storeInfo{}
	for id := int32(1); id <= 5; id++ {
		stores[id] = &storeInfo{desc: &serverpb.NodeDescriptor{NodeId: id}, usable: id == 1, healthy: true, known: true}
	}
	d := &rangepb.RangeDescriptor{Replicas: []*rangepb.ReplicaDescriptor{{NodeId: 1, ReplicaId: 1}, {NodeId: 2, ReplicaId: 2}, {NodeId: 3, ReplicaId: 3}}}
	if a, ok := allocate(&rangeView{desc: d, self: 1, place: catalog.Placement{NumReplicas: 3}, stores: stores}, true); ok {
		t.Fatalf("allocated %+v", a)
	}
}

// TestAllocateReplicasByLoad: under load, where the lease of a hot range
// cannot go to a voter that would serve less than its store does, a
// replica moves to a cooler store (added, then another voter removed, the
// leaseholder's own kept), and the lease follows it; cold ranges, moves
// that would only move the hot spot, stores the constraints or locality
// diversity rule out, and the settings off move nothing; under load,
// replica counts balance only onto stores that stay within the load band.
func TestAllocateReplicasByLoad(t *testing.T) {
	type store struct {
		qps      float64
		replicas int64
		region   string
	}
	pool := func(s map[int32]store) map[int32]*storeInfo {
		out := map[int32]*storeInfo{}
		for id, st := range s {
			if st.region == "" {
				st.region = "r"
			}
			out[id] = &storeInfo{desc: &serverpb.NodeDescriptor{NodeId: id, StoreId: id, Locality: []*serverpb.Tier{{Key: "region", Value: st.region}}},
				usable: true, healthy: true, known: true, replicas: st.replicas, leases: 5, qps: st.qps}
		}
		return out
	}
	loads := func(q1, q2, q3, q4 float64) map[int32]store {
		return map[int32]store{1: {q1, 10, ""}, 2: {q2, 10, ""}, 3: {q3, 10, ""}, 4: {q4, 10, ""}}
	}
	desc := func(nodes ...int32) *rangepb.RangeDescriptor {
		d := &rangepb.RangeDescriptor{RangeId: 7}
		for i, n := range nodes {
			d.Replicas = append(d.Replicas, &rangepb.ReplicaDescriptor{NodeId: n, StoreId: n, ReplicaId: int32(i + 1)})
		}
		return d
	}
	notD, _ := catalog.ParseConstraints("[-region=d]")
	type want struct {
		add, remove, lease int32 // 0: none of it
	}
	for _, tc := range []struct {
		name   string
		voters []int32
		stores map[int32]store
		place  catalog.Placement
		rqps   float64
		// leasesOff, replicasOff, wait: the settings off, a load move
		// made too recently.
		leasesOff, replicasOff, wait bool
		want                         want
	}{
		{name: "the voters are as loaded as the leaseholder's store: a replica moves to the cool store, the fullest other voter goes",
			voters: []int32{1, 2, 3}, stores: map[int32]store{1: {2000, 10, ""}, 2: {1000, 11, ""}, 3: {1000, 10, ""}, 4: {0, 10, ""}}, rqps: 1000,
			want: want{add: 4, remove: 2}},
		{name: "then the lease follows",
			voters: []int32{1, 3, 4}, stores: loads(2000, 1000, 1000, 0), rqps: 1000, want: want{lease: 4}},
		{name: "a voter can take the load: the lease moves, not a replica",
			voters: []int32{1, 2, 3}, stores: loads(2000, 500, 1000, 500), rqps: 1000, want: want{lease: 2}},
		{name: "the receiver would serve as much as the giver did: kept",
			voters: []int32{1, 2, 3}, stores: loads(1500, 1500, 1500, 500), rqps: 1000},
		{name: "a cold range is not worth a snapshot",
			voters: []int32{1, 2, 3}, stores: loads(2000, 2000, 2000, 0), rqps: 50},
		{name: "this store is within the band: kept",
			voters: []int32{1, 2, 3}, stores: loads(1050, 1050, 1050, 850), rqps: 1000},
		{name: "little load: counts decide",
			voters: []int32{1, 2, 3}, stores: loads(120, 40, 40, 0), rqps: 120},
		{name: "replica rebalancing by load off",
			voters: []int32{1, 2, 3}, stores: loads(2000, 1000, 1000, 0), rqps: 1000, replicasOff: true},
		{name: "lease rebalancing by load off: the lease could not follow",
			voters: []int32{1, 2, 3}, stores: loads(2000, 1000, 1000, 0), rqps: 1000, leasesOff: true},
		{name: "a load move was just made: wait for the figures",
			voters: []int32{1, 2, 3}, stores: loads(2000, 1000, 1000, 0), rqps: 1000, wait: true},
		{name: "the cool store is outside the constraints",
			voters: []int32{1, 2, 3}, stores: map[int32]store{1: {2000, 10, ""}, 2: {1000, 10, ""}, 3: {1000, 10, ""}, 4: {0, 10, "d"}},
			place: catalog.Placement{NumReplicas: 3, Constraints: notD}, rqps: 1000},
		{name: "diversity: the voter in the receiver's region goes",
			voters: []int32{1, 2, 3}, stores: map[int32]store{1: {2000, 10, "a"}, 2: {1000, 10, "b"}, 3: {1000, 12, "c"}, 4: {0, 10, "b"}}, rqps: 1000,
			want: want{add: 4, remove: 2}},
		{name: "diversity: no voter shares the receiver's region, kept",
			voters: []int32{1, 2, 3}, stores: map[int32]store{1: {2000, 10, "a"}, 2: {1000, 10, "b"}, 3: {1000, 10, "c"}, 4: {0, 10, "a"}}, rqps: 1000},
		{name: "the lease could not follow: the cool store ranks below in the lease preferences",
			voters: []int32{1, 2, 3}, stores: map[int32]store{1: {2000, 10, ""}, 2: {1000, 10, ""}, 3: {1000, 10, ""}, 4: {0, 10, "d"}},
			place: catalog.Placement{NumReplicas: 3, LeasePreferences: [][]catalog.Constraint{{{Required: true, Key: "region", Value: "r"}}}}, rqps: 1000},
		{name: "a range of one voter does not move by load",
			voters: []int32{1}, stores: loads(2000, 1000, 1000, 0), place: catalog.Placement{NumReplicas: 1}, rqps: 1000},
		{name: "under load, counts move a cold replica to a store with few",
			voters: []int32{1, 2, 3}, stores: map[int32]store{1: {1000, 12, ""}, 2: {1000, 12, ""}, 3: {1000, 12, ""}, 4: {1000, 4, ""}}, rqps: 50,
			want: want{add: 4, remove: 3}},
		{name: "under load, counts do not move a hot replica to a store it would load beyond the band",
			voters: []int32{1, 2, 3}, stores: map[int32]store{1: {1000, 12, ""}, 2: {1000, 12, ""}, 3: {1000, 12, ""}, 4: {1000, 4, ""}}, rqps: 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			place := tc.place
			if place.NumReplicas == 0 {
				place.NumReplicas = 3
			}
			stores := pool(tc.stores)
			rv := &rangeView{desc: desc(tc.voters...), self: 1, place: place, stores: stores, qps: tc.rqps,
				leasesByLoad: !tc.leasesOff, replicasByLoad: !tc.replicasOff, loadWait: tc.wait}
			a, ok := allocate(rv, true)
			var got want
			if a.add != nil {
				got.add = a.add.NodeId
			}
			if a.thenRemove != nil {
				got.remove = a.thenRemove.NodeId
			}
			if a.transferTo != nil {
				got.lease = a.transferTo.NodeId
			}
			if ok != (tc.want != want{}) || got != tc.want || a.remove != nil {
				t.Fatalf("got %+v (ok %v), want %+v", a, ok, tc.want)
			}
			if got.add != 0 && (stores[got.add].replicas != tc.stores[got.add].replicas+1 || stores[got.remove].replicas != tc.stores[got.remove].replicas-1) {
				t.Fatalf("the pool's counts are not moved with the replica")
			}
		})
	}
}
