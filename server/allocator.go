package server

import (
	"math/rand/v2"
	"sort"

	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/sql/catalog"
)

// The allocator decides the next change to one range, as its
// leaseholder sees it: a pure function of the range's descriptor, its
// zone's placement rules and the store pool, so that it can be tested
// alone. In order of urgency:
//
//  1. up-replicate to the zone's num_replicas (as far as there are live
//     stores), onto a store the constraints allow, the most diverse in
//     locality (region, then zone), then the least full;
//  2. replace the replicas of dead and decommissioning stores (added
//     first, then removed);
//  3. remove a voter beyond the zone's num_replicas: one on an unhealthy store, else one that
//     violates the constraints, else the least diverse, else the one on
//     the fullest store (the lease moves off first if it is this
//     node's);
//  4. replace a voter that violates the constraints, when a store that
//     satisfies them has no replica (added first: 3 removes it);
//  5. move the lease to the most preferred voter (lease_preferences);
//  6. with rebalancing on, under load, balance the stores' load: by a
//     lease (rebalanceLeaseByLoad), else by a replica the lease can follow
//     (rebalanceReplicasByLoad); then balance replica counts and lease
//     counts, under load only by moves that keep the receiver within the
//     load band (so that they never undo a load move):
//     a store more than rebalanceThreshold above the mean gives to one
//     below the mean, and one more than the threshold below it takes
//     from one above it, only if that narrows the gap (by two or more)
//     and the replica that would be removed after the addition is the
//     overfull one (so diversity and constraints never get worse); a
//     store with too many leases whose ranges' other voters cannot take
//     one moves one of those voters to a store with few leases first.
//
// A range in a joint configuration is left to finish. Every replica
// change is one joint-consensus step in the range layer; a range never
// loses a voter before its replacement is added.

// rebalanceThreshold is how far (a fraction of the mean) a store's count
// may stray from the mean before the allocator moves replicas or leases.
// Half of the ±10% the balance tests hold to.
const rebalanceThreshold = 0.05

// replicaAction is what the queue does next to one range.
type replicaAction struct {
	add, remove *rangepb.ReplicaChange
	// thenRemove follows add at once (a rebalance: add, then remove).
	thenRemove *rangepb.ReplicaChange
	// transferTo moves the lease (before this node's own replica goes,
	// to a preferred store, or to balance leases).
	transferTo *rangepb.ReplicaDescriptor
	// splitAt splits the range where its zone changes.
	splitAt []byte
	reason  string
	// byLoad: a lease or replica moved to balance load
	// (rebalanceLeaseByLoad, rebalanceReplicasByLoad).
	byLoad bool
}

// rangeView is one range as the allocator sees it.
type rangeView struct {
	desc *rangepb.RangeDescriptor
	// self is this node, the range's leaseholder.
	self   int32
	place  catalog.Placement
	stores map[int32]*storeInfo
	// qps is the requests per second the range serves.
	qps float64
	// leasesByLoad and replicasByLoad turn on the balancing of leases
	// and of replicas by load (the cluster settings; replicas only with
	// leases: the lease follows the replica by the lease rule).
	leasesByLoad, replicasByLoad bool
	// loadWait: this node moved something by load too recently for the
	// figures to show it; no load move now, but count moves still keep
	// to the load band.
	loadWait bool
}

func (rv *rangeView) loc(node int32) catalog.Locality {
	if s, ok := rv.stores[node]; ok {
		return s.locality
	}
	return func(string) (string, bool) { return "", false }
}

func (rv *rangeView) valid(node int32) bool { return rv.place.VoterOK(rv.loc(node)) }

func (rv *rangeView) healthy(node int32) bool {
	s, ok := rv.stores[node]
	return ok && s.healthy
}

func (rv *rangeView) usable(node int32) bool {
	s, ok := rv.stores[node]
	return ok && s.usable
}

func (rv *rangeView) count(node int32) int64 {
	if s, ok := rv.stores[node]; ok {
		return s.replicas
	}
	return 0
}

// diversity scores how much node's locality overlaps with the others':
// the deeper the shared prefix of tiers, the worse (higher).
func (rv *rangeView) diversity(node int32, others []int32) int {
	c, ok := rv.stores[node]
	if !ok {
		return 0
	}
	score := 0
	for _, o := range others {
		m, ok := rv.stores[o]
		if !ok || o == node {
			continue
		}
		for i := 0; i < len(c.desc.Locality) && i < len(m.desc.Locality); i++ {
			if c.desc.Locality[i].Key != m.desc.Locality[i].Key || c.desc.Locality[i].Value != m.desc.Locality[i].Value {
				break
			}
			score += 1 << (8 - min(i, 8))
		}
	}
	return score
}

// candidates are the usable stores without a replica of the range that
// the constraints allow.
func (rv *rangeView) candidates() []int32 {
	has := map[int32]bool{}
	for _, rd := range rv.desc.Replicas {
		has[rd.NodeId] = true
	}
	var out []int32
	for id, s := range rv.stores {
		if s.usable && !has[id] && rv.valid(id) {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// pickAdd is the best of cands to join existing: most diverse, then
// least full, at random among equals.
func (rv *rangeView) pickAdd(cands, existing []int32) int32 {
	var best []int32
	bestDiv, bestCount := 0, int64(0)
	for _, c := range cands {
		d, n := rv.diversity(c, existing), rv.count(c)
		switch {
		case len(best) == 0 || d < bestDiv || d == bestDiv && n < bestCount:
			best, bestDiv, bestCount = []int32{c}, d, n
		case d == bestDiv && n == bestCount:
			best = append(best, c)
		}
	}
	return best[rand.IntN(len(best))]
}

// pickRemove is the voter to remove of voters: unhealthy, then
// violating the constraints, then least diverse, then fullest; of equals,
// not this node's (its removal needs a lease transfer first), then the
// highest node ID.
func (rv *rangeView) pickRemove(voters []int32) int32 {
	type key struct {
		unhealthy, invalid bool
		div                int
		count              int64
		notSelf            bool
		id                 int32
	}
	worse := func(a, b key) bool { // a is a better removal than b
		switch {
		case a.unhealthy != b.unhealthy:
			return a.unhealthy
		case a.invalid != b.invalid:
			return a.invalid
		case a.div != b.div:
			return a.div > b.div
		case a.count != b.count:
			return a.count > b.count
		case a.notSelf != b.notSelf:
			return a.notSelf
		}
		return a.id > b.id
	}
	var best key
	for i, v := range voters {
		k := key{!rv.healthy(v), !rv.valid(v), rv.diversity(v, voters), rv.count(v), v != rv.self, v}
		if i == 0 || worse(k, best) {
			best = k
		}
	}
	return best.id
}

// leaseTarget is the voter other than this node's that should hold the
// lease: usable, the most preferred, then the fewest leases.
func (rv *rangeView) leaseTarget(voters []*rangepb.ReplicaDescriptor) *rangepb.ReplicaDescriptor {
	var best *rangepb.ReplicaDescriptor
	bestRank, bestLeases := 0, int64(0)
	for _, rd := range voters {
		if rd.NodeId == rv.self || !rv.usable(rd.NodeId) {
			continue
		}
		r, l := rv.place.LeaseRank(rv.loc(rd.NodeId)), rv.stores[rd.NodeId].leases
		if best == nil || r < bestRank || r == bestRank && l < bestLeases {
			best, bestRank, bestLeases = rd, r, l
		}
	}
	return best
}

func addVoter(node int32) *rangepb.ReplicaChange {
	return &rangepb.ReplicaChange{Type: rangepb.ChangeType_ADD_VOTER, NodeId: node, StoreId: node}
}

func removeVoter(rd *rangepb.ReplicaDescriptor) *rangepb.ReplicaChange {
	return &rangepb.ReplicaChange{Type: rangepb.ChangeType_REMOVE_VOTER, NodeId: rd.NodeId, StoreId: rd.StoreId}
}

// allocate decides the range's next change, if any (see the file's
// comment for the order).
func allocate(rv *rangeView, rebalance bool) (replicaAction, bool) {
	var voters []*rangepb.ReplicaDescriptor
	var voterIDs, healthy []int32
	byNode := map[int32]*rangepb.ReplicaDescriptor{}
	for _, rd := range rv.desc.Replicas {
		switch rd.Type {
		case rangepb.ReplicaType_VOTER_FULL:
			voters = append(voters, rd)
			voterIDs = append(voterIDs, rd.NodeId)
			byNode[rd.NodeId] = rd
			if rv.healthy(rd.NodeId) {
				healthy = append(healthy, rd.NodeId)
			}
		case rangepb.ReplicaType_LEARNER:
		default:
			return replicaAction{}, false // a joint configuration: let it finish
		}
	}
	usable := 0
	for _, s := range rv.stores {
		if s.usable {
			usable++
		}
	}
	want := min(rv.place.NumReplicas, usable)
	cands := rv.candidates()
	// removeOrHandOff removes node's voter, or hands this node's lease
	// on first.
	removeOrHandOff := func(node int32, reason string) (replicaAction, bool) {
		if node == rv.self {
			if t := rv.leaseTarget(voters); t != nil {
				return replicaAction{transferTo: t, reason: "lease off a replica to remove: " + reason}, true
			}
			return replicaAction{}, false
		}
		return replicaAction{remove: removeVoter(byNode[node]), reason: reason}, true
	}

	// 1. Up-replicate.
	if len(healthy) < want && len(cands) > 0 {
		return replicaAction{add: addVoter(rv.pickAdd(cands, healthy)), reason: "up-replicate"}, true
	}
	// 2. Remove the replicas of unhealthy stores once replaced.
	if len(healthy) < len(voters) && len(healthy) >= want && len(healthy) > 0 {
		for _, v := range voterIDs {
			if !rv.healthy(v) {
				return removeOrHandOff(v, "replica on a dead or decommissioning store")
			}
		}
	}
	// 3. A voter too many: more than the zone asks for (never because
	// fewer stores look live right now: a liveness blip must not cost a
	// range its replicas).
	if len(voters) > rv.place.NumReplicas && len(healthy) >= rv.place.NumReplicas {
		return removeOrHandOff(rv.pickRemove(voterIDs), "over-replicated")
	}
	// 4. Replace a voter that violates the constraints.
	for _, v := range voterIDs {
		if !rv.valid(v) && len(cands) > 0 {
			var kept []int32
			for _, o := range voterIDs {
				if o != v {
					kept = append(kept, o)
				}
			}
			return replicaAction{add: addVoter(rv.pickAdd(cands, kept)), reason: "replace a voter that violates the constraints"}, true
		}
	}
	// 5. Lease preferences.
	if len(rv.place.LeasePreferences) > 0 {
		if t := rv.leaseTarget(voters); t != nil && rv.place.LeaseRank(rv.loc(t.NodeId)) < rv.place.LeaseRank(rv.loc(rv.self)) {
			return replicaAction{transferTo: t, reason: "lease preference"}, true
		}
	}
	if !rebalance {
		return replicaAction{}, false
	}
	// 6. Balance load, then replica counts, then lease counts.
	meanLoad, loaded := rv.meanLoad()
	if loaded && !rv.loadWait {
		if act, ok := rv.rebalanceLeaseByLoad(voters, meanLoad); ok {
			return act, true
		}
		if act, ok := rv.rebalanceReplicasByLoad(voterIDs, byNode, cands, meanLoad); ok {
			return act, true
		}
	}
	if act, ok := rv.rebalanceReplicas(voterIDs, byNode, cands); ok {
		return act, true
	}
	if act, ok := rv.rebalanceLease(voters); ok {
		return act, true
	}
	return rv.rebalanceForLease(voterIDs, byNode, cands)
}

// loadOK says whether node may take this range's load (its lease, or a
// replica the lease may follow to) without going above the load band:
// the limit count moves keep to under load.
func (rv *rangeView) loadOK(node int32) bool {
	mean, loaded := rv.meanLoad()
	s, ok := rv.stores[node]
	return !loaded || ok && s.qps+rv.qps <= mean*(1+loadRebalanceThreshold)
}

// means returns the mean replica count (over the usable stores the
// constraints allow) and lease count (over the usable stores); ok is
// false while a usable store's counts are unknown.
func (rv *rangeView) means() (replicas, leases float64, ok bool) {
	var sumR, sumL float64
	nR, nL := 0, 0
	for id, s := range rv.stores {
		if !s.usable {
			continue
		}
		if !s.known {
			return 0, 0, false
		}
		sumL += float64(s.leases)
		nL++
		if rv.valid(id) {
			sumR += float64(s.replicas)
			nR++
		}
	}
	if nR == 0 || nL == 0 {
		return 0, 0, false
	}
	return sumR / float64(nR), sumL / float64(nL), true
}

// rebalanceForLease moves a replica so that a lease can follow: when
// this node holds too many leases and none of the range's other voters
// can take one (they are at the mean or above), a voter other than this
// node's moves to a store with few leases, if replica counts stay within
// the threshold of their mean, locality diversity does not get worse and,
// under load, the receiver could take the lease within the load band.
// The lease follows in a later pass (rebalanceLease). Without it, replica
// counts can balance while one store keeps the leases of ranges whose
// other replicas are all on stores with as many leases as the mean.
func (rv *rangeView) rebalanceForLease(voterIDs []int32, byNode map[int32]*rangepb.ReplicaDescriptor, cands []int32) (replicaAction, bool) {
	meanR, meanL, ok := rv.means()
	self, selfOK := rv.stores[rv.self]
	if !ok || !selfOK || float64(self.leases) <= meanL*(1+rebalanceThreshold) || len(cands) == 0 {
		return replicaAction{}, false
	}
	to := append([]int32(nil), cands...)
	sort.Slice(to, func(i, j int) bool { return rv.stores[to[i]].leases < rv.stores[to[j]].leases })
	for _, s := range voterIDs {
		if _, known := rv.stores[s]; s == rv.self || !known {
			continue
		}
		var kept []int32
		for _, v := range voterIDs {
			if v != s {
				kept = append(kept, v)
			}
		}
		for _, t := range to {
			ts := rv.stores[t]
			if float64(ts.leases) >= meanL || self.leases-ts.leases < 2 {
				break
			}
			if float64(ts.replicas+1) > meanR*(1+rebalanceThreshold) || float64(rv.count(s)-1) < meanR*(1-rebalanceThreshold) ||
				rv.diversity(t, kept) > rv.diversity(s, kept) || !rv.loadOK(t) {
				continue
			}
			ts.replicas++
			rv.stores[s].replicas--
			return replicaAction{add: addVoter(t), thenRemove: removeVoter(byNode[s]), reason: "rebalance replicas"}, true
		}
	}
	return replicaAction{}, false
}

// overfull and underfull say whether moving one from a store with from
// to one with to brings counts closer to mean (see the file's comment).
func shouldMove(from, to int64, mean float64) bool {
	if from-to < 2 {
		return false
	}
	hi, lo := mean*(1+rebalanceThreshold), mean*(1-rebalanceThreshold)
	return float64(from) > hi && float64(to) < mean || float64(to) < lo && float64(from) > mean
}

// rebalanceReplicas balances replica counts (see the file's comment);
// under load, only onto stores that stay within the load band (loadOK).
func (rv *rangeView) rebalanceReplicas(voterIDs []int32, byNode map[int32]*rangepb.ReplicaDescriptor, cands []int32) (replicaAction, bool) {
	var sum float64
	n := 0
	for id, s := range rv.stores {
		if !s.usable {
			continue
		}
		if !s.known {
			return replicaAction{}, false // a store's counts are unknown: balance later
		}
		if rv.valid(id) {
			sum += float64(s.replicas)
			n++
		}
	}
	if n == 0 || len(cands) == 0 {
		return replicaAction{}, false
	}
	mean := sum / float64(n)
	from := append([]int32(nil), voterIDs...)
	sort.Slice(from, func(i, j int) bool { return rv.count(from[i]) > rv.count(from[j]) })
	to := append([]int32(nil), cands...)
	sort.Slice(to, func(i, j int) bool { return rv.count(to[i]) < rv.count(to[j]) })
	for _, s := range from {
		if _, known := rv.stores[s]; !known {
			continue
		}
		for _, t := range to {
			if !shouldMove(rv.count(s), rv.count(t), mean) {
				break
			}
			if !rv.loadOK(t) {
				// The lease could follow and load t beyond the band: the
				// load rule would move the replica back.
				continue
			}
			// After adding t, would s be the one to go?
			rv.stores[t].replicas++
			gone := rv.pickRemove(append(append([]int32(nil), voterIDs...), t))
			rv.stores[t].replicas--
			if gone != s {
				continue
			}
			if s == rv.self {
				// The lease must leave s first; the new leaseholder
				// carries on.
				continue
			}
			rv.stores[t].replicas++
			rv.stores[s].replicas--
			return replicaAction{add: addVoter(t), thenRemove: removeVoter(byNode[s]), reason: "rebalance replicas"}, true
		}
	}
	return replicaAction{}, false
}

// rebalanceLease moves the lease to even out the stores' lease counts; a
// move must not then load its receiver beyond the load band (the load
// rule would hand the lease back).
func (rv *rangeView) rebalanceLease(voters []*rangepb.ReplicaDescriptor) (replicaAction, bool) {
	var sum float64
	n := 0
	for _, s := range rv.stores {
		if s.usable {
			if !s.known {
				return replicaAction{}, false
			}
			sum += float64(s.leases)
			n++
		}
	}
	self, ok := rv.stores[rv.self]
	if n == 0 || !ok {
		return replicaAction{}, false
	}
	mean := sum / float64(n)
	rank := rv.place.LeaseRank(rv.loc(rv.self))
	var best *rangepb.ReplicaDescriptor
	for _, rd := range voters {
		s, ok := rv.stores[rd.NodeId]
		if rd.NodeId == rv.self || !ok || !s.usable || rv.place.LeaseRank(rv.loc(rd.NodeId)) != rank || !rv.loadOK(rd.NodeId) {
			continue
		}
		if best == nil || s.leases < rv.stores[best.NodeId].leases {
			best = rd
		}
	}
	if best == nil || !shouldMove(self.leases, rv.stores[best.NodeId].leases, mean) {
		return replicaAction{}, false
	}
	rv.moveLease(self, rv.stores[best.NodeId])
	return replicaAction{transferTo: best, reason: "rebalance leases"}, true
}

// moveLease moves the range's lease and load from one store to another in
// the pool, so that the rest of the pass sees them moved.
func (rv *rangeView) moveLease(from, to *storeInfo) {
	from.leases--
	to.leases++
	from.qps -= rv.qps
	to.qps += rv.qps
}

// Load-based lease balancing: where the stores serve at least
// minLoadForBalancing requests per second on average, a store serving
// more than loadRebalanceThreshold over the mean hands the lease of a
// range it serves to the voter whose store serves least, if the receiver
// then serves less than the giver did: every such move lowers the sum of
// the squares of the stores' loads, so on the same figures no lease moves
// back and forth. Below that load, lease counts alone decide.
const (
	minLoadForBalancing    = 50
	loadRebalanceThreshold = 0.1
)

// meanLoad returns the stores' mean load; loaded is false where load
// balancing is off, a usable store's load is unknown, or the mean is
// below minLoadForBalancing.
func (rv *rangeView) meanLoad() (mean float64, loaded bool) {
	if !rv.leasesByLoad && !rv.replicasByLoad {
		return 0, false
	}
	var sum float64
	n := 0
	for _, s := range rv.stores {
		if s.usable {
			if !s.known {
				return 0, false
			}
			sum += s.qps
			n++
		}
	}
	if n == 0 || sum/float64(n) < minLoadForBalancing {
		return 0, false
	}
	return sum / float64(n), true
}

// rebalanceLeaseByLoad is the load rule above.
func (rv *rangeView) rebalanceLeaseByLoad(voters []*rangepb.ReplicaDescriptor, mean float64) (replicaAction, bool) {
	self, ok := rv.stores[rv.self]
	if !rv.leasesByLoad || !ok || rv.qps <= 0 || self.qps <= mean*(1+loadRebalanceThreshold) {
		return replicaAction{}, false
	}
	rank := rv.place.LeaseRank(rv.loc(rv.self))
	var best *rangepb.ReplicaDescriptor
	for _, rd := range voters {
		s, ok := rv.stores[rd.NodeId]
		if rd.NodeId == rv.self || !ok || !s.usable || rv.place.LeaseRank(rv.loc(rd.NodeId)) != rank {
			continue
		}
		if best == nil || s.qps < rv.stores[best.NodeId].qps {
			best = rd
		}
	}
	if best == nil || rv.stores[best.NodeId].qps+rv.qps >= self.qps {
		return replicaAction{}, false
	}
	rv.moveLease(self, rv.stores[best.NodeId])
	return replicaAction{transferTo: best, reason: "rebalance leases", byLoad: true}, true
}

// Load-based replica balancing: where a store serving more than
// loadRebalanceThreshold over the mean cannot hand a range's lease to a
// voter that would then serve less than it does (rebalanceLeaseByLoad:
// the range's other replicas are on stores as loaded), a store without a
// replica of the range that would serve less, with the range's load, than
// the giver does now takes a replica of it, added before another voter
// goes (one request, joint consensus: never below the range's
// replication); the lease follows to it in a later pass by the lease
// rule, on the same inequality, so every such move also lowers the sum of
// the squares of the loads. Only a hot range moves (one serving at least
// loadRebalanceThreshold of the mean: a snapshot is not worth less), and
// only where the receiver satisfies the constraints, is as diverse as
// the voter it replaces and ranks with this store in the lease
// preferences (else the lease could not follow). The leaseholder's own
// voter stays (it holds the lease until the lease follows); of the
// others, the one on the fullest store goes, so a range of a single voter
// does not move.
//
// Like CockroachDB's store rebalancer, which moves replicas and leases by
// QPS where leases alone cannot even it out, simpler: one range at a
// time, from the leaseholder's own replicate queue.
func (rv *rangeView) rebalanceReplicasByLoad(voterIDs []int32, byNode map[int32]*rangepb.ReplicaDescriptor, cands []int32, mean float64) (replicaAction, bool) {
	self, ok := rv.stores[rv.self]
	if !rv.replicasByLoad || !rv.leasesByLoad || !ok || len(cands) == 0 ||
		rv.qps < loadRebalanceThreshold*mean || self.qps <= mean*(1+loadRebalanceThreshold) {
		return replicaAction{}, false
	}
	to := append([]int32(nil), cands...)
	sort.Slice(to, func(i, j int) bool {
		a, b := rv.stores[to[i]], rv.stores[to[j]]
		if a.qps != b.qps {
			return a.qps < b.qps
		}
		return a.replicas < b.replicas
	})
	rank := rv.place.LeaseRank(rv.loc(rv.self))
	for _, t := range to {
		ts := rv.stores[t]
		if !ts.known || ts.qps+rv.qps >= self.qps {
			break
		}
		if rv.place.LeaseRank(rv.loc(t)) != rank {
			continue // the lease could not follow
		}
		gone := int32(0)
		for _, s := range voterIDs {
			ss, known := rv.stores[s]
			if s == rv.self || !known {
				continue
			}
			var kept []int32
			for _, v := range voterIDs {
				if v != s {
					kept = append(kept, v)
				}
			}
			if rv.diversity(t, kept) > rv.diversity(s, kept) {
				continue
			}
			if gone == 0 || ss.replicas > rv.stores[gone].replicas || ss.replicas == rv.stores[gone].replicas && s > gone {
				gone = s
			}
		}
		if gone == 0 {
			continue
		}
		ts.replicas++
		rv.stores[gone].replicas--
		return replicaAction{add: addVoter(t), thenRemove: removeVoter(byNode[gone]), reason: "rebalance replicas", byLoad: true}, true
	}
	return replicaAction{}, false
}
